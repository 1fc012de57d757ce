// The lab as declared in a spec, seen by the parts that refer to it: check (and fault) kinds
// resolve their names here — a reference must parse, name something that exists, and be of the
// kind the field takes — and report problems at the field's position. Built by the lab rules
// (src/lab-spec/lab-rules.ts) once hosts, nodes and networks are known.
import type { SpecIssue } from './spec-error.js';
import { cidrContains, formatCidr, ipToInt, type Cidr } from '../shared/ipv4.js';
import type { Backend, ControlPlane, PacketMatchSpec, PingSpec } from './lab-spec.js';
import type { RawPacketMatch, RawPing } from './lab-schema.js';
import { parseRef, type ParsedRef } from './refs.js';
import type { PathSeg, SpecSource } from './yaml-source.js';
import { closest } from './suggest.js';

export const DEFAULT_PING_COUNT = 3;

export interface ScopeNetwork {
  name: string;
  backend: Backend;
  controlPlane: ControlPlane;
  cidr?: Cidr; // undefined when the spec's cidr is invalid
}

export interface ScopeMember {
  kind: 'host' | 'node';
  path: PathSeg[];
  role?: string; // external nodes
  pods: string[]; // hosts
}

/** What the declarations left unknown because they were malformed: references into them are not
 * reported (the malformed declaration is, once), so one mistake gives one message. */
export interface ScopeGaps {
  /** Names of hosts and nodes whose declaration had errors. */
  members: Set<string>;
  /** A host or node entry whose name could not be read: any unknown name may be that one. */
  anyMember: boolean;
  /** "host/pod" of pods whose declaration had errors, and hosts with an unreadable pod name. */
  pods: Set<string>;
  hostsWithUnnamedPods: Set<string>;
  /** Networks whose declaration had errors (or all of them, when the list was unreadable). */
  networks: Set<string>;
  anyNetwork: boolean;
  /** Services whose declaration had errors, or any (the list, or an entry's name, was unreadable). */
  services: Set<string>;
  anyService: boolean;
}

export function noGaps(): ScopeGaps {
  return { members: new Set(), anyMember: false, pods: new Set(), hostsWithUnnamedPods: new Set(), networks: new Set(), anyNetwork: false, services: new Set(), anyService: false };
}

/** A Service as the check and fault kinds see it. */
export interface ScopeService {
  name: string;
  namespace: string;
  type: 'ClusterIP' | 'NodePort';
  ports: { name: string; port: number; protocol: 'TCP' | 'UDP' }[];
  endpoints: string[];
}

export class SpecScope {
  constructor(
    private readonly src: SpecSource,
    private readonly issues: SpecIssue[],
    readonly members: ReadonlyMap<string, ScopeMember>,
    readonly networks: readonly ScopeNetwork[],
    readonly underlay: Cidr | undefined,
    /** Addresses given explicitly in the spec (underlay and pod IPs). */
    readonly knownIps: ReadonlySet<number>,
    readonly gaps: ScopeGaps = noGaps(),
  ) {}

  /** The lab's Services (set by the lab rules once they are checked). */
  services: ScopeService[] = [];

  get file(): string {
    return this.src.file;
  }

  /** A Service named in a check or fault: "web", "web:http" (a port) or "ns/web[:port]". Reports
   * an unknown one (with a suggestion) and returns it with the port meant, when there is one. */
  service(text: string, path: PathSeg[]): { service: ScopeService; port: ScopeService['ports'][number] } | undefined {
    const m = /^(?:([a-z0-9-]+)\/)?([a-z0-9-]+)(?::([a-z0-9-]+))?$/.exec(text);
    if (!m) {
      this.err(path, `${JSON.stringify(text)} is not a Service reference; write <name>, <name>:<port name> or <namespace>/<name>.`);
      return undefined;
    }
    const [, namespace, name, portName] = m;
    const candidates = this.services.filter((s) => s.name === name && (namespace === undefined || s.namespace === namespace));
    if (candidates.length === 0) {
      if (this.gaps.anyService || this.gaps.services.has(name!)) return undefined;
      const close = closest(name!, this.services.map((s) => s.name));
      this.err(path, `unknown Service "${text}".`, close ? `Did you mean "${close}"?` : this.services.length ? `Services: ${this.services.map((s) => s.name).join(', ')}.` : 'The lab has no services: list.');
      return undefined;
    }
    if (candidates.length > 1) {
      this.err(path, `"${text}" names a Service in several namespaces (${candidates.map((s) => s.namespace).join(', ')}).`, `Write <namespace>/${name}.`);
      return undefined;
    }
    const service = candidates[0]!;
    if (portName === undefined) {
      if (service.ports.length > 1) {
        this.err(path, `Service "${service.name}" has ${service.ports.length} ports; say which.`, `Write ${service.name}:${service.ports[0]!.name}.`);
        return undefined;
      }
      return { service, port: service.ports[0]! };
    }
    const port = service.ports.find((p) => p.name === portName);
    if (!port) {
      this.err(path, `Service "${service.name}" has no port named "${portName}".`, `Its ports: ${service.ports.map((p) => p.name || `(unnamed) ${p.port}`).join(', ')}.`);
      return undefined;
    }
    return { service, port };
  }

  position(path: readonly PathSeg[]): { file: string; line: number; col: number } {
    const pos = this.src.position(path);
    return { file: this.src.file, line: pos.line, col: pos.col };
  }

  err(path: PathSeg[], message: string, hint?: string, anchor: 'value' | 'key' = 'value'): void {
    this.issues.push(this.src.issue(path, message, hint, anchor));
  }

  /** Parses a reference (the schema has checked its syntax). */
  ref(s: string, path: PathSeg[]): ParsedRef | undefined {
    const externals = [...this.members].filter(([, m]) => m.kind === 'node').map(([n]) => n);
    const r = parseRef(s, externals);
    if (!r) this.err(path, `${JSON.stringify(s)} is not a valid reference.`);
    return r;
  }

  /** Reports names in a reference that do not exist in the lab. */
  exists(r: ParsedRef, path: PathSeg[], text: string): void {
    const all = [...this.members.keys()];
    const hostNames = [...this.members].filter(([, m]) => m.kind === 'host').map(([n]) => n);
    const unknown = (name: string, pool: string[], what: string) => {
      if (this.gaps.anyMember || this.gaps.members.has(name)) return;
      const close = closest(name, pool);
      this.err(path, `unknown ${what} "${name}"${text !== name ? ` in "${text}"` : ''}.`, close ? `Did you mean "${close}"?` : undefined);
    };
    const podOf = (host: string, pod: string) => {
      const m = this.members.get(host);
      if (!m) return unknown(host, hostNames, 'host');
      if (m.kind === 'node') {
        this.err(path, `"${host}" is an external node; external nodes have no pods.`);
        return;
      }
      if (m.pods.includes(pod) || this.gaps.pods.has(`${host}/${pod}`) || this.gaps.hostsWithUnnamedPods.has(host)) return;
      const close = closest(pod, m.pods);
      this.err(
        path,
        `${host} has no pod "${pod}".`,
        close ? `Did you mean "${host}/${close}"?` : m.pods.length ? `Its pods: ${m.pods.join(', ')}.` : `It has no pods; add "${pod}" to its pods: list.`,
      );
    };
    switch (r.kind) {
      case 'host':
        if (!this.members.has(r.host)) unknown(r.host, all, 'host or node');
        return;
      case 'pod':
        return podOf(r.host, r.pod);
      case 'iface':
        if (r.pod !== undefined) return podOf(r.host, r.pod);
        if (!this.members.has(r.host)) unknown(r.host, all, 'host or node');
        return;
      default:
        return;
    }
  }

  /** A reference that must name a host (not a pod, node or address). */
  hostRef(s: string, path: PathSeg[]): void {
    const r = this.ref(s, path);
    if (!r) return;
    if (r.kind !== 'host') {
      this.err(path, `"${s}" is ${refKindText(r)}; this check needs a host.`);
      return;
    }
    this.exists(r, path, s);
    if (this.members.get(r.host)?.kind === 'node') this.err(path, `"${s}" is an external node; this check needs a host.`);
  }

  /** The pod network a check is about: the named one, or the first that fits. */
  overlayNetwork(name: string | undefined, path: PathSeg[], fits: (b: Backend, cp: ControlPlane) => boolean, what: string): string {
    const candidates = this.networks;
    const chosen = name === undefined ? candidates.find((n) => fits(n.backend, n.controlPlane)) : candidates.find((n) => n.name === name);
    if (this.gaps.anyNetwork || (name !== undefined && this.gaps.networks.has(name))) return chosen?.name ?? name ?? 'default';
    if (name !== undefined && !chosen) {
      this.err(path, `unknown network "${name}".`, `The networks: ${candidates.map((n) => n.name).join(', ')}.`);
      return name;
    }
    if (!chosen || !fits(chosen.backend, chosen.controlPlane)) {
      this.err(
        path,
        `this check needs ${what}, and ${chosen ? `network "${chosen.name}" has backend ${chosen.backend} (controlPlane ${chosen.controlPlane})` : 'the lab has none'}.`,
      );
      return chosen?.name ?? name ?? 'default';
    }
    return chosen.name;
  }

  ping(p: RawPing, path: PathSeg[]): PingSpec {
    const from = this.ref(p.from, [...path, 'from']);
    if (from) {
      if (from.kind === 'ip' || from.kind === 'mac' || from.kind === 'iface')
        this.err([...path, 'from'], `"${p.from}" is ${refKindText(from)}; a ping must come from a host, a pod (host/pod) or an external node.`);
      else this.exists(from, [...path, 'from'], p.from);
    }
    const to = this.ref(p.to, [...path, 'to']);
    if (to) {
      if (to.kind === 'mac' || to.kind === 'iface')
        this.err([...path, 'to'], `"${p.to}" is ${refKindText(to)}; a ping goes to a host, a pod, an external node or an IPv4 address inside the lab.`);
      else if (to.kind === 'ip') this.insideLab(to.ip, [...path, 'to']);
      else this.exists(to, [...path, 'to'], p.to);
    }
    return { from: p.from, to: p.to, count: p.count ?? DEFAULT_PING_COUNT, expect: p.expect ?? 'reachable' };
  }

  /** An interface to capture on: host:iface or host/pod:iface, on something that exists. */
  iface(s: string, path: PathSeg[]): void {
    const on = this.ref(s, path);
    if (on && on.kind !== 'iface')
      this.err(
        path,
        `"${s}" is not an interface; a capture needs host:iface or host/pod:iface.`,
        on.kind === 'host' || on.kind === 'pod' || on.kind === 'node' ? `E.g. "${s}:eth0".` : undefined,
      );
    else if (on) this.exists(on, path, s);
  }

  match(m: RawPacketMatch, path: PathSeg[]): PacketMatchSpec {
    const out: PacketMatchSpec = {};
    if (m.proto !== undefined) out.proto = m.proto;
    for (const key of ['src', 'dst'] as const) {
      const s = m[key];
      if (s === undefined) continue;
      out[key] = s;
      const r = this.ref(s, [...path, key]);
      if (!r) continue;
      if (r.kind === 'mac') this.err([...path, key], `${key} matches IPv4 addresses, but "${s}" is a MAC address.`, `Use ${key}Mac for MAC addresses.`);
      else if (r.kind !== 'ip') this.exists(r, [...path, key], s);
    }
    for (const key of ['srcMac', 'dstMac'] as const) {
      const s = m[key];
      if (s === undefined) continue;
      out[key] = s;
      const r = this.ref(s, [...path, key]);
      if (!r) continue;
      if (r.kind === 'ip') this.err([...path, key], `${key} matches MAC addresses, but "${s}" is an IPv4 address.`, `Use ${key.slice(0, 3)} for IPv4 addresses.`);
      else if (r.kind !== 'mac') this.exists(r, [...path, key], s);
    }
    if (m.srcPort !== undefined) out.srcPort = m.srcPort;
    if (m.dstPort !== undefined) out.dstPort = m.dstPort;
    if (m.port !== undefined) out.port = m.port;
    if (m.icmpType !== undefined) out.icmpType = m.icmpType;
    if (m.vni !== undefined) out.vni = m.vni;
    if (m.inner !== undefined) {
      if (m.proto !== undefined && m.proto !== 'vxlan' && m.proto !== 'flannel-udp')
        this.err(
          [...path, 'inner'],
          `"inner" only applies to encapsulated packets, but proto is ${m.proto}.`,
          'Use proto: vxlan or proto: flannel-udp, or remove inner.',
          'key',
        );
      out.inner = this.match(m.inner, [...path, 'inner']);
    }
    return out;
  }

  /** A literal address a ping may target: inside a pod network or the underlay, or a known lab address. */
  private insideLab(ip: string, path: PathSeg[]): void {
    const n = ipToInt(ip);
    if (this.knownIps.has(n)) return;
    if (this.networks.some((net) => net.cidr && cidrContains(net.cidr, n))) return;
    if (this.underlay && cidrContains(this.underlay, n)) return;
    if (this.gaps.anyNetwork) return;
    const ranges = this.networks.filter((net) => net.cidr).map((net) => formatCidr(net.cidr!));
    if (this.underlay) ranges.push(formatCidr(this.underlay));
    this.err(
      path,
      `${ip} is outside the lab; overlab only pings addresses inside the lab.`,
      `Use a lab member's name or an address in ${ranges.join(' or ')}${this.underlay ? '' : ' (set underlay.subnet to ping underlay addresses by number)'}.`,
    );
  }
}

export function refKindText(r: ParsedRef): string {
  switch (r.kind) {
    case 'ip':
      return 'an IPv4 address';
    case 'mac':
      return 'a MAC address';
    case 'iface':
      return 'an interface';
    default:
      return `a ${r.kind}`;
  }
}
