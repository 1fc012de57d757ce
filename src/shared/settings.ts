// Every OVERLAB_* environment variable, in one table: its name, who reads it, what it does, its
// default and what a right value looks like. Each one is read through setting() and checked the
// same way: unset or empty is the default; anything else must parse, or overlab stops with exit 3
// (an environment problem, as a bad DOCKER_HOST is) naming the variable and a right value —
// never a silent fallback. docs/commands.md's "Environment variables" table is written from this
// table (src/cli/command-reference.ts), and a unit test finds every OVERLAB_ name in the sources
// here. Pure and built-ins only: the agent (a program inside lab hosts) reads its own row too.

export type Env = Record<string, string | undefined>;

/** Who reads the variable: overlab itself, a program inside the lab hosts, or the repository's tooling. */
export type SettingReader = 'overlab' | 'agent' | 'npm test' | 'npm run demo' | 'scripts/dev';

interface SettingSpec<T> {
  name: `OVERLAB_${string}`;
  readBy: SettingReader;
  /** One line for the docs table. */
  what: string;
  /** The default as the docs say it. */
  defaultText: string;
  /** What a right value is, completing "must be …". */
  expected: string;
  /** A right value, for the hint. */
  example: string;
  /** The value, or undefined when the text is not a right value. */
  parse(text: string): T | undefined;
}

/** A variable set to something it cannot be: exit 3 (exitCode is honoured by the error writer). */
export class SettingError extends Error {
  readonly exitCode = 3;
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'SettingError';
    this.hint = hint;
  }
}

const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) => (text: string) => {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
};
const oneOf =
  <T extends string>(...values: T[]) =>
  (text: string) =>
    (values as string[]).includes(text) ? (text as T) : undefined;

const MS = 'a whole number of milliseconds';

function spec<T>(s: SettingSpec<T>): SettingSpec<T> {
  return s;
}

export const SETTINGS = {
  engineTimeoutMs: spec({
    name: 'OVERLAB_ENGINE_TIMEOUT_MS',
    readBy: 'overlab',
    what: "How long the engine may take to answer a quick request (inspect, list, exec set-up, archive reads); after Ctrl-C, a liveness ping waits min(this, 500 ms).",
    defaultText: '10000',
    expected: `${MS}, 1 or more`,
    example: '10000',
    parse: wholeNumber(1),
  }),
  engineSlowTimeoutMs: spec({
    name: 'OVERLAB_ENGINE_SLOW_TIMEOUT_MS',
    readBy: 'overlab',
    what: 'How long the engine may take for real work: container create, start, remove, pause, archive writes.',
    defaultText: '60000 (at least OVERLAB_ENGINE_TIMEOUT_MS)',
    expected: `${MS}, 1 or more`,
    example: '60000',
    parse: wholeNumber(1),
  }),
  engineImageTimeoutMs: spec({
    name: 'OVERLAB_ENGINE_IMAGE_TIMEOUT_MS',
    readBy: 'overlab',
    what: 'How long the engine may take to store an image after its upload (image build), and the longest silence in an image stream once the engine began to answer.',
    defaultText: '600000 (at least OVERLAB_ENGINE_TIMEOUT_MS)',
    expected: `${MS}, 1 or more`,
    example: '600000',
    parse: wholeNumber(1),
  }),
  lockWaitMs: spec({
    name: 'OVERLAB_LOCK_WAIT_MS',
    readBy: 'overlab',
    what: "How long a command that changes a lab (up, down, node, fault, workshop, run) waits for another one holding the lab's lock, before naming it (exit 3).",
    defaultText: '5000',
    expected: `${MS}, 0 or more`,
    example: '5000',
    parse: wholeNumber(0),
  }),
  probeLockWaitMs: spec({
    name: 'OVERLAB_PROBE_LOCK_WAIT_MS',
    readBy: 'overlab',
    what: 'How long a verify waits for another verify of the same lab to finish.',
    defaultText: '120000',
    expected: `${MS}, 0 or more`,
    example: '120000',
    parse: wholeNumber(0),
  }),
  sshConfig: spec({
    name: 'OVERLAB_SSH_CONFIG',
    readBy: 'overlab',
    what: "An ssh_config file for engines reached over ssh (DOCKER_HOST=ssh://…): passed to ssh as -F.",
    defaultText: "ssh's own (~/.ssh/config)",
    expected: 'an absolute path',
    example: '/root/.ssh/overlab_config',
    parse: (text) => (text.startsWith('/') && !text.includes('\0') ? text : undefined),
  }),
  sshMultiplex: spec({
    name: 'OVERLAB_SSH_MULTIPLEX',
    readBy: 'overlab',
    what: 'Whether connections to an engine over ssh share one ssh session (ControlMaster); 0 gives each its own.',
    defaultText: '1',
    expected: '0 or 1',
    example: '1',
    parse: oneOf('0', '1'),
  }),
  debianMirror: spec({
    name: 'OVERLAB_DEBIAN_MIRROR',
    readBy: 'overlab',
    what: 'The Debian mirror `overlab image build` takes the host image\'s packages from (its -security suite from the same host).',
    defaultText: 'http://deb.debian.org/debian',
    expected: 'an http:// or https:// URL',
    example: 'http://deb.debian.org/debian',
    parse: (text) => (/^https?:\/\/[^\s/]+(\/\S*)?$/.test(text) ? text : undefined),
  }),
  agentDebug: spec({
    name: 'OVERLAB_AGENT_DEBUG',
    readBy: 'agent',
    what: "The agent (our flanneld, inside a lab host) also logs debug lines; set in the environment of an agent started by hand in a host (docker exec -e OVERLAB_AGENT_DEBUG=1 …); overlab's own up does not pass it.",
    defaultText: '0',
    expected: '0 or 1',
    example: '1',
    parse: oneOf('0', '1'),
  }),
  testWorkers: spec({
    name: 'OVERLAB_TEST_WORKERS',
    readBy: 'npm test',
    what: 'How many test files run at once on the one engine (vitest.config.ts).',
    defaultText: '2',
    expected: 'a whole number, 1 or more',
    example: '2',
    parse: wholeNumber(1),
  }),
  trials: spec({
    name: 'OVERLAB_TRIALS',
    readBy: 'npm test',
    what: 'How many times the reliability test repeats each interrupted up and verify.',
    defaultText: '5',
    expected: 'a whole number, 1 or more',
    example: '5',
    parse: wholeNumber(1),
  }),
  demoParallel: spec({
    name: 'OVERLAB_DEMO_PARALLEL',
    readBy: 'npm run demo',
    what: 'How many labs `npm run demo` builds side by side (run --parallel).',
    defaultText: '3',
    expected: 'a whole number from 1 to 64',
    example: '3',
    parse: wholeNumber(1, 64),
  }),
  hostImage: spec({
    name: 'OVERLAB_HOST_IMAGE',
    readBy: 'scripts/dev',
    what: 'The image scripts/dev/agent-harness.sh runs its hand-made hosts from.',
    defaultText: 'overlab/host:test',
    expected: 'an image reference such as overlab/host:test',
    example: 'overlab/host:test',
    parse: (text) => (/^[a-z0-9][a-z0-9._/-]*(:[\w][\w.-]{0,127})?$/.test(text) ? text : undefined),
  }),
};

export type SettingKey = keyof typeof SETTINGS;
type ValueOf<K extends SettingKey> = NonNullable<ReturnType<(typeof SETTINGS)[K]['parse']>>;

/** The value of a variable, or `fallback` when it is unset or empty; a bad value throws SettingError. */
export function setting<K extends SettingKey, F>(key: K, fallback: F, env: Env = process.env): ValueOf<K> | F {
  const s: SettingSpec<unknown> = SETTINGS[key];
  const raw = env[s.name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = s.parse(raw.trim());
  if (value === undefined) {
    const shown = JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw).slice(1, -1);
    throw new SettingError(`${s.name}=${shown} is not a right value: it must be ${s.expected}`, `unset ${s.name} (default: ${s.defaultText}), or set e.g. ${s.name}=${s.example}`);
  }
  return value as ValueOf<K>;
}

/** Every setting, in table order, for the docs. */
export function settingsTable(): { name: string; readBy: SettingReader; what: string; defaultText: string; expected: string }[] {
  return Object.values(SETTINGS).map(({ name, readBy, what, defaultText, expected }) => ({ name, readBy, what, defaultText, expected }));
}

/** OVERLAB_ variables in the environment that no setting has (a misspelt name would otherwise
 * be ignored without a word), each with the closest known name when there is one. */
export function unknownSettings(env: Env = process.env): { name: string; closest?: string }[] {
  const known = Object.values(SETTINGS).map((s) => s.name as string);
  return Object.keys(env)
    .filter((name) => name.startsWith('OVERLAB_') && !known.includes(name))
    .sort()
    .map((name) => {
      const near = known
        .map((k) => ({ k, d: distance(name, k) }))
        .sort((a, b) => a.d - b.d)[0];
      return near && near.d <= 3 ? { name, closest: near.k } : { name };
    });
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}
