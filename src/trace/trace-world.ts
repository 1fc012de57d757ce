// The lab as a trace sees it: every network namespace (hosts, pods, external nodes, the switch)
// with the kernel state read from it, the cables between them (pod eth0 ↔ host veth, node eth0 ↔
// switch port) and who owns which address and MAC. Pure: built from the resolved lab and the
// snapshots.
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { labSwitches, stitchTunnels, switchKeyOf } from '../plan/engine-placement.js';
import { cidrContains } from '../shared/ipv4.js';
import type { ContainerState, LinkState, NamespaceState } from './kernel-snapshot.js';

export interface NsView {
  /** "host1", "host1/pod1", "switch", "router". */
  key: string;
  /** The lab node whose container holds it. */
  node: string;
  netns?: string;
  container: string;
  state: NamespaceState;
  containerState: ContainerState;
}

export interface IfaceRef {
  ns: string;
  iface: string;
}

const EMPTY_NS: NamespaceState = { links: [], routes: [], neighbours: [], nstat: {}, iptables: '', sysctls: {}, routeAnswers: [] };

/** A node's cables into the switch: eth0 ↔ port `<node>`, or one per segment on a routed underlay. */
export function underlayPorts(node: { name: string; links?: { iface: string; port: string }[] }): { iface: string; port: string }[] {
  return node.links ?? [{ iface: 'eth0', port: node.name }];
}

/** The switch's bridges: `underlay`, or one per segment. */
export function underlayBridges(lab: ResolvedLab): string[] {
  return lab.underlay.segments ? lab.underlay.segments.map((s) => s.bridge) : [lab.underlay.bridge];
}

/** What a stitch device is: the tunnel of one bridge to the other engines' switches. */
export interface StitchEnd {
  engine: string;
  vni: number;
  port: number;
  bridge: string;
}

export function nsKey(node: string, netns?: string): string {
  return netns ? `${node}/${netns}` : node;
}

export class TraceWorld {
  private readonly namespaces = new Map<string, NsView>();
  private readonly cables = new Map<string, IfaceRef>();

  constructor(
    readonly lab: ResolvedLab,
    readonly containers: ContainerState[],
  ) {
    for (const c of containers) {
      for (const ns of c.namespaces) {
        const key = nsKey(c.node, ns.netns);
        this.namespaces.set(key, { key, node: c.node, ...(ns.netns ? { netns: ns.netns } : {}), container: c.container, state: ns, containerState: c });
      }
    }
    const cable = (a: IfaceRef, b: IfaceRef) => {
      this.cables.set(`${a.ns}:${a.iface}`, b);
      this.cables.set(`${b.ns}:${b.iface}`, a);
    };
    for (const host of lab.hosts) {
      for (const pod of host.pods) cable({ ns: nsKey(host.name, pod.name), iface: 'eth0' }, { ns: host.name, iface: pod.hostVeth });
    }
    for (const node of [...lab.hosts, ...lab.externals]) {
      for (const l of underlayPorts(node)) cable({ ns: node.name, iface: l.iface }, { ns: switchKeyOf(lab, node.engine), iface: l.port });
    }
  }

  /** A stitch device of a lab across engines (`stitch`, `stitch1`, … in a switch), or undefined. */
  stitchOf(key: string, iface: string): StitchEnd | undefined {
    const sw = labSwitches(this.lab).find((x) => x.key === key);
    const tunnel = sw?.engine ? stitchTunnels(this.lab).find((t) => t.device === iface) : undefined;
    if (!sw?.engine || !tunnel) return undefined;
    return { engine: sw.engine, vni: tunnel.vni, port: this.lab.stitch!.port, bridge: tunnel.bridge };
  }

  /** On a lab across engines: the tunnel from the engine of namespace `key` toward the engine of the
   * node holding underlay address `ip`, when it is cut (the stitch device of that segment in this
   * engine's switch floods to no address of that machine). An ARP across a cut tunnel goes
   * unanswered: a failed neighbour is then the symptom, and this the cause. */
  cutTunnelToward(key: string, ip: string): { from: string; to: string; switchKey: string; device: string; address: string; evidence: string } | undefined {
    const engines = this.lab.engines;
    if (!engines?.length) return undefined;
    const nodes = [...this.lab.hosts, ...this.lab.externals];
    const here = nodes.find((n) => n.name === this.ns(key).node);
    const there = nodes.find((n) => n.underlayIp === ip || (n.links ?? []).some((l) => l.ip === ip));
    if (!here || !there) return undefined;
    const from = here.engine ?? engines[0]!.name;
    const to = there.engine ?? engines[0]!.name;
    const far = engines.find((e) => e.name === to);
    const switchKey = switchKeyOf(this.lab, from);
    if (from === to || !far || !this.has(switchKey)) return undefined;
    const segment = this.lab.underlay.segments?.find((s) => cidrContains(s.subnet, ip))?.name;
    const tunnel = stitchTunnels(this.lab).find((t) => t.segment === segment);
    if (!tunnel) return undefined;
    const fdb = this.ns(switchKey).containerState.fdb.filter((f) => f.dev === tunnel.device);
    if (fdb.some((f) => f.dst === far.address)) return undefined;
    const entries = fdb.length ? fdb.map((f) => `${f.mac} dst ${f.dst ?? '-'}`).join(', ') : 'no entries';
    return { from, to, switchKey, device: tunnel.device, address: far.address, evidence: `${switchKey}: bridge fdb show dev ${tunnel.device}: ${entries}` };
  }

  /** Whether a MAC is behind one of this switch's own ports on `bridge` (a node on its engine). */
  macBehindLocalPort(key: string, bridge: string, mac: string | undefined): boolean {
    if (!mac) return false;
    return this.portsOf(key, bridge).some((port) => {
      const peer = this.peerOf(key, port.name);
      return peer !== undefined && this.link(peer.ns, peer.iface)?.mac === mac;
    });
  }

  /** The other end of a stitch for a frame to `mac`: the switch (of another engine) that has it
   * behind a port of its own, at that switch's stitch device of the same bridge. */
  stitchedPeer(key: string, iface: string, mac: string | undefined): (IfaceRef & StitchEnd) | undefined {
    const mine = this.stitchOf(key, iface);
    if (!mine) return undefined;
    for (const sw of labSwitches(this.lab)) {
      if (sw.key === key) continue;
      const theirs = this.stitchOf(sw.key, iface);
      if (theirs && this.macBehindLocalPort(sw.key, theirs.bridge, mac)) return { ns: sw.key, iface, ...theirs };
    }
    return undefined;
  }

  /** Every namespace key the lab has (whether or not it was read). */
  allKeys(): string[] {
    return [...this.namespaces.keys()];
  }

  has(key: string): boolean {
    return this.namespaces.has(key);
  }

  ns(key: string): NsView {
    const found = this.namespaces.get(key);
    if (found) return found;
    const [node, netns] = key.split('/');
    return { key, node: node!, ...(netns ? { netns } : {}), container: '', state: EMPTY_NS, containerState: { node: node!, container: '', namespaces: [], fdb: [], processes: [], agents: [] } };
  }

  link(key: string, iface: string): LinkState | undefined {
    return this.ns(key).state.links.find((l) => l.name === iface);
  }

  /** The other end of a cable (veth pair), by lab wiring. */
  peerOf(key: string, iface: string): IfaceRef | undefined {
    return this.cables.get(`${key}:${iface}`);
  }

  /** The namespace and interface that hold an IPv4 address. */
  ownerOfIp(ip: string): (IfaceRef & { mac: string }) | undefined {
    for (const view of this.namespaces.values()) {
      for (const link of view.state.links) {
        if (link.kind === 'loopback') continue;
        if (link.addresses.some((a) => a.ip === ip)) return { ns: view.key, iface: link.name, mac: link.mac };
      }
    }
    return undefined;
  }

  ownerOfMac(mac: string): IfaceRef | undefined {
    const wanted = mac.toLowerCase();
    for (const view of this.namespaces.values()) {
      for (const link of view.state.links) if (link.mac === wanted && link.kind !== 'loopback') return { ns: view.key, iface: link.name };
    }
    return undefined;
  }

  /** "host1/pod1", "host1's docker0", "router" — a MAC in words, or the MAC itself. */
  macName(mac: string): string {
    const owner = this.ownerOfMac(mac);
    if (!owner) return mac;
    if (owner.iface === 'eth0') return owner.ns;
    return `${owner.ns}'s ${owner.iface}`;
  }

  /** "host1/pod1", "host2", "router" — an address in words, or the address itself. */
  ipName(ip: string): string {
    const owner = this.ownerOfIp(ip);
    if (!owner) return ip;
    return owner.iface === 'eth0' ? owner.ns : `${owner.ns}'s ${owner.iface}`;
  }

  isLocal(key: string, ip: string): boolean {
    return this.ns(key).state.links.some((l) => l.addresses.some((a) => a.ip === ip));
  }

  /** The bridge a port belongs to, and the bridge's ports. */
  bridgeOf(key: string, iface: string): LinkState | undefined {
    const master = this.link(key, iface)?.master;
    return master ? this.link(key, master) : undefined;
  }

  portsOf(key: string, bridge: string): LinkState[] {
    return this.ns(key).state.links.filter((l) => l.master === bridge);
  }
}
