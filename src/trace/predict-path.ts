// The static trace: walk the probe through the lab from the kernel's tables alone — route lookups
// (or the kernel's own `ip route get` answers), neighbours, the FDBs of bridges and VTEPs, MTUs,
// link states, the forwarding sysctl, iptables rules and the udp agents' subnet tables — and say
// at every interface what it would look like, or where and why it would stop. Pure. The live trace
// uses the same walk to choose where to listen, and to say when the packet did something else.
import type { DecodedPacket } from '../pcap/packet.js';
import { cidrContains, cidrOf, formatCidr } from '../shared/ipv4.js';
import type { Observation } from './change-facts.js';
import { evaluateChain, isDropTarget, parseIptablesSave, type IptablesState, type PacketFacts } from './iptables-rules.js';
import type { LinkState } from './kernel-snapshot.js';
import type { HopDirection, TraceDrop, TraceProto } from './trace-result.js';
import { describeRouteQuery, routeQueryKey, type RouteDecision, type RouteQuery } from './route-get.js';
import { lookupRoute } from './route-lookup.js';
import type { TraceWorld } from './trace-world.js';
import { underlaySubnets } from '../plan/resolve-lab.js';
import { translate, type ServiceStep } from './service-translation.js';

export interface ProbeShape {
  proto: TraceProto;
  /** IPv4 total length. */
  length: number;
  srcPort?: number;
  dstPort?: number;
  /** Don't Fragment: ping -M do sets it; udp/tcp leave path MTU discovery to the kernel (set). */
  df: boolean;
}

export interface WalkInput {
  world: TraceWorld;
  /** Namespace the probe starts in. */
  from: string;
  /** Destination address. */
  dst: string;
  probe: ProbeShape;
  /** The kernel's answers to `ip route get`, keyed by routeQueryKey(). */
  kernelRoutes?: Map<string, RouteDecision>;
  /** Which endpoint to follow when kube-proxy's rules choose one of several (0-based). */
  choice?: number;
  /** A reply walk: the translation the request got, which conntrack undoes on the way back. */
  conntrack?: NatEntry;
}

export interface FlowAddresses {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

/** What conntrack remembers of a translated flow: the request as sent, and as it left. */
export interface NatEntry {
  /** The namespace whose conntrack holds it. */
  ns: string;
  original: FlowAddresses;
  translated: FlowAddresses;
}

/** The key of the sysctl that makes a bridge hand IPv4 frames to iptables (br_netfilter). */
export const BRIDGE_NF_CALL_IPTABLES = 'net.bridge.bridge-nf-call-iptables';

export interface WalkResult {
  observations: Observation[];
  delivered: boolean;
  /** Namespace where it was delivered. */
  deliveredIn?: string;
  drop?: TraceDrop;
  /** Every routing decision the walk took, to ask the kernel about. */
  queries: RouteQuery[];
  /** Where kube-proxy's rules rewrote the destination (or refused it), if they did. */
  service?: ServiceStep;
  /** The translation the packet got (destination, and source when masqueraded). */
  nat?: NatEntry;
  /** A reply walk: whether conntrack undid the translation on the way (false: it skipped it). */
  undone?: boolean;
}

interface Packet {
  src: string;
  dst: string;
  ttl: number;
  length: number;
  df: boolean;
  proto: TraceProto;
  srcPort?: number;
  dstPort?: number;
  srcMac?: string;
  dstMac?: string;
  /** Marked for masquerade by kube-proxy's rules (0x4000). */
  mark?: number;
  /** Set on an outer packet: what it carries. */
  encap?: { type: 'vxlan' | 'flannel-udp'; vni?: number; inner: Packet };
}

const MAX_STEPS = 64;
const BROADCAST = 'ff:ff:ff:ff:ff:ff';

class Stop extends Error {}

/** A packet as the decoders would have produced it, so summaries and change words are shared. */
export function synthesize(p: Packet): DecodedPacket {
  const decoded: DecodedPacket = {};
  if (p.srcMac && p.dstMac) decoded.eth = { src: p.srcMac, dst: p.dstMac, etherType: 0x0800 };
  decoded.ipv4 = { src: p.src, dst: p.dst, protocol: p.proto === 'icmp' ? 1 : p.proto === 'tcp' ? 6 : 17, ttl: p.ttl, totalLength: p.length, id: 0 };
  if (p.proto === 'icmp') decoded.icmp = { type: 8, code: 0, kind: 'echo-request' };
  else if (p.proto === 'tcp') decoded.tcp = { srcPort: p.srcPort ?? 0, dstPort: p.dstPort ?? 0, flags: 0x02 };
  else decoded.udp = { srcPort: p.srcPort ?? 0, dstPort: p.dstPort ?? 0, length: p.length - 20 };
  if (p.encap) {
    if (p.encap.type === 'vxlan') decoded.vxlan = { vni: p.encap.vni ?? 0 };
    decoded.encapsulation = p.encap.type;
    decoded.inner = synthesize(p.encap.inner);
  }
  return decoded;
}

function isUp(link: LinkState): boolean {
  return link.flags.includes('UP') && !link.flags.includes('NO-CARRIER') && link.state !== 'DOWN' && link.state !== 'LOWERLAYERDOWN';
}

class Walker {
  readonly observations: Observation[] = [];
  readonly queries: RouteQuery[] = [];
  delivered = false;
  deliveredIn?: string;
  drop?: TraceDrop;
  service?: ServiceStep;
  nat?: NatEntry;
  undone?: boolean;
  private steps = 0;
  private readonly firewalls = new Map<string, IptablesState>();

  constructor(private readonly input: WalkInput) {}

  private get world(): TraceWorld {
    return this.input.world;
  }

  run(): void {
    try {
      const ns = this.input.from;
      let route = this.route({ ns, dst: this.input.dst });
      const src = this.sourceAddress(ns, route);
      const p = this.input.probe;
      let packet: Packet = {
        src,
        dst: this.input.dst,
        ttl: 64,
        length: p.length,
        df: p.df,
        proto: p.proto,
        ...(p.srcPort !== undefined ? { srcPort: p.srcPort } : {}),
        ...(p.dstPort !== undefined ? { dstPort: p.dstPort } : {}),
      };
      // A packet a node sends itself meets kube-proxy's rules in OUTPUT, before routing again.
      const translated = this.services(ns, packet, ns);
      if (translated !== packet) {
        packet = translated;
        route = this.route({ ns, dst: packet.dst });
      }
      this.output(ns, packet, route, undefined);
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
    }
  }

  private stop(ns: string, iface: string, reason: string, evidence: string[] = []): never {
    this.drop = { node: ns, iface, reason, evidence };
    throw new Stop(reason);
  }

  private emit(ns: string, iface: string, direction: HopDirection, packet: Packet): void {
    if (++this.steps > MAX_STEPS) this.stop(ns, iface, `the packet loops: more than ${MAX_STEPS} hops`);
    const link = this.world.link(ns, iface);
    this.observations.push({ node: ns, iface, direction, linkKind: link?.kind ?? '', packet: synthesize(packet) });
  }

  private route(q: RouteQuery): RouteDecision {
    this.queries.push(q);
    const kernel = this.input.kernelRoutes?.get(routeQueryKey(q));
    return kernel ?? lookupRoute(this.world.ns(q.ns).state, q.dst);
  }

  private firewall(ns: string): IptablesState {
    let state = this.firewalls.get(ns);
    if (!state) {
      state = parseIptablesSave(this.world.ns(ns).state.iptables);
      this.firewalls.set(ns, state);
    }
    return state;
  }

  private checkChain(ns: string, table: string, chain: string, facts: PacketFacts, iface: string): string | undefined {
    const verdict = evaluateChain(this.firewall(ns), table, chain, facts);
    if (verdict && isDropTarget(verdict.verdict)) {
      const what = verdict.rule ? `iptables ${verdict.rule.text}` : `iptables ${table} ${chain} policy ${verdict.verdict}`;
      this.stop(ns, iface, `firewall: ${what}`, [`${ns}: ${what} (${table} table) matches the probe`]);
    }
    return verdict?.verdict;
  }

  private facts(p: Packet, iif?: string, oif?: string): PacketFacts {
    return {
      src: p.src,
      dst: p.dst,
      proto: p.encap ? 'udp' : p.proto,
      ...(iif ? { iif } : {}),
      ...(oif ? { oif } : {}),
      ...(p.srcPort !== undefined ? { sport: p.srcPort } : {}),
      ...(p.dstPort !== undefined ? { dport: p.dstPort } : {}),
      ...(p.mark ? { mark: p.mark } : {}),
    };
  }

  private sourceAddress(ns: string, route: RouteDecision): string {
    if (route.prefsrc) return route.prefsrc;
    const links = this.world.ns(ns).state.links;
    const dev = route.dev ? links.find((l) => l.name === route.dev) : undefined;
    return dev?.addresses[0]?.ip ?? links.find((l) => l.kind !== 'loopback' && l.addresses.length)?.addresses[0]?.ip ?? '0.0.0.0';
  }

  /** Words for the destination's subnet: "172.16.2.0/24 (host2's pod subnet)". */
  private subnetWords(ip: string): string {
    for (const host of this.world.lab.hosts) {
      for (const hn of host.networks) {
        for (const block of hn.blocks ?? []) if (cidrContains(block, ip)) return `${block} (${host.name}'s block)`;
        if (cidrContains(hn.subnet, ip)) return `${hn.subnet} (${host.name}'s pod subnet)`;
      }
    }
    for (const network of this.world.lab.networks) {
      if (network.blockSize !== undefined && cidrContains(network.cidr, ip)) return `${formatCidr(cidrOf(ip, network.blockSize))} (no host's block)`;
      if (cidrContains(network.cidr, ip)) return `${formatCidr(cidrOf(ip, network.subnetLen))} (no host's pod subnet)`;
    }
    if (underlaySubnets(this.world.lab).some((s) => cidrContains(s, ip))) return `${ip} on the underlay`;
    return `${ip}/32`;
  }

  private routeEvidence(ns: string, q: RouteQuery, route: RouteDecision): string[] {
    const table = this.world.ns(ns).state.routes.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`);
    const lines = [`${ns}: routes are ${table.length ? table.join('; ') : '(none)'}`];
    if (route.kernel) lines.unshift(`${ns}: \`${describeRouteQuery(q)}\` answers: ${route.kernel}`);
    return lines;
  }

  private output(ns: string, p: Packet, route: RouteDecision, iif: string | undefined): void {
    const here = iif ?? this.world.ns(ns).state.links.find((l) => l.name === 'eth0')?.name ?? 'lo';
    const q: RouteQuery = { ns, dst: p.dst, ...(iif ? { src: p.src, iif } : {}) };
    if (route.kind === 'local') {
      if (iif === undefined) {
        this.delivered = true;
        this.deliveredIn = ns;
        return;
      }
      return this.localIn(ns, iif, p);
    }
    if (route.kind !== 'unicast' || !route.dev) {
      this.stop(ns, here, `no route to ${this.subnetWords(p.dst)}`, this.routeEvidence(ns, q, route));
    }
    const dev = route.dev!;
    const link = this.world.link(ns, dev);
    if (!link) this.stop(ns, here, `route via ${dev}, but ${ns} has no ${dev}`);
    if (iif !== undefined) {
      const forward = this.world.ns(ns).state.sysctls['net.ipv4.ip_forward'];
      if (forward === '0') this.stop(ns, iif, 'not forwarding: net.ipv4.ip_forward = 0', [`${ns}: net.ipv4.ip_forward = 0`]);
      this.checkChain(ns, 'filter', 'FORWARD', this.facts(p, iif, dev), iif);
      if (p.ttl <= 1) this.stop(ns, iif, `TTL exceeded (TTL ${p.ttl} on arrival)`);
      p = { ...p, ttl: p.ttl - 1 };
    } else {
      this.checkChain(ns, 'filter', 'OUTPUT', this.facts(p, undefined, dev), dev);
    }
    if (!isUp(link!)) this.stop(ns, dev, `interface down: ${ns}:${dev} is ${link!.state || 'down'}`, [`${ns}: ${dev} state ${link!.state}, flags ${link!.flags.join(',')}`]);
    if (p.df && p.length > link!.mtu) {
      this.stop(ns, dev, `MTU: a ${p.length}-byte packet with DF set does not fit ${ns}:${dev} (mtu ${link!.mtu})`, [`${ns}: ${dev} mtu ${link!.mtu}`]);
    }
    if (!p.encap) {
      const nat = evaluateChain(this.firewall(ns), 'nat', 'POSTROUTING', this.facts(p, iif, dev));
      // kube-proxy's masquerade of marked packets: iptables' KUBE-POSTROUTING, or nftables' own chain
      if (nat?.verdict === 'MASQUERADE' || (p.mark && this.service?.kind === 'dnat' && this.service.ns === ns)) {
        p = { ...p, src: route.prefsrc ?? link!.addresses[0]?.ip ?? p.src };
        if (this.nat?.ns === ns && !this.input.conntrack) this.nat.translated.src = p.src;
      }
      if (p.mark) p = { ...p, mark: 0 };
    }
    this.transmit(ns, link!, p, route.gateway ?? p.dst);
  }

  private neighbour(ns: string, dev: string, ip: string, required: boolean): string {
    const entry = this.world.ns(ns).state.neighbours.find((n) => n.dev === dev && n.ip === ip);
    if (entry && (entry.state.includes('FAILED') || entry.state.includes('INCOMPLETE'))) {
      const said = `neighbour ${ip} is ${entry.state.join(',').toLowerCase()} on ${dev}: nobody answered ARP`;
      const evidence = `${ns}: ip neigh ${ip} dev ${dev} ${entry.state.join(',')}`;
      // Across engines, a cut tunnel on the way is why (the neighbour fails once its entry is asked again).
      const cut = this.world.cutTunnelToward(ns, ip);
      if (cut) this.stop(ns, dev, `${said}, since the tunnel from engine ${cut.from} to engine ${cut.to} is cut: ${cut.switchKey}'s ${cut.device} sends to no ${cut.address}`, [evidence, cut.evidence]);
      this.stop(ns, dev, said, [evidence]);
    }
    if (entry?.lladdr) return entry.lladdr;
    if (required) this.stop(ns, dev, `no neighbour entry for ${ip} on ${dev}`, [`${ns}: ip neigh has no entry for ${ip} on ${dev}`]);
    const owner = this.world.ownerOfIp(ip);
    if (!owner) this.stop(ns, dev, `nobody has ${ip}: ARP for it goes unanswered`);
    return owner!.mac;
  }

  private transmit(ns: string, link: LinkState, p: Packet, nextHop: string): void {
    if (link.kind === 'vxlan') {
      const vtepMac = this.neighbour(ns, link.name, nextHop, true);
      const framed = { ...p, srcMac: link.mac, dstMac: vtepMac };
      this.emit(ns, link.name, 'out', framed);
      const fdb = this.world.ns(ns).containerState.fdb.filter((f) => f.dev === link.name);
      const entry = fdb.find((f) => f.mac === vtepMac && f.dst);
      if (!entry) {
        this.stop(ns, link.name, `no FDB entry for ${this.world.macName(vtepMac)} (${vtepMac}) on ${link.name}: the VTEP does not know where to send it`, [
          `${ns}: bridge fdb show dev ${link.name} has ${fdb.length} entr${fdb.length === 1 ? 'y' : 'ies'}, none for ${vtepMac}`,
        ]);
      }
      const local = link.vxlan?.local ?? this.world.ns(ns).state.links.find((l) => l.name === (link.vxlan?.dev ?? 'eth0'))?.addresses[0]?.ip ?? '0.0.0.0';
      const port = link.vxlan?.port ?? 8472;
      const outer: Packet = { src: local, dst: entry!.dst!, ttl: 64, length: p.length + 50, df: false, proto: 'udp', dstPort: port, encap: { type: 'vxlan', vni: link.vxlan?.vni ?? 0, inner: framed } };
      return this.encapOutput(ns, outer);
    }
    if (link.kind === 'tun') {
      const bare = { ...p };
      delete bare.srcMac;
      delete bare.dstMac;
      this.emit(ns, link.name, 'out', bare);
      const agent = this.agentFor(ns, link.name);
      const peer = agent.peers.find((x) => cidrContains(x.subnet, p.dst));
      if (!peer) {
        this.stop(ns, link.name, `the udp agent on ${ns} knows no lease for ${this.subnetWords(p.dst)}`, [
          `${ns}: the agent's table (${agent.file}) has ${agent.peers.map((x) => `${x.subnet} → ${x.publicIp}`).join(', ') || 'no peers'}`,
        ]);
      }
      const port = this.world.lab.networks.find((n) => n.backend === 'udp')?.port ?? 8285;
      const outer: Packet = { src: agent.publicIp ?? '0.0.0.0', dst: peer!.publicIp, ttl: 64, length: p.length + 28, df: false, proto: 'udp', srcPort: port, dstPort: port, encap: { type: 'flannel-udp', inner: bare } };
      return this.encapOutput(ns, outer);
    }
    const dstMac = this.neighbour(ns, link.name, nextHop, false);
    const framed = { ...p, srcMac: link.mac, dstMac };
    this.emit(ns, link.name, 'out', framed);
    if (link.kind === 'bridge') return this.bridgeForward(ns, link.name, framed, undefined);
    this.cable(ns, link.name, framed);
  }

  private agentFor(ns: string, device: string) {
    const container = this.world.ns(ns).containerState;
    const agent = container.agents.find((a) => (a.device ?? 'flannel0') === device);
    if (!agent) this.stop(ns, device, `no udp agent reads ${device} on ${ns}`, [`${ns}: no agent stats file under /run/overlab`]);
    for (const pid of [agent!.dataPathPid, agent!.pid].filter((x): x is number => x !== undefined)) {
      const proc = container.processes.find((x) => x.pid === pid);
      if (!proc) this.stop(ns, device, `the udp agent on ${ns} is not running (pid ${pid} is gone): nothing reads ${device}`, [`${ns}: no process ${pid}`]);
      if (proc!.stat.startsWith('T')) {
        this.stop(ns, device, `the udp agent on ${ns} is stopped (${proc!.comm}, pid ${pid}, state ${proc!.stat}): nothing reads ${device}`, [`${ns}: ps says ${proc!.comm} pid ${pid} state ${proc!.stat}`]);
      }
    }
    return agent!;
  }

  private encapOutput(ns: string, outer: Packet): void {
    const route = this.route({ ns, dst: outer.dst });
    const q: RouteQuery = { ns, dst: outer.dst };
    if (route.kind !== 'unicast' || !route.dev) this.stop(ns, 'eth0', `no route to the peer ${outer.dst}`, this.routeEvidence(ns, q, route));
    const link = this.world.link(ns, route.dev!);
    if (!link) this.stop(ns, route.dev!, `route via ${route.dev}, but ${ns} has no such device`);
    this.checkChain(ns, 'filter', 'OUTPUT', this.facts(outer, undefined, link!.name), link!.name);
    if (!isUp(link!)) this.stop(ns, link!.name, `interface down: ${ns}:${link!.name} is ${link!.state || 'down'}`, [`${ns}: ${link!.name} state ${link!.state}`]);
    const dstMac = this.neighbour(ns, link!.name, route.gateway ?? outer.dst, false);
    const framed = { ...outer, srcMac: link!.mac, dstMac };
    this.emit(ns, link!.name, 'out', framed);
    this.cable(ns, link!.name, framed);
  }

  private cable(ns: string, iface: string, p: Packet): void {
    const peer = this.world.peerOf(ns, iface);
    if (!peer) this.stop(ns, iface, `nothing is cabled to ${ns}:${iface}`);
    const link = this.world.link(peer!.ns, peer!.iface);
    if (!link) this.stop(ns, iface, `the other end of ${ns}:${iface} (${peer!.ns}:${peer!.iface}) is missing`);
    if (!isUp(link!)) {
      this.stop(peer!.ns, peer!.iface, `interface down: ${peer!.ns}:${peer!.iface} is ${link!.state || 'down'}`, [`${peer!.ns}: ${peer!.iface} state ${link!.state}, flags ${link!.flags.join(',')}`]);
    }
    this.emit(peer!.ns, peer!.iface, 'in', p);
    if (link!.master) return this.bridgeForward(peer!.ns, link!.master, p, peer!.iface);
    this.stackIn(peer!.ns, peer!.iface, p);
  }

  private bridgeForward(ns: string, bridge: string, p: Packet, ingress: string | undefined): void {
    const br = this.world.link(ns, bridge);
    if (!br) this.stop(ns, bridge, `${bridge} is missing`);
    let masquerade: string | undefined;
    if (ingress !== undefined && !p.encap && this.bridgeCallsIptables(ns)) {
      // br_netfilter: iptables and conntrack see the frame as it enters the bridge. A Service's
      // address becomes a pod's here (or a reply gets the Service's address back); when the new
      // destination hangs off this same bridge, the frame is bridged to it (no routing, TTL kept)
      // — back out of the port it came in by when a pod reaches itself (hairpin).
      let q = this.undo(ns, p);
      if (q === p && p.dstMac === br!.mac) q = this.services(ns, p, bridge);
      if (q !== p && p.dstMac === br!.mac && !this.world.isLocal(ns, q.dst)) {
        const route = this.route({ ns, dst: q.dst, src: q.src, iif: bridge });
        if (route.kind === 'unicast' && route.dev === bridge) {
          q = { ...q, dstMac: this.neighbour(ns, bridge, route.gateway ?? q.dst, false) };
          // marked for masquerade: POSTROUTING rewrites the source as the frame leaves the bridge
          if (q.mark) masquerade = route.prefsrc ?? br!.addresses[0]?.ip;
        } else {
          // the bridge device sees it after br_netfilter's PREROUTING: already translated
          this.emit(ns, bridge, 'in', q);
          return this.routeIn(ns, bridge, q);
        }
      }
      p = q;
    }
    if (ingress !== undefined && p.dstMac === br!.mac) {
      this.emit(ns, bridge, 'in', p);
      return this.stackIn(ns, bridge, p);
    }
    if (ingress !== undefined) this.emit(ns, bridge, 'through', p);
    if (masquerade) {
      p = { ...p, src: masquerade, mark: 0 };
      if (this.nat?.ns === ns && !this.input.conntrack) this.nat.translated.src = masquerade;
    }
    const ports = this.world.portsOf(ns, bridge);
    const learned = this.world.ns(ns).containerState.fdb.find((f) => f.mac === p.dstMac && f.master === bridge && f.state !== 'permanent');
    // Across engines: a MAC behind another engine's switch is reached through this bridge's stitch.
    const stitch = ports.find((x) => this.world.stitchedPeer(ns, x.name, p.dstMac) !== undefined);
    const port =
      ports.find((port) => {
        const peer = this.world.peerOf(ns, port.name);
        return peer !== undefined && this.world.link(peer.ns, peer.iface)?.mac === p.dstMac;
      }) ??
      (learned ? ports.find((x) => x.name === learned.dev) : undefined) ??
      stitch;
    if (!port) this.stop(ns, bridge, `no port of ${ns}:${bridge} leads to ${this.world.macName(p.dstMac ?? BROADCAST)}`);
    if (port!.name === ingress && !port!.hairpin) {
      const hairpinOff = port!.hairpin === false ? ` and hairpin mode is off on ${ingress}: a frame may not leave by the port it came in by` : '';
      this.stop(ns, bridge, `${this.world.macName(p.dstMac!)} is behind the port it came from (${ingress})${hairpinOff}`, hairpinOff ? [`${ns}: bridge link show dev ${ingress}: hairpin off`] : []);
    }
    if (!isUp(port!)) {
      const peer = this.world.peerOf(ns, port!.name);
      const far = peer ? this.world.link(peer.ns, peer.iface) : undefined;
      const evidence = [`${ns}: ${port!.name} state ${port!.state}, flags ${port!.flags.join(',')}`];
      if (peer && far && !isUp(far)) {
        evidence.push(`${peer.ns}: ${peer.iface} state ${far.state}, flags ${far.flags.join(',')}`);
        this.stop(ns, port!.name, `interface down: ${peer.ns}:${peer.iface} is ${far.state || 'down'}, so ${ns} port ${port!.name} has no carrier`, evidence);
      }
      this.stop(ns, port!.name, `interface down: ${ns}:${port!.name} is ${port!.state || 'down'}`, evidence);
    }
    this.emit(ns, port!.name, 'out', p);
    if (this.world.stitchOf(ns, port!.name)) return this.stitched(ns, port!.name, p);
    this.cable(ns, port!.name, p);
  }

  /** Through the VXLAN tunnel between two engines' switches, into the far switch's bridge. */
  private stitched(ns: string, device: string, p: Packet): void {
    const peer = this.world.stitchedPeer(ns, device, p.dstMac);
    if (!peer) this.stop(ns, device, `no other engine's switch has ${this.world.macName(p.dstMac ?? BROADCAST)} behind a port of its own`);
    // The tunnel sends to the other engine only through its flooding entry (dst = that machine).
    const mine = this.world.stitchOf(ns, device)!;
    const far = this.world.lab.engines?.find((e) => e.name === peer!.engine);
    const fdb = this.world.ns(ns).containerState.fdb.filter((f) => f.dev === device);
    if (far && !fdb.some((f) => f.dst === far.address)) {
      this.stop(ns, device, `the tunnel from engine ${mine.engine} to engine ${peer!.engine} is cut: ${ns}'s ${device} sends to no ${far.address}`, [
        `${ns}: bridge fdb show dev ${device}: ${fdb.length ? fdb.map((f) => `${f.mac} dst ${f.dst ?? '-'}`).join(', ') : 'no entries'}`,
      ]);
    }
    const link = this.world.link(peer!.ns, peer!.iface);
    if (!link || !isUp(link)) {
      this.stop(peer!.ns, peer!.iface, `interface down: ${peer!.ns}:${peer!.iface} (the tunnel from engine ${this.world.stitchOf(ns, device)!.engine}) is ${link?.state || 'missing'}`, link ? [`${peer!.ns}: ${peer!.iface} state ${link.state}, flags ${link.flags.join(',')}`] : []);
    }
    this.emit(peer!.ns, peer!.iface, 'in', p);
    return this.bridgeForward(peer!.ns, peer!.bridge, p, peer!.iface);
  }

  private stackIn(ns: string, iif: string, p: Packet): void {
    const link = this.world.link(ns, iif);
    if (p.dstMac && link && p.dstMac !== link.mac && p.dstMac !== BROADCAST) {
      this.stop(ns, iif, `the frame is for ${this.world.macName(p.dstMac)}, not for ${ns}:${iif}`);
    }
    if (!p.encap) {
      const before = p;
      p = this.undo(ns, p);
      if (p === before) p = this.services(ns, p, iif);
    }
    this.routeIn(ns, iif, p);
  }

  private routeIn(ns: string, iif: string, p: Packet): void {
    if (this.world.isLocal(ns, p.dst)) return this.localIn(ns, iif, p);
    const route = this.route({ ns, dst: p.dst, src: p.src, iif });
    this.output(ns, p, route, iif);
  }

  private bridgeCallsIptables(ns: string): boolean {
    return this.world.ns(ns).state.sysctls[BRIDGE_NF_CALL_IPTABLES] === '1';
  }

  /** A reply meeting the conntrack entry of its request: the Service's address (and the
   * masqueraded client's) restored. */
  private undo(ns: string, p: Packet): Packet {
    const entry = this.input.conntrack;
    if (!entry || entry.ns !== ns || this.undone) return p;
    const t = entry.translated;
    if (p.src !== t.dst || p.dst !== t.src || (t.dport !== undefined && p.srcPort !== t.dport)) return p;
    this.undone = true;
    const o = entry.original;
    return { ...p, src: o.dst, dst: o.src, ...(o.dport !== undefined ? { srcPort: o.dport } : {}), ...(o.sport !== undefined ? { dstPort: o.sport } : {}) };
  }

  /** kube-proxy's nat rules (PREROUTING, or OUTPUT for a node's own packet): a Service's
   * address becomes the chosen endpoint's; a Service without endpoints is refused here. */
  private services(ns: string, p: Packet, where: string): Packet {
    if (this.service || this.input.conntrack || (p.proto !== 'tcp' && p.proto !== 'udp')) return p;
    const state = this.world.ns(ns).state;
    const locals = state.links.flatMap((l) => l.addresses.map((a) => a.ip));
    const step = translate(state, ns, { src: p.src, dst: p.dst, proto: p.proto, ...(p.dstPort !== undefined ? { dstPort: p.dstPort } : {}) }, locals, this.world.lab.networks[0]?.cidr, this.input.choice);
    if (!step) return p;
    this.service = step;
    if (step.kind === 'refused') {
      const name = step.refused.name ? `Service ${step.refused.name}` : `${p.dst}:${p.dstPort}`;
      this.stop(ns, where, `REJECT: ${name} has no endpoints — kube-proxy's rules refuse it (the client gets "connection refused")`, [`${ns}: ${step.refused.rule}`]);
    }
    const [ip, port] = step.endpoint.destination.split(':');
    const translated = { ...p, dst: ip!, dstPort: Number(port), ...(step.masquerade ? { mark: 0x4000 } : {}) };
    const flow = (x: Packet): FlowAddresses => ({ src: x.src, dst: x.dst, ...(x.srcPort !== undefined ? { sport: x.srcPort } : {}), ...(x.dstPort !== undefined ? { dport: x.dstPort } : {}) });
    this.nat = { ns, original: flow(p), translated: flow(translated) };
    return translated;
  }

  private localIn(ns: string, iif: string, p: Packet): void {
    this.checkChain(ns, 'filter', 'INPUT', this.facts(p, iif), iif);
    if (p.encap?.type === 'vxlan') {
      const vtep = this.world.ns(ns).state.links.find((l) => l.kind === 'vxlan' && l.vxlan?.port === p.dstPort && l.vxlan?.vni === p.encap!.vni);
      if (!vtep) this.stop(ns, iif, `no VTEP on ${ns} for VNI ${p.encap.vni} on UDP ${p.dstPort}`);
      const inner = p.encap.inner;
      this.emit(ns, vtep!.name, 'in', inner);
      if (inner.dstMac && inner.dstMac !== vtep!.mac) {
        this.stop(ns, vtep!.name, `the inner frame is for ${this.world.macName(inner.dstMac)}, not for ${ns}:${vtep!.name} (${vtep!.mac})`);
      }
      return this.stackIn(ns, vtep!.name, { ...inner, dstMac: vtep!.mac });
    }
    if (p.encap?.type === 'flannel-udp') {
      const agent = this.agentFor(ns, 'flannel0');
      const inner = p.encap.inner;
      this.emit(ns, agent.device ?? 'flannel0', 'in', inner);
      return this.stackIn(ns, agent.device ?? 'flannel0', inner);
    }
    const entry = this.input.conntrack;
    if (entry && !this.undone && p.src === entry.translated.dst) {
      const from = this.world.ipName(p.src);
      this.stop(ns, iif, `the answer skipped the un-DNAT: it comes from ${p.src}${from !== p.src ? ` (${from})` : ''}, not from the Service's ${entry.original.dst}${entry.original.dport !== undefined ? `:${entry.original.dport}` : ''} — no netfilter hook of ${entry.ns} saw it, so conntrack never restored the address, and ${ns} refuses an answer it did not ask for`, this.undnatEvidence(entry));
    }
    this.delivered = true;
    this.deliveredIn = ns;
  }

  private undnatEvidence(entry: NatEntry): string[] {
    const value = this.world.ns(entry.ns).state.sysctls[BRIDGE_NF_CALL_IPTABLES];
    const lines = [`${entry.ns}: ${BRIDGE_NF_CALL_IPTABLES} = ${value ?? '(absent: br_netfilter not loaded)'}${value === '1' ? '' : ': frames bridged between two pods on one node never meet iptables or conntrack'}`];
    return lines;
  }
}

export function predictPath(input: WalkInput): WalkResult {
  const walker = new Walker(input);
  walker.run();
  return {
    observations: walker.observations,
    delivered: walker.delivered,
    ...(walker.deliveredIn ? { deliveredIn: walker.deliveredIn } : {}),
    ...(walker.drop ? { drop: walker.drop } : {}),
    queries: walker.queries,
    ...(walker.service ? { service: walker.service } : {}),
    ...(walker.nat ? { nat: walker.nat } : {}),
    ...(input.conntrack ? { undone: walker.undone === true } : {}),
  };
}
