// What changed between two sightings of the probe, as facts (TTL, MACs, addresses, wrapping)
// and then in words for a person and in tokens for the minimal one-line-per-host form. Pure.
import type { DecodedPacket } from '../pcap/packet.js';
import type { Encapsulation, HopDirection } from './trace-result.js';

export interface Observation {
  /** Namespace key: "host1", "host1/pod1", "switch". */
  node: string;
  iface: string;
  direction: HopDirection;
  /** veth, bridge, vxlan, tun, … as the kernel names the kind. */
  linkKind: string;
  /** The packet as seen here: outer headers, with the probe in `inner` when wrapped. */
  packet: DecodedPacket;
}

export type ChangeFact =
  | { kind: 'sent'; by: string; ttl?: number }
  | { kind: 'ttl'; from: number; to: number }
  | { kind: 'src-mac'; mac: string; name: string }
  | { kind: 'dst-mac'; mac: string; name: string }
  | { kind: 'snat'; from: string; to: string }
  | { kind: 'dnat'; from: string; to: string }
  | { kind: 'encap'; encapsulation: Encapsulation }
  | { kind: 'decap'; by: 'kernel' | 'agent'; iface: string }
  | { kind: 'raw'; iface: string }
  | { kind: 'to-endpoint'; encapsulation: Encapsulation; owner: string }
  | { kind: 'bridged'; bridge?: string }
  | { kind: 'stitched'; vni: number; port: number; from: string; to: string }
  | { kind: 'delivered'; to: string; iface: string };

export interface Namer {
  macName(mac: string): string;
  ipName(ip: string): string;
}

/** The probe itself inside whatever wraps it. */
export function probeOf(packet: DecodedPacket): DecodedPacket {
  return packet.encapsulation && packet.inner ? probeOf(packet.inner) : packet;
}

export function encapsulationOf(packet: DecodedPacket): Encapsulation | null {
  if (!packet.encapsulation || !packet.ipv4 || !packet.udp) return null;
  if (packet.encapsulation === 'vxlan') {
    return { type: 'vxlan', ...(packet.vxlan ? { vni: packet.vxlan.vni } : {}), port: packet.udp.dstPort, outerSrc: packet.ipv4.src, outerDst: packet.ipv4.dst };
  }
  return { type: 'flannel-udp', port: packet.udp.dstPort, outerSrc: packet.ipv4.src, outerDst: packet.ipv4.dst };
}

function isBridgePort(o: Observation, bridgePorts: (node: string, iface: string) => string | undefined): string | undefined {
  return bridgePorts(o.node, o.iface);
}

export interface ChangeContext {
  namer: Namer;
  /** The bridge an interface is a port of, if any. */
  bridgeOf: (node: string, iface: string) => string | undefined;
  /** The namespace that owns an address, if any. */
  ownerOfIp: (ip: string) => string | undefined;
  /** A lab across engines: the stitch device a switch's interface is, if it is one. */
  stitchOf?: (node: string, iface: string) => { engine: string; vni: number; port: number } | undefined;
}

/** Facts for the first sighting. */
export function firstFacts(cur: Observation): ChangeFact[] {
  const ttl = probeOf(cur.packet).ipv4?.ttl;
  return [{ kind: 'sent', by: cur.node, ...(ttl !== undefined ? { ttl } : {}) }];
}

export function changeFacts(prev: Observation, cur: Observation, ctx: ChangeContext): ChangeFact[] {
  const facts: ChangeFact[] = [];
  const from = prev.direction === 'out' ? ctx.stitchOf?.(prev.node, prev.iface) : undefined;
  const to = cur.direction === 'in' && prev.node !== cur.node ? ctx.stitchOf?.(cur.node, cur.iface) : undefined;
  if (from && to) facts.push({ kind: 'stitched', vni: from.vni, port: from.port, from: from.engine, to: to.engine });
  const encPrev = encapsulationOf(prev.packet);
  const encCur = encapsulationOf(cur.packet);
  if (!encPrev && encCur) facts.push({ kind: 'encap', encapsulation: encCur });
  if (encPrev && !encCur) facts.push({ kind: 'decap', by: cur.linkKind === 'tun' ? 'agent' : 'kernel', iface: cur.iface });
  const a = probeOf(prev.packet);
  const b = probeOf(cur.packet);
  const rawNow = !b.eth && !b.cooked && !encCur;
  const rawBefore = !a.eth && !a.cooked && !encPrev;
  if (a.ipv4 && b.ipv4) {
    if (b.ipv4.ttl < a.ipv4.ttl) facts.push({ kind: 'ttl', from: a.ipv4.ttl, to: b.ipv4.ttl });
    // ports count where they change (a Service's port becomes its pod's; a masquerade may pick one)
    const sport = (x: DecodedPacket) => x.tcp?.srcPort ?? x.udp?.srcPort;
    const dport = (x: DecodedPacket) => x.tcp?.dstPort ?? x.udp?.dstPort;
    const withPort = (ip: string, port: number | undefined, shown: boolean) => (shown && port !== undefined ? `${ip}:${port}` : ip);
    const sportChanged = sport(a) !== sport(b);
    if (b.ipv4.src !== a.ipv4.src || sportChanged) facts.push({ kind: 'snat', from: withPort(a.ipv4.src, sport(a), sportChanged), to: withPort(b.ipv4.src, sport(b), sportChanged) });
    if (b.ipv4.dst !== a.ipv4.dst || dport(a) !== dport(b)) facts.push({ kind: 'dnat', from: withPort(a.ipv4.dst, dport(a), true), to: withPort(b.ipv4.dst, dport(b), true) });
  }
  if (rawNow && !rawBefore && cur.direction === 'out') facts.push({ kind: 'raw', iface: cur.iface });
  if (a.eth && b.eth) {
    if (b.eth.src !== a.eth.src) facts.push({ kind: 'src-mac', mac: b.eth.src, name: ctx.namer.macName(b.eth.src) });
    if (b.eth.dst !== a.eth.dst) facts.push({ kind: 'dst-mac', mac: b.eth.dst, name: ctx.namer.macName(b.eth.dst) });
  }
  if (encCur && cur.direction === 'in' && encPrev) {
    const owner = ctx.ownerOfIp(encCur.outerDst);
    if (owner === cur.node) facts.push({ kind: 'to-endpoint', encapsulation: encCur, owner });
  }
  if (facts.length === 0) {
    const bridge = isBridgePort(cur, ctx.bridgeOf);
    if (cur.direction === 'through') facts.push({ kind: 'bridged', bridge: cur.iface });
    else if (bridge && cur.direction === 'out' && prev.node === cur.node && prev.direction !== 'through') facts.push({ kind: 'bridged', bridge });
  }
  return facts;
}

function encapWords(e: Encapsulation): string {
  if (e.type === 'vxlan') return `encapsulated: VXLAN VNI ${e.vni ?? '?'} ${e.outerSrc} → ${e.outerDst} UDP ${e.port}`;
  return `encapsulated by the udp agent: UDP ${e.outerSrc} → ${e.outerDst}:${e.port}`;
}

/** The facts in words, e.g. "routed: TTL 64→63, source MAC now host1's docker0". */
export function changeWords(facts: ChangeFact[]): string | null {
  if (facts.length === 0) return null;
  const phrases: string[] = [];
  const routed: string[] = [];
  for (const f of facts) {
    switch (f.kind) {
      case 'sent':
        phrases.push(`sent by ${f.by}${f.ttl !== undefined ? ` (TTL ${f.ttl})` : ''}`);
        break;
      case 'ttl':
        routed.unshift(`routed: TTL ${f.from}→${f.to}`);
        break;
      case 'src-mac':
        routed.push(`source MAC now ${f.name}`);
        break;
      case 'dst-mac':
        routed.push(`destination MAC now ${f.name}`);
        break;
      case 'snat':
        phrases.push(`masqueraded: source ${f.from} → ${f.to}`);
        break;
      case 'dnat':
        phrases.push(`destination rewritten: ${f.from} → ${f.to}`);
        break;
      case 'encap':
        phrases.push(encapWords(f.encapsulation));
        break;
      case 'decap':
        phrases.push(f.by === 'agent' ? `decapsulated: the udp agent wrote it into ${f.iface} (raw IP)` : `decapsulated by ${f.iface}`);
        break;
      case 'raw':
        phrases.push(`handed to ${f.iface} (raw IP, no Ethernet)`);
        break;
      case 'to-endpoint':
        phrases.push(f.encapsulation.type === 'vxlan' ? `to ${f.owner}'s VTEP on UDP ${f.encapsulation.port}` : `to the agent on UDP ${f.encapsulation.port}`);
        break;
      case 'bridged':
        phrases.push('bridged by MAC');
        break;
      case 'stitched':
        phrases.push(`stitched: VXLAN VNI ${f.vni} UDP ${f.port}, engine ${f.from} → engine ${f.to}`);
        break;
      case 'delivered':
        phrases.push(`delivered to ${f.to}`);
        break;
    }
  }
  const byAgent = facts.some((f) => f.kind === 'decap' && f.by === 'agent');
  if (byAgent && routed.length) {
    // flannel's udp proxy decrements the TTL itself when it writes into the TUN
    const i = phrases.findIndex((p) => p.startsWith('decapsulated'));
    phrases[i] = `${phrases[i]}, ${routed.join(', ').replace('routed: ', '')} (the agent counts as a hop)`;
  } else if (routed.length) phrases.unshift(routed.join(', '));
  return phrases.join('; ');
}

/** Tokens for `--format minimal`: stable, short, lower case. */
export function minimalTokens(facts: ChangeFact[]): string[] {
  const tokens: string[] = [];
  for (const f of facts) {
    switch (f.kind) {
      case 'ttl':
        tokens.push(`ttl ${f.from}→${f.to}`);
        break;
      case 'snat':
        tokens.push(`snat ${f.from}→${f.to}`);
        break;
      case 'dnat':
        tokens.push(`dnat ${f.from}→${f.to}`);
        break;
      case 'encap':
        tokens.push(
          f.encapsulation.type === 'vxlan'
            ? `encap vxlan vni ${f.encapsulation.vni ?? '?'} → ${f.encapsulation.outerDst}:${f.encapsulation.port}`
            : `encap udp → ${f.encapsulation.outerDst}:${f.encapsulation.port}`,
        );
        break;
      case 'decap':
        tokens.push('decap');
        break;
      case 'raw':
        tokens.push(`tun ${f.iface}`);
        break;
      case 'delivered':
        tokens.push(`deliver ${f.iface}`);
        break;
      case 'stitched':
        tokens.push(`stitch vni ${f.vni} ${f.from}→${f.to}`);
        break;
      default:
        break;
    }
  }
  return tokens;
}
