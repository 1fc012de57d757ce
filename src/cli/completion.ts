// Shell completion, pure part: which words fit at the cursor, given the command table (from
// oclif.manifest.json) and what the engine knows (labs that are up, their nodes and pods).
/** What an argument holds, for completion (a command's static `completion`). 'specs' and
 * 'targets' repeat for every further argument; a list of words is a fixed choice. */
export type ArgKind = 'lab' | 'lab-or-spec' | 'spec' | 'specs' | 'host' | 'target' | 'targets' | 'exercise' | 'exercises' | 'none';
export type ArgCompletion = ArgKind | readonly string[];

export interface CommandInfo {
  id: string; // "node add"
  flags: string[]; // "--json", "-n"
  args: ArgCompletion[];
  /** Flags that take a value ("--network", "-n"), with the values they allow (empty: any). */
  valueFlags?: Record<string, readonly string[]>;
  hidden?: boolean;
}

export interface LabWorld {
  labs(): Promise<string[]>;
  /** hosts, "host/pod" and external nodes of a lab. */
  members(lab: string): Promise<{ hosts: string[]; pods: string[]; nodes: string[] }>;
  /** Spec files under the current directory matching the prefix. */
  specFiles(prefix: string): Promise<string[]>;
  /** The labs that ship with overlab (`overlab labs`): a spec argument takes their names. */
  bundledLabs(): Promise<string[]>;
  /** The exercises that ship with overlab, by file name without .yaml ("01-veth-down"). */
  exercises(): Promise<string[]>;
}

const REPEATING: readonly ArgCompletion[] = ['specs', 'targets', 'exercises'];

/** `words` are the command line without the program name; the last one is being completed. */
export async function complete(words: string[], commands: CommandInfo[], world: LabWorld): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const visible = commands.filter((c) => !c.hidden);
  // The longest command id the words so far spell out.
  let command: CommandInfo | undefined;
  let used = 0;
  for (const c of visible) {
    const parts = c.id.split(' ');
    if (parts.length <= before.length && parts.every((p, i) => before[i] === p) && parts.length > used) {
      command = c;
      used = parts.length;
    }
  }
  if (!command) {
    // Still choosing a command: the next word of every id that starts with what was typed.
    const next = new Set<string>();
    for (const c of visible) {
      const parts = c.id.split(' ');
      if (parts.length > before.length && before.every((w, i) => parts[i] === w)) next.add(parts[before.length]!);
    }
    return [...next].filter((w) => w.startsWith(current)).sort();
  }
  const rest = before.slice(used);
  if (rest.includes('--')) return [];
  const pick = (words: readonly string[]) => [...new Set(words)].filter((w) => w.startsWith(current)).sort();
  const valueFlags = command.valueFlags ?? {};
  // A value for the flag just before (`--network <Tab>`): its choices, or none (the shell's files).
  const previous = rest.at(-1);
  if (previous !== undefined && !previous.includes('=') && valueFlags[previous] && !current.startsWith('-')) return pick(valueFlags[previous]);
  if (current.startsWith('-')) {
    const eq = current.indexOf('=');
    if (eq > 0 && valueFlags[current.slice(0, eq)]) return valueFlags[current.slice(0, eq)]!.map((v) => `${current.slice(0, eq + 1)}${v}`).filter((w) => w.startsWith(current));
    return pick(command.flags);
  }
  // Positional words: everything but flags and the values of value flags.
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w.startsWith('-')) {
      if (!w.includes('=') && valueFlags[w]) i++;
      continue;
    }
    positional.push(w);
  }
  const last = command.args.at(-1);
  const kind: ArgCompletion = command.args[positional.length] ?? (last !== undefined && REPEATING.includes(last) ? last : 'none');
  const labAt = command.args.findIndex((a) => a === 'lab' || a === 'lab-or-spec');
  const lab = labAt >= 0 ? positional[labAt] : undefined;
  if (typeof kind !== 'string') return pick(kind);
  switch (kind) {
    case 'lab':
      return pick(await world.labs());
    case 'lab-or-spec':
      return pick([...(await world.labs()), ...(await world.specFiles(current))]);
    case 'spec':
    case 'specs':
      return pick([...(await world.bundledLabs()), ...(await world.specFiles(current))]);
    case 'exercise':
    case 'exercises':
      return pick(await world.exercises());
    case 'host':
      return lab ? pick((await world.members(lab)).hosts) : [];
    case 'target':
    case 'targets': {
      if (!lab) return [];
      const m = await world.members(lab);
      return pick([...m.hosts, ...m.pods, ...m.nodes]);
    }
    default:
      return [];
  }
}

interface ManifestFlag {
  name: string;
  char?: string;
  hidden?: boolean;
  type?: 'boolean' | 'option';
  options?: string[];
}

interface ManifestCommand {
  id: string;
  hidden?: boolean;
  flags?: Record<string, ManifestFlag>;
  args?: Record<string, { options?: string[] }>;
  completion?: ArgCompletion[];
}

/** The commands as oclif's manifest lists them, with overlab's `completion` per argument (an
 * argument with fixed `options` completes them whatever its `completion` says). */
export function commandsFromManifest(manifest: { commands: Record<string, ManifestCommand> }): CommandInfo[] {
  return Object.values(manifest.commands).map((c) => {
    const flags = Object.values(c.flags ?? {}).filter((f) => !f.hidden);
    const argOptions = Object.values(c.args ?? {}).map((a) => a.options);
    const completion = c.completion ?? [];
    const args: ArgCompletion[] = Array.from({ length: Math.max(completion.length, argOptions.length) }, (_, i) => argOptions[i] ?? completion[i] ?? 'none');
    const valueFlags: Record<string, readonly string[]> = {};
    for (const f of flags.filter((f) => f.type === 'option')) {
      valueFlags[`--${f.name}`] = f.options ?? [];
      if (f.char) valueFlags[`-${f.char}`] = f.options ?? [];
    }
    return {
      id: c.id.replace(/:/g, ' '),
      hidden: Boolean(c.hidden),
      args,
      valueFlags,
      flags: flags.flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]),
    };
  });
}

export function bashScript(bin: string): string {
  return `# ${bin} completion for bash: source <(${bin} completion bash), or add that line to ~/.bashrc
_${bin}_complete() {
  local IFS=$'\\n'
  COMPREPLY=( $(${bin} complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
}
complete -o default -o nospace -F _${bin}_complete ${bin}
`.replace('-o nospace ', '');
}

export function zshScript(bin: string): string {
  return `#compdef ${bin}
# ${bin} completion for zsh: source <(${bin} completion zsh), or put it in a file on $fpath named _${bin}
_${bin}() {
  local -a candidates
  candidates=("\${(@f)$(${bin} complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if (( \${#candidates[@]} )) && [[ -n "\${candidates[1]}" ]]; then
    compadd -a candidates
  else
    _files
  fi
}
compdef _${bin} ${bin}
`;
}

export function fishScript(bin: string): string {
  return `# ${bin} completion for fish: ${bin} completion fish | source, or save it as ~/.config/fish/completions/${bin}.fish
function __${bin}_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l current (commandline -ct)
    set -l candidates (${bin} complete -- $words $current 2>/dev/null)
    if test (count $candidates) -gt 0
        printf '%s\\n' $candidates
    else
        __fish_complete_path $current
    end
end
complete -c ${bin} -f -a '(__${bin}_complete)'
`;
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell, bin: string): string {
  return shell === 'zsh' ? zshScript(bin) : shell === 'fish' ? fishScript(bin) : bashScript(bin);
}
