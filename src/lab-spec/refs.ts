// Syntactic parsing of references used in checks: "host1", "host1/pod1", "outside", "host1:eth0",
// "host1/pod1:eth0", "10.1.2.3", "02:42:ac:10:01:02". Each part follows its name rule in
// src/lab-spec/name-rules.ts. Whether the named things exist is checked elsewhere (SpecScope against the
// spec, LabReferences against a running lab).

import { isValidIpv4, isValidMac } from '../shared/ipv4.js';
import { LINUX_IFNAME_MAX } from '../shared/interface-names.js';
import { NAME_RULES, isValidName, nameProblem } from './name-rules.js';

export type ParsedRef =
  | { kind: 'host'; host: string }
  | { kind: 'pod'; host: string; pod: string }
  | { kind: 'node'; node: string }
  /** `host` is a host or external node name; `pod` is set for "host/pod:iface". */
  | { kind: 'iface'; host: string; pod?: string; iface: string }
  | { kind: 'ip'; ip: string }
  | { kind: 'mac'; mac: string }; // lower case

export type RefKind = ParsedRef['kind'];

const NAME = NAME_RULES.node.schemaPattern.slice(1, -1);
const REF = /^([^/:]*)(?:\/([^/:]*))?(?::(.*))?$/s;
export const MAX_IFACE_NAME = LINUX_IFNAME_MAX;

/**
 * Parses a reference. A bare name is a `node` when it is in `externals` (the external node
 * names), otherwise a `host`. Returns undefined when the string is not a reference at all
 * (see refProblem for why).
 */
export function parseRef(s: string, externals?: Iterable<string>): ParsedRef | undefined {
  if (typeof s !== 'string') return undefined;
  if (isValidMac(s)) return { kind: 'mac', mac: s.toLowerCase() };
  if (isValidIpv4(s)) return { kind: 'ip', ip: s };
  const m = REF.exec(s);
  if (!m) return undefined;
  const host = m[1] as string;
  const pod = m[2];
  const iface = m[3];
  if (!isValidName('node', host)) return undefined;
  if (pod !== undefined && !isValidName('pod', pod)) return undefined;
  if (iface !== undefined) {
    if (!isValidIfaceName(iface)) return undefined;
    return pod !== undefined ? { kind: 'iface', host, pod, iface } : { kind: 'iface', host, iface };
  }
  if (pod !== undefined) return { kind: 'pod', host, pod };
  const ext = externals === undefined ? undefined : new Set(externals);
  return ext?.has(host) ? { kind: 'node', node: host } : { kind: 'host', host };
}

/** The interface name rule of src/lab-spec/name-rules.ts. */
export function isValidIfaceName(s: string): boolean {
  return isValidName('iface', s);
}

/** Why `s` is not a reference (a sentence fragment, e.g. `"Host1" has upper-case letters`), or undefined when it is one. */
export function refProblem(s: string): string | undefined {
  if (parseRef(s) !== undefined) return undefined;
  const q = JSON.stringify(s);
  if (s === '') return 'the reference is empty';
  if (/^[0-9.]+$/.test(s)) return `${q} is not a valid IPv4 address`;
  if (/^[0-9a-f]{1,3}(?::[0-9a-f]{0,3}){2,}$/i.test(s))
    return `${q} is not a valid MAC address (six pairs of hex digits, like 02:42:ac:10:01:02)`;
  const m = /^([^/:]*)(?:\/([^:]*))?(?::(.*))?$/s.exec(s);
  if (m) {
    const iface = m[3];
    if (iface === '') return `${q} has an empty interface name`;
    if (m[2] === '') return `${q} has an empty pod name`;
    if (iface !== undefined && !isValidIfaceName(iface)) {
      if (Buffer.byteLength(iface, 'utf8') > MAX_IFACE_NAME && NAME_RULES.iface.pattern.test(iface))
        return `interface name ${JSON.stringify(iface)} is ${iface.length} characters; Linux interface names are at most ${MAX_IFACE_NAME}`;
      return `${JSON.stringify(iface)} is not a valid interface name (${NAME_RULES.iface.rule})`;
    }
    const parts = [m[1], m[2]].filter((p): p is string => p !== undefined);
    if (parts.some((p) => /[A-Z]/.test(p))) return `${q} has upper-case letters; names are lower-case`;
    const bad = parts.find((p) => !new RegExp(`^${NAME}$`).test(p));
    if (bad !== undefined && s !== bad) return `${JSON.stringify(bad)} in ${q} is not a valid name`;
    const long = parts.find((p) => nameProblem('node', p) !== undefined && new RegExp(`^${NAME}$`).test(p));
    if (long !== undefined) return `${JSON.stringify(long)} in ${q} is ${long.length} characters; names are at most ${LINUX_IFNAME_MAX}`;
  }
  return `${q} is not a valid reference`;
}

/** The canonical string form of a parsed reference. */
export function formatRef(r: ParsedRef): string {
  switch (r.kind) {
    case 'host':
      return r.host;
    case 'pod':
      return `${r.host}/${r.pod}`;
    case 'node':
      return r.node;
    case 'iface':
      return `${r.host}${r.pod !== undefined ? `/${r.pod}` : ''}:${r.iface}`;
    case 'ip':
      return r.ip;
    case 'mac':
      return r.mac;
  }
}
