// Shell completion, pure part: which words fit at the cursor, given the command table (from
// oclif.manifest.json) and what the engine knows (labs that are up, their nodes and pods).

/** What an argument holds, for completion (a command's static `completion`). */
/** 'specs': any number of spec files (repeats for every further argument). */
export type ArgCompletion = 'lab' | 'lab-or-spec' | 'spec' | 'specs' | 'host' | 'target' | 'none';

export interface CommandInfo {
  id: string; // "node add"
  flags: string[]; // "--json", "-n"
  args: ArgCompletion[];
  hidden?: boolean;
}

export interface LabWorld {
  labs(): Promise<string[]>;
  /** hosts, "host/pod" and external nodes of a lab. */
  members(lab: string): Promise<{ hosts: string[]; pods: string[]; nodes: string[] }>;
  /** Spec files under the current directory matching the prefix. */
  specFiles(prefix: string): Promise<string[]>;
}

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
  if (current.startsWith('-')) return command.flags.filter((f) => f.startsWith(current)).sort();
  const positional = before.slice(used).filter((w) => !w.startsWith('-'));
  if (before.slice(used).includes('--')) return [];
  const kind = command.args[positional.length] ?? (command.args.at(-1) === 'specs' ? 'specs' : 'none');
  const lab = command.args.indexOf('lab') >= 0 ? positional[command.args.indexOf('lab')] : positional[command.args.indexOf('lab-or-spec')];
  const pick = (words: string[]) => words.filter((w) => w.startsWith(current)).sort();
  switch (kind) {
    case 'lab':
      return pick(await world.labs());
    case 'lab-or-spec':
      return pick([...(await world.labs()), ...(await world.specFiles(current))]);
    case 'spec':
    case 'specs':
      return pick(await world.specFiles(current));
    case 'host':
      return lab ? pick((await world.members(lab)).hosts) : [];
    case 'target': {
      if (!lab) return [];
      const m = await world.members(lab);
      return pick([...m.hosts, ...m.pods, ...m.nodes]);
    }
    default:
      return [];
  }
}

/** The commands as oclif's manifest lists them, with overlab's `completion` per argument. */
export function commandsFromManifest(manifest: { commands: Record<string, { id: string; hidden?: boolean; flags?: Record<string, { name: string; char?: string; hidden?: boolean }>; completion?: ArgCompletion[] }> }): CommandInfo[] {
  return Object.values(manifest.commands).map((c) => ({
    id: c.id.replace(/:/g, ' '),
    hidden: Boolean(c.hidden),
    args: c.completion ?? [],
    flags: Object.values(c.flags ?? {})
      .filter((f) => !f.hidden)
      .flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]),
  }));
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
