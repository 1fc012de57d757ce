// The one definition of every name rule overlab enforces (docs/architecture.md "Names"). The
// schema, the semantic checks, the CLI flags, `node add`, `exec`, check references and the
// planner all ask here, so a name that passes one entry point passes them all — and a name that
// could mean anything to a shell, to `ip`, or to the file system never passes any.
//
// Pure: the rules are data (a pattern, a byte limit, a description) so the JSON Schema is
// generated from them (src/lab-spec/lab-schema.ts) and tests can list them. Linux's own limit on
// interface names is src/shared/interface-names.ts.
import { LINUX_IFNAME_MAX } from '../shared/interface-names.js';

export type NameKind = 'lab' | 'node' | 'pod' | 'network' | 'iface' | 'service' | 'namespace' | 'servicePort' | 'segment';

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

/** Kubernetes' own rules for what names a Service (a DNS-1035 label), its namespace (a DNS-1123
 * label) and its ports (an IANA service name): they appear in kube-proxy's rule comments and
 * chain names, so they stay inside the same safe alphabet. */
const DNS_1035_LABEL = '^[a-z](?:[-a-z0-9]*[a-z0-9])?$';
const DNS_1123_LABEL = '^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$';
const IANA_SERVICE_NAME = '^(?=[a-z0-9-]*[a-z])(?!.*--)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$';

const lowerRule = (max: number) => `lower-case letters, digits and "-", starting with a letter, at most ${max} characters`;

export const NAME_RULES: Record<NameKind, NameRule> = {
  lab: {
    what: 'a lab name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: 24,
    rule: lowerRule(24),
    example: 'host-gw',
  },
  node: {
    // A host or external node also names its port on the underlay switch: an interface name.
    what: 'a node name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: lowerRule(LINUX_IFNAME_MAX),
    example: 'host1',
  },
  pod: {
    // A pod names its network namespace (a file under /run/netns) in its host.
    what: 'a pod name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: lowerRule(LINUX_IFNAME_MAX),
    example: 'pod1',
  },
  network: {
    what: 'a network name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: lowerRule(LINUX_IFNAME_MAX),
    example: 'red',
  },
  segment: {
    // A segment of a routed underlay names its bridge in the lab's switch: an interface name.
    what: 'a segment name',
    pattern: new RegExp(LOWER_NAME),
    schemaPattern: LOWER_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: lowerRule(LINUX_IFNAME_MAX),
    example: 'rack1',
  },
  iface: {
    what: 'an interface name',
    pattern: new RegExp(IFACE_NAME),
    schemaPattern: IFACE_NAME,
    maxBytes: LINUX_IFNAME_MAX,
    rule: `letters, digits, "_", "." and "-", not starting with "-", not "." or "..", at most ${LINUX_IFNAME_MAX} bytes`,
    example: 'eth0',
  },
  service: {
    what: 'a Service name',
    pattern: new RegExp(DNS_1035_LABEL),
    schemaPattern: DNS_1035_LABEL,
    maxBytes: 63,
    rule: 'lower-case letters, digits and "-", starting with a letter and not ending with "-", at most 63 characters (a DNS-1035 label, as Kubernetes asks)',
    example: 'web',
  },
  namespace: {
    what: 'a namespace name',
    pattern: new RegExp(DNS_1123_LABEL),
    schemaPattern: DNS_1123_LABEL,
    maxBytes: 63,
    rule: 'lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters (a DNS-1123 label)',
    example: 'default',
  },
  servicePort: {
    what: 'a Service port name',
    pattern: new RegExp(IANA_SERVICE_NAME),
    schemaPattern: IANA_SERVICE_NAME,
    maxBytes: 15,
    rule: 'lower-case letters, digits and "-" with at least one letter, not starting or ending with "-", no "--", at most 15 characters (an IANA service name)',
    example: 'http',
  },
};

/** Names overlab gives its own nodes or switch ports; a spec (or `node add`) may not use them. */
export const RESERVED_NODE_NAMES: Readonly<Record<string, string>> = {
  switch: 'overlab names the lab\'s underlay switch container overlab-<lab>-switch',
  etcd: 'overlab names the lab\'s etcd node overlab-<lab>-etcd',
  underlay: 'the underlay bridge inside the switch is called "underlay", and every node names its port there',
  lo: 'every node names its port on the underlay switch, and "lo" is the switch\'s loopback',
};

/** Interface names overlab (or the kernel) already uses in a host: a pod bridge may not take them. */
export const RESERVED_IFACE_PATTERN = /^(?:lo|eth0|flannel0|flannel\.\d+|veth.*)$/;

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

/** Why a spec or `node add` may not call a node `value` (reserved or invalid), or undefined. */
export function newNodeNameProblem(value: unknown): string | undefined {
  const problem = nameProblem('node', value);
  if (problem) return problem;
  const why = RESERVED_NODE_NAMES[value as string];
  return why === undefined ? undefined : `"${value as string}" is reserved: ${why}`;
}

/** Why a pod network's bridge may not be called `value`, or undefined. */
export function bridgeNameProblem(value: unknown): string | undefined {
  const problem = nameProblem('iface', value);
  if (problem) return problem;
  return RESERVED_IFACE_PATTERN.test(value as string)
    ? `"${value as string}" is taken in every host (loopback, the underlay eth0, flannel's devices or the pods' veths); name the bridge something else, e.g. cni0`
    : undefined;
}

// ---------------------------------------------------------------- free text

/** Text a person wrote (descriptions, check names): printed to terminals, stored with the lab. */
export interface TextRule {
  what: string;
  maxLength: number;
  /** Newlines and tabs allowed (a YAML block scalar). */
  multiline: boolean;
  schemaPattern: string;
}

// C0 controls (ESC starts ANSI/OSC sequences), DEL, C1 controls (0x9b is a one-byte CSI, 0x9d a
// one-byte OSC), the line/paragraph separators and the bidirectional overrides that reorder text.
const CONTROLS_EXCEPT_NEWLINE_TAB = '\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const ALL_CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';

export type TextKind = 'description' | 'checkName';

export const TEXT_RULES: Record<TextKind, TextRule> = {
  // The resolved lab (descriptions included) is stored with the lab; keep it small.
  description: { what: 'a description', maxLength: 2000, multiline: true, schemaPattern: `^[^${CONTROLS_EXCEPT_NEWLINE_TAB}]*$` },
  checkName: { what: 'a check name', maxLength: 100, multiline: false, schemaPattern: `^[^${ALL_CONTROLS}]+$` },
};

/** Why `value` is not acceptable text of this kind, or undefined. */
export function textProblem(kind: TextKind, value: unknown): string | undefined {
  const rule = TEXT_RULES[kind];
  if (typeof value !== 'string') return `${rule.what} must be a string`;
  if (kind === 'checkName' && value.trim() === '') return `${rule.what} must not be empty`;
  const chars = [...value].length;
  if (chars > rule.maxLength) return `${rule.what} is ${chars} characters; at most ${rule.maxLength}`;
  const bad = firstControl(value, rule.multiline);
  if (bad !== undefined)
    return `${rule.what} may not contain control characters (found U+${bad.toString(16).toUpperCase().padStart(4, '0')}${bad === 0x1b ? ', an escape sequence' : ''})${rule.multiline ? '' : ' or line breaks'}`;
  return undefined;
}

/** The code point of the first control character in `s`, or undefined. */
export function firstControl(s: string, allowNewlineTab: boolean): number | undefined {
  const re = new RegExp(`[${allowNewlineTab ? CONTROLS_EXCEPT_NEWLINE_TAB : ALL_CONTROLS}]`, 'u');
  const m = re.exec(s);
  return m ? m[0].codePointAt(0) : undefined;
}

// ---------------------------------------------------------------- image references

// The grammar of a container image reference (the engine's own: [domain[:port]/]path[:tag][@digest]),
// lower-case path components, nothing else — so "img --privileged" or "img;x" never pass.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
export const IMAGE_SCHEMA_PATTERN = `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`;
const IMAGE = new RegExp(IMAGE_SCHEMA_PATTERN);
export const IMAGE_MAX_LENGTH = 255;

/** Why `value` is not a container image reference, or undefined. */
export function imageProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'an image reference must be a string';
  if (value === '') return 'an image reference must not be empty';
  if (value.length > IMAGE_MAX_LENGTH) return `an image reference has at most ${IMAGE_MAX_LENGTH} characters`;
  if (!IMAGE.test(value))
    return `${JSON.stringify(value)} is not an image reference: write [registry/]name[:tag][@digest], lower-case, without spaces or options`;
  return undefined;
}
