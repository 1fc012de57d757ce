// Checks that need more than the JSON Schema (names that must exist or be unique, addresses that
// must fit together), and the conversion of the checked data into the typed LabSpec with defaults.

import type { SpecIssue } from './errors.js';
import {
  broadcastOf,
  cidrContains,
  cidrOf,
  cidrsOverlap,
  formatCidr,
  intToIp,
  ipToInt,
  parseCidrParts,
  prefixMask,
  prefixSize,
  subnetCount,
} from './ipv4.js';
import type { Cidr } from './ipv4.js';
import type {
  Backend,
  CaptureSpec,
  CheckSpec,
  ExternalNodeSpec,
  HostSpec,
  LabSpec,
  PacketMatchSpec,
  PingSpec,
  PodNetworkSpec,
  PodSpec,
} from './model.js';
import type { RawCheck, RawLab, RawNetwork, RawPacketMatch, RawPing } from './raw.js';
import { parseRef } from './refs.js';
import type { ParsedRef } from './refs.js';
import { formatPath } from './source.js';
import type { PathSeg, SpecSource } from './source.js';
import { closest } from './suggest.js';

export const DEFAULT_POD_CIDR = '172.16.0.0/16';
export const DEFAULT_SUBNET_LEN = 24;
export const DEFAULT_BRIDGE = 'docker0';
export const DEFAULT_MTU = 1500;
export const DEFAULT_VNI = 1;
export const DEFAULT_PING_COUNT = 3;
export const MAX_LINUX_NAME = 15;
export const UNDERLAY_MIN_PREFIX = 16;
export const UNDERLAY_MAX_PREFIX = 29;

/** Default UDP port of an overlay backend; 0 for backends without one (none, host-gw). */
export function defaultPort(backend: Backend): number {
  if (backend === 'vxlan') return 8472;
  if (backend === 'udp') return 8285;
  return 0;
}

interface NetInfo {
  spec: PodNetworkSpec;
  path: PathSeg[]; // ["network"] or ["networks", i]
  raw: RawNetwork;
  cidr?: Cidr; // undefined when invalid
  splittable: boolean; // subnetLen is longer than the prefix
}

interface HostSubnet {
  host: string;
  cidr: Cidr;
  path: PathSeg[];
}

interface Member {
  kind: 'host' | 'node';
  path: PathSeg[];
}

export function checkLab(raw: RawLab, src: SpecSource, file: string): { lab: LabSpec; issues: SpecIssue[] } {
  return new Checker(raw, src).run(file);
}

class Checker {
  private readonly issues: SpecIssue[] = [];
  private nets: NetInfo[] = [];
  private underlay?: Cidr;
  private readonly members = new Map<string, Member>();
  private readonly hostPods = new Map<string, string[]>();
  private readonly nodeRoles = new Map<string, string>();
  /** Explicit addresses in the lab (underlay and pod IPs), for "inside the lab" checks. */
  private readonly knownIps = new Set<number>();

  constructor(
    private readonly raw: RawLab,
    private readonly src: SpecSource,
  ) {}

  private err(path: PathSeg[], message: string, hint?: string, anchor: 'value' | 'key' = 'value'): void {
    this.issues.push(this.src.issue(path, message, hint, anchor));
  }

  run(file: string): { lab: LabSpec; issues: SpecIssue[] } {
    const raw = this.raw;
    this.networks();
    this.checkUnderlaySubnet();
    const externals = this.names();
    const hosts = this.hosts();
    this.underlayIps();
    this.gateway();
    const checks = this.checks();

    const lab: LabSpec = {
      name: raw.name,
      file,
      networks: this.nets.map((n) => n.spec),
      underlay: { mtu: raw.underlay?.mtu ?? DEFAULT_MTU },
      hosts,
      externals,
      checks,
    };
    if (raw.description !== undefined) lab.description = raw.description;
    if (raw.image !== undefined) lab.image = raw.image;
    if (raw.underlay?.subnet !== undefined) lab.underlay.subnet = raw.underlay.subnet;
    if (raw.underlay?.gateway !== undefined) lab.underlay.gateway = raw.underlay.gateway;
    return { lab, issues: this.issues };
  }

  // ---------------------------------------------------------------- networks

  private networks(): void {
    const single = this.raw.networks === undefined;
    const raws = single ? [this.raw.network ?? {}] : (this.raw.networks ?? []);
    const byName = new Map<string, PathSeg[]>();
    const byBridge = new Map<string, NetInfo>();
    raws.forEach((r, i) => {
      const path: PathSeg[] = single ? ['network'] : ['networks', i];
      const backend: Backend = r.backend ?? 'none';
      const spec: PodNetworkSpec = {
        name: single ? 'default' : (r.name ?? `network${i}`),
        cidr: r.cidr ?? DEFAULT_POD_CIDR,
        subnetLen: r.subnetLen ?? DEFAULT_SUBNET_LEN,
        bridge: r.bridge ?? DEFAULT_BRIDGE,
        backend,
        controlPlane: r.controlPlane ?? (backend === 'vxlan' || backend === 'udp' ? 'etcd' : 'static'),
        vni: r.vni ?? DEFAULT_VNI,
        port: r.port ?? defaultPort(backend),
        nat: r.nat ?? true,
        leaseTtl: r.leaseTtl ?? 86_400,
      };
      const info: NetInfo = { spec, path, raw: r, splittable: false };
      if (backend === 'udp' && r.controlPlane === 'static') {
        this.err(
          [...path, 'controlPlane'],
          'the udp backend forwards every packet through the userspace agent, which learns its peers from etcd; it has no static form.',
          'Use controlPlane: etcd (the default for udp), or backend: vxlan or host-gw for a static control plane.',
        );
      }

      if (!single) {
        const first = byName.get(spec.name);
        if (first) this.err([...path, 'name'], `duplicate network name "${spec.name}"; ${formatPath(first)} already uses it.`);
        else byName.set(spec.name, path);
      }

      info.cidr = this.cidr([...path, 'cidr'], spec.cidr);
      if (info.cidr) {
        if (spec.subnetLen < info.cidr.prefix) {
          this.err(
            [...path, 'subnetLen'],
            `subnetLen ${spec.subnetLen} is shorter than the prefix of ${spec.cidr} (/${info.cidr.prefix}); host subnets must fit inside the network.`,
            `Use a subnetLen between ${info.cidr.prefix} and 30.`,
          );
        } else {
          info.splittable = true; // subnetLen == prefix: one host gets the whole network
        }
      }

      if (Buffer.byteLength(spec.bridge, 'utf8') > MAX_LINUX_NAME)
        this.err(
          [...path, 'bridge'],
          `"${spec.bridge}" is ${Buffer.byteLength(spec.bridge, 'utf8')} bytes in UTF-8; Linux interface names are at most ${MAX_LINUX_NAME} bytes.`,
          'Use a shorter name.',
        );
      const sameBridge = byBridge.get(spec.bridge);
      if (sameBridge)
        this.err(
          [...path, 'bridge'],
          `bridge "${spec.bridge}"${r.bridge === undefined ? ' (the default)' : ''} is already used by network "${sameBridge.spec.name}"; each pod network needs its own bridge.`,
          `Set bridge: to another name, e.g. "cni${i}".`,
        );
      else byBridge.set(spec.bridge, info);

      for (const other of this.nets) this.networkPair(other, info);
      this.nets.push(info);
    });

    const hostCount = this.raw.hosts.length;
    for (const n of this.nets) {
      if (!n.cidr || !n.splittable) continue;
      const room = subnetCount(n.cidr.prefix, n.spec.subnetLen);
      if (hostCount > room)
        this.err(
          [...n.path, 'cidr'],
          `${n.spec.cidr} has room for ${room} /${n.spec.subnetLen} host ${room === 1 ? 'subnet' : 'subnets'}, but the lab has ${hostCount} hosts.`,
          'Use a larger cidr or a longer subnetLen.',
        );
    }
  }

  /** Conflicts between two pod networks (b comes after a in the file; b gets the error). */
  private networkPair(a: NetInfo, b: NetInfo): void {
    if (a.cidr && b.cidr && cidrsOverlap(a.cidr, b.cidr))
      this.err([...b.path, 'cidr'], `${b.spec.cidr} overlaps network "${a.spec.name}" (${a.spec.cidr}).`, 'Pod networks must not share addresses.');
    const x = a.spec;
    const y = b.spec;
    const overlay = (n: PodNetworkSpec) => n.backend === 'vxlan' || n.backend === 'udp';
    if (!overlay(x) || !overlay(y) || x.port !== y.port) return;
    const portNote = b.raw.port === undefined ? ' (the default)' : '';
    if (x.backend === 'vxlan' && y.backend === 'vxlan') {
      if (x.vni === y.vni)
        this.err(
          [...b.path, 'vni'],
          `VNI ${y.vni}${b.raw.vni === undefined ? ' (the default)' : ''} on port ${y.port} is already used by network "${x.name}"; two vxlan networks on one port need different VNIs.`,
          `Set vni: ${Math.max(x.vni, y.vni) + 1 > 16777215 ? 0 : Math.max(x.vni, y.vni) + 1}, for example.`,
        );
    } else if (x.backend !== y.backend) {
      this.err(
        [...b.path, 'port'],
        `port ${y.port}${portNote} is already used by network "${x.name}" (${x.backend}); a ${y.backend} network cannot share it.`,
        'Set another port.',
      );
    } else {
      this.err(
        [...b.path, 'port'],
        `port ${y.port}${portNote} is already used by network "${x.name}"; two udp networks cannot share a port.`,
        'Set another port.',
      );
    }
  }

  /** Parses a CIDR the schema has already checked for syntax; reports host bits set. */
  private cidr(path: PathSeg[], s: string): Cidr | undefined {
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

  // ---------------------------------------------------------------- underlay

  private checkUnderlaySubnet(): void {
    const s = this.raw.underlay?.subnet;
    if (s === undefined) return;
    const path: PathSeg[] = ['underlay', 'subnet'];
    const c = this.cidr(path, s);
    if (!c) return;
    if (c.prefix < UNDERLAY_MIN_PREFIX || c.prefix > UNDERLAY_MAX_PREFIX) {
      this.err(
        path,
        `${s} is a /${c.prefix}; the underlay subnet must be between /${UNDERLAY_MIN_PREFIX} and /${UNDERLAY_MAX_PREFIX}.`,
        c.prefix < UNDERLAY_MIN_PREFIX ? `Use a smaller network, e.g. ${formatCidr(cidrOf(c.network, 24))}.` : 'Use a larger network, e.g. a /24.',
      );
      return;
    }
    this.underlay = c;
    for (const n of this.nets) {
      if (n.cidr && cidrsOverlap(c, n.cidr))
        this.err(path, `${s} overlaps pod network "${n.spec.name}" (${n.spec.cidr}).`, 'The underlay and the pod networks must not share addresses.');
    }
    const members = this.raw.hosts.length + (this.raw.nodes?.length ?? 0);
    const room = prefixSize(c.prefix) - 3; // network, Docker's gateway (.1), broadcast
    if (members > room)
      this.err(path, `${s} has room for ${room} hosts and nodes, but the lab has ${members}.`, 'Use a larger underlay subnet.');
  }

  private underlayIps(): void {
    const seen = new Map<number, string>();
    const entries: { name: string; ip?: string; path: PathSeg[] }[] = [
      ...this.raw.hosts.map((h, i) => ({ name: h.name, ip: h.underlayIp, path: ['hosts', i, 'underlayIp'] as PathSeg[] })),
      ...(this.raw.nodes ?? []).map((n, i) => ({ name: n.name, ip: n.underlayIp, path: ['nodes', i, 'underlayIp'] as PathSeg[] })),
    ];
    for (const e of entries) {
      if (e.ip === undefined) continue;
      const n = ipToInt(e.ip);
      const u = this.underlay;
      if (u) {
        const range = `Use an address from ${intToIp(u.network + 2)} to ${intToIp(broadcastOf(u) - 1)}.`;
        if (!cidrContains(u, n)) {
          this.err(e.path, `${e.ip} is outside the underlay subnet ${formatCidr(u)}.`, range);
          continue;
        }
        if (n === u.network) {
          this.err(e.path, `${e.ip} is the network address of the underlay subnet ${formatCidr(u)}.`, range);
          continue;
        }
        if (n === broadcastOf(u)) {
          this.err(e.path, `${e.ip} is the broadcast address of the underlay subnet ${formatCidr(u)}.`, range);
          continue;
        }
        if (n === u.network + 1) {
          this.err(e.path, `${e.ip} is reserved: Docker gives the first address of the underlay subnet to its bridge.`, range);
          continue;
        }
      } else {
        const inPod = this.nets.find((net) => net.cidr && cidrContains(net.cidr, n));
        if (inPod) {
          this.err(e.path, `${e.ip} lies inside pod network "${inPod.spec.name}" (${inPod.spec.cidr}).`, 'Underlay addresses must be outside the pod networks.');
          continue;
        }
      }
      const first = seen.get(n);
      if (first !== undefined) {
        this.err(e.path, `${e.ip} is already the underlay address of ${first}.`);
        continue;
      }
      seen.set(n, e.name);
      this.knownIps.add(n);
    }
  }

  private gateway(): void {
    const gw = this.raw.underlay?.gateway;
    if (gw === undefined) return;
    const path: PathSeg[] = ['underlay', 'gateway'];
    const m = this.members.get(gw);
    if (!m) {
      const routers = [...this.nodeRoles].filter(([, role]) => role === 'router').map(([name]) => name);
      const close = closest(gw, routers);
      this.err(
        path,
        `unknown node "${gw}".`,
        close ? `Did you mean "${close}"?` : `Define it under nodes: with role: router.`,
      );
    } else if (m.kind === 'host') {
      this.err(path, `"${gw}" is a host; the gateway must be an external node with role router.`);
    } else if (this.nodeRoles.get(gw) !== 'router') {
      this.err(path, `node "${gw}" has role ${this.nodeRoles.get(gw)}; the gateway must be a router.`, `Set role: router on ${formatPath(m.path)}.`);
    }
  }

  // ---------------------------------------------------------------- hosts and nodes

  /** Registers host and node names (one namespace); returns the external nodes. */
  private names(): ExternalNodeSpec[] {
    this.raw.hosts.forEach((h, i) => {
      const path: PathSeg[] = ['hosts', i];
      const first = this.members.get(h.name);
      if (first) this.err([...path, 'name'], `duplicate host name "${h.name}"; ${formatPath(first.path)} already uses it.`);
      else this.members.set(h.name, { kind: 'host', path });
    });
    const externals: ExternalNodeSpec[] = [];
    (this.raw.nodes ?? []).forEach((n, i) => {
      const path: PathSeg[] = ['nodes', i];
      const first = this.members.get(n.name);
      if (first?.kind === 'host')
        this.err(
          [...path, 'name'],
          `"${n.name}" is already the name of ${formatPath(first.path)}; hosts and external nodes share one namespace.`,
          'Use another name.',
        );
      else if (first) this.err([...path, 'name'], `duplicate node name "${n.name}"; ${formatPath(first.path)} already uses it.`);
      else {
        this.members.set(n.name, { kind: 'node', path });
        this.nodeRoles.set(n.name, n.role);
      }
      const spec: ExternalNodeSpec = { name: n.name, role: n.role };
      if (n.underlayIp !== undefined) spec.underlayIp = n.underlayIp;
      externals.push(spec);
    });
    return externals;
  }

  private hosts(): HostSpec[] {
    const multi = this.raw.networks !== undefined;
    const firstNet = this.nets[0]?.spec.name ?? 'default';
    const netNames = this.nets.map((n) => n.spec.name);
    const subnetsByNet = new Map<string, HostSubnet[]>();
    const podIps = new Map<number, string>();
    const out: HostSpec[] = [];

    this.raw.hosts.forEach((h, hi) => {
      const hpath: PathSeg[] = ['hosts', hi];
      const host: HostSpec = { name: h.name, subnets: {}, pods: [] };
      if (h.underlayIp !== undefined) host.underlayIp = h.underlayIp;

      // Subnets, per network.
      const given: { net: string; cidr: string; path: PathSeg[] }[] = [];
      if (h.subnet !== undefined && h.subnets !== undefined)
        this.err([...hpath, 'subnets'], '"subnet" and "subnets" are both given.', 'Use one of them.', 'key');
      if (h.subnet !== undefined) {
        if (multi)
          this.err(
            [...hpath, 'subnet'],
            '"subnet" is for labs with a single "network"; this lab has "networks".',
            `Write subnets: {${firstNet}: ${h.subnet}}.`,
            'key',
          );
        else given.push({ net: firstNet, cidr: h.subnet, path: [...hpath, 'subnet'] });
      }
      for (const [net, cidr] of Object.entries(h.subnets ?? {})) {
        const path: PathSeg[] = [...hpath, 'subnets', net];
        if (!netNames.includes(net)) {
          const close = closest(net, netNames);
          this.err(path, `unknown network "${net}".`, close ? `Did you mean "${close}"?` : `Networks: ${netNames.join(', ')}.`, 'key');
          continue;
        }
        given.push({ net, cidr, path });
      }
      const hostCidrs = new Map<string, Cidr>();
      for (const g of given) {
        host.subnets[g.net] = g.cidr;
        const c = this.hostSubnet(h.name, g.net, g.cidr, g.path, subnetsByNet);
        if (c) hostCidrs.set(g.net, c);
      }

      // Pods.
      const seen = new Map<string, PathSeg[]>();
      const perNet = new Map<string, number>();
      (h.pods ?? []).forEach((p, pi) => {
        const ppath: PathSeg[] = [...hpath, 'pods', pi];
        const obj = typeof p === 'string' ? { name: p } : p;
        const namePath = typeof p === 'string' ? ppath : [...ppath, 'name'];
        const pod: PodSpec = { name: obj.name, network: obj.network ?? firstNet };
        if (obj.ip !== undefined) pod.ip = obj.ip;
        host.pods.push(pod);

        const first = seen.get(obj.name);
        if (first) this.err(namePath, `duplicate pod name "${obj.name}" in ${h.name}; ${formatPath(first)} already uses it.`);
        else seen.set(obj.name, namePath);

        const net = this.nets.find((n) => n.spec.name === pod.network);
        if (!net) {
          const close = closest(pod.network, netNames);
          this.err([...ppath, 'network'], `unknown network "${pod.network}".`, close ? `Did you mean "${close}"?` : `Networks: ${netNames.join(', ')}.`);
          return;
        }
        perNet.set(pod.network, (perNet.get(pod.network) ?? 0) + 1);
        if (obj.ip !== undefined) this.podIp(h.name, obj.name, obj.ip, [...ppath, 'ip'], net, hostCidrs.get(net.spec.name), multi, podIps);
      });
      for (const [netName, count] of perNet) {
        const net = this.nets.find((n) => n.spec.name === netName);
        if (!net) continue;
        const room = prefixSize(net.spec.subnetLen) - 3; // network, bridge, broadcast
        if (count > room)
          this.err(
            [...hpath, 'pods'],
            `${h.name} has ${count} pods on network "${netName}", but a /${net.spec.subnetLen} host subnet holds only ${room}.`,
            'Use a smaller subnetLen (larger host subnets).',
          );
      }
      this.hostPods.set(h.name, host.pods.map((p) => p.name));
      out.push(host);
    });
    return out;
  }

  private hostSubnet(host: string, netName: string, s: string, path: PathSeg[], byNet: Map<string, HostSubnet[]>): Cidr | undefined {
    const net = this.nets.find((n) => n.spec.name === netName);
    const c = this.cidr(path, s);
    if (!c || !net || !net.cidr) return c;
    const len = net.spec.subnetLen;
    const where = `network "${netName}" (${net.spec.cidr})`;
    if (!cidrContains(net.cidr, c.network)) {
      this.err(path, `${s} is outside ${where}.`);
      return undefined;
    }
    if (c.prefix !== len) {
      const suggestion = formatCidr(cidrOf(c.network, len));
      this.err(path, `${s} is a /${c.prefix}, but ${where} gives each host a /${len} (subnetLen).`, `Use a /${len}, e.g. ${suggestion}.`);
      return undefined;
    }
    const list = byNet.get(netName) ?? [];
    const clash = list.find((o) => cidrsOverlap(o.cidr, c));
    if (clash) {
      this.err(path, `${s} overlaps the subnet of ${clash.host} (${formatCidr(clash.cidr)}) on network "${netName}".`, 'Each host needs its own subnet.');
      return undefined;
    }
    list.push({ host, cidr: c, path });
    byNet.set(netName, list);
    return c;
  }

  private podIp(
    host: string,
    pod: string,
    ip: string,
    path: PathSeg[],
    net: NetInfo,
    hostCidr: Cidr | undefined,
    multi: boolean,
    seen: Map<number, string>,
  ): void {
    const n = ipToInt(ip);
    if (!net.cidr) return;
    if (!cidrContains(net.cidr, n)) {
      this.err(path, `${ip} is outside network "${net.spec.name}" (${net.spec.cidr}).`);
      return;
    }
    if (!hostCidr) {
      const hostRaw = this.raw.hosts.find((h) => h.name === host);
      const explicit = multi ? hostRaw?.subnets?.[net.spec.name] : hostRaw?.subnet;
      if (explicit !== undefined) return; // the subnet itself is wrong; reported there
      const suggestion = formatCidr(cidrOf(n, net.spec.subnetLen));
      this.err(
        path,
        `${ip} is a fixed pod address, but ${host} has no fixed subnet on network "${net.spec.name}".`,
        multi ? `Add subnets: {${net.spec.name}: ${suggestion}} to ${host}.` : `Add subnet: ${suggestion} to ${host}.`,
      );
      return;
    }
    const sub = formatCidr(hostCidr);
    const range = `Use an address from ${intToIp(hostCidr.network + 2)} to ${intToIp(broadcastOf(hostCidr) - 1)}.`;
    if (!cidrContains(hostCidr, n)) {
      this.err(path, `${ip} is outside ${host}'s subnet ${sub}.`, range);
      return;
    }
    if (n === hostCidr.network) {
      this.err(path, `${ip} is the network address of ${host}'s subnet ${sub}.`, range);
      return;
    }
    if (n === hostCidr.network + 1) {
      this.err(path, `${ip} is the address of the bridge ${net.spec.bridge} in ${host}'s subnet ${sub}.`, range);
      return;
    }
    if (n === broadcastOf(hostCidr)) {
      this.err(path, `${ip} is the broadcast address of ${host}'s subnet ${sub}.`, range);
      return;
    }
    const first = seen.get(n);
    if (first !== undefined) {
      this.err(path, `${ip} is already the address of ${first}.`);
      return;
    }
    seen.set(n, `${host}/${pod}`);
    this.knownIps.add(n);
  }

  // ---------------------------------------------------------------- checks

  private checks(): CheckSpec[] {
    const seen = new Map<string, PathSeg[]>();
    return (this.raw.checks ?? []).map((c, i) => {
      const path: PathSeg[] = ['checks', i];
      const first = seen.get(c.name);
      if (first) this.err([...path, 'name'], `duplicate check name "${c.name}"; ${formatPath(first)} already uses it.`);
      else seen.set(c.name, path);
      return this.check(c, path);
    });
  }

  private check(c: RawCheck, path: PathSeg[]): CheckSpec {
    const pos = this.src.position(path);
    const spec: CheckSpec = { name: c.name, position: { file: this.src.file, line: pos.line, col: pos.col } };
    if (c.description !== undefined) spec.description = c.description;
    if (c.ping) spec.ping = this.ping(c.ping, [...path, 'ping']);
    if (c.capture) {
      const cp: PathSeg[] = [...path, 'capture'];
      const on = this.ref(c.capture.on, [...cp, 'on']);
      if (on && on.kind !== 'iface')
        this.err(
          [...cp, 'on'],
          `"${c.capture.on}" is not an interface; a capture needs host:iface or host/pod:iface.`,
          on.kind === 'host' || on.kind === 'pod' || on.kind === 'node' ? `E.g. "${c.capture.on}:eth0".` : undefined,
        );
      else if (on) this.exists(on, [...cp, 'on'], c.capture.on);
      const capture: CaptureSpec = {
        on: c.capture.on,
        during: { ping: this.ping(c.capture.during.ping, [...cp, 'during', 'ping']) },
        expect: (c.capture.expect ?? []).map((m, j) => this.match(m, [...cp, 'expect', j])),
        absent: (c.capture.absent ?? []).map((m, j) => this.match(m, [...cp, 'absent', j])),
      };
      spec.capture = capture;
    }
    if (c.kernel) {
      const kp: PathSeg[] = [...path, 'kernel'];
      const network = this.overlayNetwork(c.kernel.network, [...kp, 'network'], (b) => b !== 'none', 'an overlay backend (host-gw, vxlan or udp)');
      this.hostRef(c.kernel.on, [...kp, 'on']);
      this.hostRef(c.kernel.peer, [...kp, 'peer']);
      if (c.kernel.on === c.kernel.peer) this.err([...kp, 'peer'], `a host holds no peer state for itself.`, 'Name another host as peer.');
      spec.kernel = { on: c.kernel.on, peer: c.kernel.peer, network };
    }
    if (c.lease) {
      const lp: PathSeg[] = [...path, 'lease'];
      const network = this.overlayNetwork(c.lease.network, [...lp, 'network'], (b, cp) => b !== 'none' && cp === 'etcd', 'an overlay with controlPlane: etcd');
      this.hostRef(c.lease.host, [...lp, 'host']);
      spec.lease = { host: c.lease.host, network };
    }
    if (c.agentCost) {
      const ap: PathSeg[] = [...path, 'agentCost'];
      const network = this.overlayNetwork(c.agentCost.network, [...ap, 'network'], (b) => b === 'udp', 'the udp backend');
      this.hostRef(c.agentCost.on, [...ap, 'on']);
      spec.agentCost = { on: c.agentCost.on, network, during: { ping: this.ping(c.agentCost.during.ping, [...ap, 'during', 'ping']) } };
    }
    return spec;
  }

  /** A reference that must name a host (not a pod, node or address). */
  private hostRef(s: string, path: PathSeg[]): void {
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
  private overlayNetwork(name: string | undefined, path: PathSeg[], fits: (b: Backend, cp: string) => boolean, what: string): string {
    const candidates = this.nets.map((n) => n.spec);
    const chosen = name === undefined ? candidates.find((n) => fits(n.backend, n.controlPlane)) : candidates.find((n) => n.name === name);
    if (name !== undefined && !chosen) {
      this.err(path, `unknown network "${name}".`, `The networks: ${candidates.map((n) => n.name).join(', ')}.`);
      return name;
    }
    if (!chosen || !fits(chosen.backend, chosen.controlPlane)) {
      this.err(path, `this check needs ${what}, and ${chosen ? `network "${chosen.name}" has backend ${chosen.backend} (controlPlane ${chosen.controlPlane})` : 'the lab has none'}.`);
      return chosen?.name ?? name ?? 'default';
    }
    return chosen.name;
  }

  private ping(p: RawPing, path: PathSeg[]): PingSpec {
    const from = this.ref(p.from, [...path, 'from']);
    if (from) {
      if (from.kind === 'ip' || from.kind === 'mac' || from.kind === 'iface')
        this.err(
          [...path, 'from'],
          `"${p.from}" is ${refKindText(from)}; a ping must come from a host, a pod (host/pod) or an external node.`,
        );
      else this.exists(from, [...path, 'from'], p.from);
    }
    const to = this.ref(p.to, [...path, 'to']);
    if (to) {
      if (to.kind === 'mac' || to.kind === 'iface')
        this.err(
          [...path, 'to'],
          `"${p.to}" is ${refKindText(to)}; a ping goes to a host, a pod, an external node or an IPv4 address inside the lab.`,
        );
      else if (to.kind === 'ip') this.insideLab(to.ip, [...path, 'to']);
      else this.exists(to, [...path, 'to'], p.to);
    }
    return { from: p.from, to: p.to, count: p.count ?? DEFAULT_PING_COUNT, expect: p.expect ?? 'reachable' };
  }

  private match(m: RawPacketMatch, path: PathSeg[]): PacketMatchSpec {
    const out: PacketMatchSpec = {};
    if (m.proto !== undefined) out.proto = m.proto;
    for (const key of ['src', 'dst'] as const) {
      const s = m[key];
      if (s === undefined) continue;
      out[key] = s;
      const r = this.ref(s, [...path, key]);
      if (!r) continue;
      if (r.kind === 'mac')
        this.err([...path, key], `${key} matches IPv4 addresses, but "${s}" is a MAC address.`, `Use ${key}Mac for MAC addresses.`);
      else if (r.kind !== 'ip') this.exists(r, [...path, key], s);
    }
    for (const key of ['srcMac', 'dstMac'] as const) {
      const s = m[key];
      if (s === undefined) continue;
      out[key] = s;
      const r = this.ref(s, [...path, key]);
      if (!r) continue;
      if (r.kind === 'ip')
        this.err([...path, key], `${key} matches MAC addresses, but "${s}" is an IPv4 address.`, `Use ${key.slice(0, 3)} for IPv4 addresses.`);
      else if (r.kind !== 'mac') this.exists(r, [...path, key], s);
    }
    if (m.srcPort !== undefined) out.srcPort = m.srcPort;
    if (m.dstPort !== undefined) out.dstPort = m.dstPort;
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

  /** Parses a reference (the schema has checked its syntax). */
  private ref(s: string, path: PathSeg[]): ParsedRef | undefined {
    const r = parseRef(s, this.nodeRoles.keys());
    if (!r) this.err(path, `${JSON.stringify(s)} is not a valid reference.`);
    return r;
  }

  /** Reports names in a reference that do not exist in the lab. */
  private exists(r: ParsedRef, path: PathSeg[], text: string): void {
    const all = [...this.members.keys()];
    const hostNames = [...this.members].filter(([, m]) => m.kind === 'host').map(([n]) => n);
    const unknown = (name: string, pool: string[], what: string) => {
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
      const pods = this.hostPods.get(host) ?? [];
      if (!pods.includes(pod)) {
        const close = closest(pod, pods);
        this.err(
          path,
          `${host} has no pod "${pod}".`,
          close ? `Did you mean "${host}/${close}"?` : pods.length ? `Its pods: ${pods.join(', ')}.` : `It has no pods; add "${pod}" to its pods: list.`,
        );
      }
    };
    switch (r.kind) {
      case 'host':
        if (!this.members.has(r.host)) unknown(r.host, all, 'host or node');
        return;
      case 'node':
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

  /** A literal address a ping may target: inside a pod network or the underlay, or a known lab address. */
  private insideLab(ip: string, path: PathSeg[]): void {
    const n = ipToInt(ip);
    if (this.knownIps.has(n)) return;
    if (this.nets.some((net) => net.cidr && cidrContains(net.cidr, n))) return;
    if (this.underlay && cidrContains(this.underlay, n)) return;
    const ranges = this.nets.filter((net) => net.cidr).map((net) => net.spec.cidr);
    if (this.underlay) ranges.push(formatCidr(this.underlay));
    this.err(
      path,
      `${ip} is outside the lab; overlab only pings addresses inside the lab.`,
      `Use a lab member's name or an address in ${ranges.join(' or ')}${this.underlay ? '' : ' (set underlay.subnet to ping underlay addresses by number)'}.`,
    );
  }
}

function refKindText(r: ParsedRef): string {
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
