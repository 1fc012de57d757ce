// The one definition of every name rule overlab enforces (docs/architecture.md "Names"). The
// schema, the semantic checks, the CLI flags, `node add`, `exec`, check references and the
// planner all ask here, so a name that passes one entry point passes them all — and a name that
// could mean anything to a shell, to `ip`, or to the file system never passes any.
//
// Pure, with no imports: the rules are data (a pattern, a byte limit, a description) so the JSON
// Schema can be generated from them and tests can list them.

/** Linux limits an interface name to IFNAMSIZ - 1 bytes. */
export const LINUX_IFNAME_MAX = 15;

export type NameKind = 'lab' | 'node' | 'pod' | 'network' | 'iface';

export interface NameRule {
  /** What the name is, for messages: "a lab name". */
  what: string;
  /** Anchored; ASCII only, so a Unicode look-alike never passes. */
  pattern: RegExp;
  /** The same pattern as JSON Schema text. */
  schemaPattern: string;
  maxBytes: number;
  /** The rule in words, for hints. */
  rule: string;
  example: string;
}

const LOWER_NAME = '^[a-z][a-z0-9-]*$';
/** What Linux accepts for an interface, narrowed to a safe alphabet (no shell, path or `ip`
 * metacharacters), not starting with "-" (never mistaken for an option), not "." or "..". */
const IFACE_NAME = '^(?!\\.{1,2}$)[A-Za-z0-9_.][A-Za-z0-9_.-]*$';

export const NAME_RULES: Record<NameKind, NameRule> = {
  lab: {
    what: 'a lab name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: 24,
    rule: 'lower-case letters, digits and "-", starting with a letter, at most 24 characters',
    example: 'host-gw',
  },
  node: {
    // A host or external node also names its port on the underlay switch: an interface name.
    what: 'a node name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: `lower-case letters, digits and "-", starting with a letter, at most ${LINUX_IFNAME_MAX} characters`,
    example: 'host1',
  },
  pod: {
    // A pod names its network namespace (a file under /run/netns) in its host.
    what: 'a pod name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: `lower-case letters, digits and "-", starting with a letter, at most ${LINUX_IFNAME_MAX} characters`,
    example: 'pod1',
  },
  network: {
    what: 'a network name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: `lower-case letters, digits and "-", starting with a letter, at most ${LINUX_IFNAME_MAX} characters`,
    example: 'red',
  },
  iface: {
    what: 'an interface name',
    pattern: new RegExp(IFACE_NAME),
    schemaPattern: IFACE_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: `letters, digits, "_", "." and "-", not starting with "-", not "." or "..", at most ${LINUX_IFNAME_MAX} bytes`,
    example: 'eth0',
  },
};

/** Names overlab gives its own nodes; a spec (or `node add`) may not use them. */
export const RESERVED_NODE_NAMES: readonly string[] = ['switch', 'etcd'];

/** Why `value` is not a valid name of this kind (a sentence), or undefined when it is. */
export function nameProblem(kind: NameKind, value: unknown): string | undefined {
  const rule = NAME_RULES[kind];
  if (typeof value !== 'string') return `${rule.what} must be a string`;
  const shown = JSON.stringify(value);
  if (value === '') return `${rule.what} must not be empty`;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (!rule.pattern.test(value)) {
    if (/[^\x20-\x7e]/.test(value)) return `${shown} is not ${rule.what}: only ASCII ${rule.rule}`;
    return `${shown} is not ${rule.what}: use ${rule.rule}`;
  }
  if (bytes > rule.maxBytes) return `${shown} is ${bytes} characters; ${rule.what} has at most ${rule.maxBytes}`;
  return undefined;
}

export function isValidName(kind: NameKind, value: unknown): value is string {
  return nameProblem(kind, value) === undefined;
}
