// What the lab rules share while they walk a spec: the issues found so far, and what they have
// learned (networks, the underlay, hosts and nodes, explicit addresses) for later rules and for
// the check kinds' resolve (through SpecScope).
import type { Draft } from './draft.js';
import type { SpecIssue } from './spec-error.js';
import { formatCidr, parseCidrParts, prefixMask, type Cidr } from '../shared/ipv4.js';
import type { RawNetwork } from './lab-schema.js';
import type { PodNetworkSpec } from './lab-spec.js';
import type { PathSeg, SpecSource } from './yaml-source.js';
import type { ScopeMember } from './spec-scope.js';

export interface NetInfo {
  spec: PodNetworkSpec;
  path: PathSeg[]; // ["network"] or ["networks", i]
  raw: RawNetwork;
  cidr?: Cidr; // undefined when invalid or unknown
  splittable: boolean; // subnetLen is at least the prefix
  /** Its declaration had schema errors: only its name is known. */
  broken: boolean;
}

export class RuleState {
  readonly issues: SpecIssue[] = [];
  nets: NetInfo[] = [];
  underlay?: Cidr;
  readonly members = new Map<string, ScopeMember>();
  /** Explicit addresses in the lab (underlay and pod IPs), for "inside the lab" checks. */
  readonly knownIps = new Set<number>();

  constructor(
    readonly draft: Draft,
    readonly src: SpecSource,
  ) {}

  err(path: PathSeg[], message: string, hint?: string, anchor: 'value' | 'key' = 'value'): void {
    this.issues.push(this.src.issue(path, message, hint, anchor));
  }

  net(name: string): NetInfo | undefined {
    return this.nets.find((n) => n.spec.name === name);
  }

  /** Parses a CIDR the schema has already checked for syntax; reports host bits set. */
  cidr(path: PathSeg[], s: string): Cidr | undefined {
    const parts = parseCidrParts(s);
    if (!parts) {
      this.err(path, `${JSON.stringify(s)} is not a valid IPv4 network; write it in CIDR notation, e.g. "10.1.0.0/16".`);
      return undefined;
    }
    const network = (parts.ip & prefixMask(parts.prefix)) >>> 0;
    if (network !== parts.ip) {
      const fixed = formatCidr({ network, prefix: parts.prefix });
      this.err(path, `"${s}" has host bits set; the network it belongs to is ${fixed}.`, `Write "${fixed}".`);
      return undefined;
    }
    return { network, prefix: parts.prefix };
  }
}
