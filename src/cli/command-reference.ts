// The command reference (docs/commands.md), written from what the code declares: oclif's
// manifest (summary, description, arguments, flags, examples of every command). Pure;
// `npm run docs:commands` writes the file and a unit test fails when it no longer matches the code.

export interface ReferenceFlag {
  name: string;
  char?: string;
  description?: string;
  summary?: string;
  type?: 'boolean' | 'option';
  default?: unknown;
  options?: string[];
  required?: boolean;
  multiple?: boolean;
  allowNo?: boolean;
  hidden?: boolean;
  helpGroup?: string;
}

export interface ReferenceArg {
  name: string;
  description?: string;
  required?: boolean;
  options?: string[];
  default?: unknown;
}

export interface ReferenceCommand {
  id: string;
  summary?: string;
  description?: string;
  examples?: (string | { command: string; description?: string })[];
  args?: Record<string, ReferenceArg>;
  flags?: Record<string, ReferenceFlag>;
  hidden?: boolean;
  strict?: boolean;
}

export interface ReferenceManifest {
  commands: Record<string, ReferenceCommand>;
}

export interface ReferenceOptions {
  bin: string;
  topics?: Record<string, { description?: string }>;
  /** Every OVERLAB_* variable (src/shared/settings.ts settingsTable()), as one table at the end. */
  settings?: { name: string; readBy: string; what: string; defaultText: string; expected: string }[];
}

const anchor = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
/** A default as the manifest holds it: a word or number as it is, anything else as JSON. */
const shownDefault = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));

function flagUsage(f: ReferenceFlag): string {
  const name = f.char ? `-${f.char}, --${f.name}` : `--${f.name}`;
  if (f.type !== 'option') return f.allowNo ? `--[no-]${f.name}` : name;
  return `${name} ${f.options?.length ? f.options.join('|') : '<value>'}`;
}

function usage(bin: string, c: ReferenceCommand): string {
  const args = Object.values(c.args ?? {}).map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`));
  if (c.strict === false && args.length) args[args.length - 1] += '...';
  return [bin, c.id.replace(/:/g, ' '), ...args, ...(Object.keys(c.flags ?? {}).length ? ['[FLAGS]'] : [])].join(' ');
}

function example(bin: string, e: string | { command: string; description?: string }): string {
  const text = typeof e === 'string' ? e : e.description ? `# ${e.description}\n${e.command}` : e.command;
  return text.replace(/<%= config\.bin %>/g, bin);
}

/** Indented lines (a table of kinds, say) stay as they are, in a block; the rest is text. */
function description(text: string): string[] {
  const out: string[] = [];
  let block = false;
  for (const line of text.split('\n')) {
    const indented = line.startsWith('  ');
    if (indented && !block) out.push('```text');
    if (!indented && block) out.push('```');
    block = indented;
    out.push(indented ? line.slice(2) : line);
  }
  if (block) out.push('```');
  return out;
}

function section(bin: string, c: ReferenceCommand): string[] {
  const id = c.id.replace(/:/g, ' ');
  const lines = [`## ${bin} ${id}`, ''];
  if (c.summary) lines.push(c.summary, '');
  if (c.description) lines.push(...description(c.description.replace(/<%= config\.bin %>/g, bin)), '');
  lines.push('```', usage(bin, c), '```', '');
  const args = Object.values(c.args ?? {});
  if (args.length) {
    lines.push('| argument | |', '| --- | --- |');
    for (const a of args) {
      const extra = [a.options?.length ? `one of: ${a.options.join(', ')}` : '', a.default !== undefined ? `default: ${shownDefault(a.default)}` : ''].filter(Boolean).join('; ');
      lines.push(`| \`${a.name.toUpperCase()}\`${a.required ? '' : ' (optional)'} | ${cell([a.description ?? '', extra ? `(${extra})` : ''].filter(Boolean).join(' '))} |`);
    }
    lines.push('');
  }
  const flags = Object.values(c.flags ?? {}).filter((f) => !f.hidden);
  const own = flags.filter((f) => f.helpGroup !== 'GLOBAL');
  const global = flags.filter((f) => f.helpGroup === 'GLOBAL');
  if (flags.length) {
    lines.push('| flag | |', '| --- | --- |');
    for (const f of [...own, ...global]) {
      const extra = [
        f.required ? 'required' : '',
        f.multiple ? 'repeatable' : '',
        f.type === 'option' && f.default !== undefined ? `default: ${shownDefault(f.default)}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      lines.push(`| \`${flagUsage(f)}\` | ${cell([f.summary ?? f.description ?? '', extra ? `(${extra})` : ''].filter(Boolean).join(' '))} |`);
    }
    lines.push('');
  }
  if (c.examples?.length) {
    lines.push('Examples:', '', '```sh', ...c.examples.map((e) => example(bin, e)), '```', '');
  }
  return lines;
}

function environment(settings: NonNullable<ReferenceOptions['settings']>): string[] {
  return [
    '## Environment variables',
    '',
    'Every `OVERLAB_*` variable, read and checked one way (src/shared/settings.ts): unset or empty means the default; any other value must be right, or the command stops with exit 3 naming the variable and a right value. A variable starting with `OVERLAB_` that is not in this table gets a warning (a misspelt name would otherwise do nothing).',
    '',
    '| variable | read by | what it sets | default | a right value is |',
    '| --- | --- | --- | --- | --- |',
    ...settings.map((s) => `| \`${s.name}\` | ${cell(s.readBy)} | ${cell(s.what)} | ${cell(s.defaultText)} | ${cell(s.expected)} |`),
    '',
    'overlab also reads `DOCKER_HOST` and `DOCKER_CONTEXT` (which engine; unix, tcp with TLS, ssh), `DEBUG=overlab*` (stack traces, as `--debug`), `NO_COLOR` / `FORCE_COLOR` and `CI` (colour and progress style) and `XDG_STATE_HOME` (where workshop progress is kept).',
    '',
  ];
}

export function commandReference(manifest: ReferenceManifest, { bin, topics = {}, settings }: ReferenceOptions): string {
  const commands = Object.values(manifest.commands)
    .filter((c) => !c.hidden)
    .sort((a, b) => a.id.localeCompare(b.id));
  const lines = [
    `# ${bin} command reference`,
    '',
    `<!-- Generated from the code by \`npm run docs:commands\` (src/cli/command-reference.ts); a unit test fails when it differs. Do not edit by hand. -->`,
    '',
    `Every command also takes \`--json\` (the result, or the error, as \`{"status": <exit code>, …}\` on stdout) and \`--debug\`; \`${bin} <command> --help\` (or \`-h\`) prints the same text as below.`,
    '',
    '| command | |',
    '| --- | --- |',
  ];
  for (const c of commands) {
    const id = c.id.replace(/:/g, ' ');
    lines.push(`| [\`${bin} ${id}\`](#${anchor(`${bin} ${id}`)}) | ${cell(c.summary ?? '')} |`);
  }
  if (settings) lines.push('', `Environment variables: [the table at the end](#environment-variables).`);
  lines.push('');
  const topicNames = Object.keys(topics).sort();
  if (topicNames.length) {
    lines.push('Topics: ' + topicNames.map((t) => `\`${bin} ${t}\` — ${topics[t]!.description ?? ''}`).join(' · '), '');
  }
  for (const c of commands) lines.push(...section(bin, c));
  if (settings) lines.push(...environment(settings));
  return lines.join('\n').replace(/\n+$/, '\n');
}
