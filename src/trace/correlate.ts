// Finding the one probe in every capture and putting its sightings in order. A copy is the probe
// when it carries the probe's marker (in the payload, so also inside VXLAN or flannel-UDP, after
// NAT, and inside an ICMP error quoting it) or, for TCP, the probe's ports. The direction at each
// interface follows from the MACs: what leaves carries the interface's own MAC as source. Pure.
import { decodePacket } from '../pcap/decode.js';
import type { DecodedPacket } from '../pcap/packet.js';
import { LINKTYPE_ETHERNET } from '../pcap/packet.js';
import { parsePcapFile } from '../pcap/pcap-file.js';
import { cidrContains, cidrOf } from '../shared/ipv4.js';
import { probeOf, type Observation } from './change-facts.js';
import type { CaptureOutput, CapturePoint } from './capture-session.js';
import type { HopDirection } from './trace-result.js';
import type { TraceWorld } from './trace-world.js';
import { debugLog } from '../base/debug-log.js';

export interface ProbeIdentity {
  proto: 'icmp' | 'udp' | 'tcp';
  marker?: Uint8Array;
  srcPort?: number;
  dstPort?: number;
  target: string;
  /** Through a Service: the ports the probe's destination port may become (the endpoints'
   * target ports) and its source port (a masquerade may pick another one). */
  dstPortsAfterNat?: number[];
  srcPortsAfterNat?: number[];
  /** Through a Service: the endpoints' addresses, which an ICMP error may quote instead. */
  targetsAfterNat?: string[];
}

const srcPortOf = (probe: ProbeIdentity, port: number) => port === probe.srcPort || (probe.srcPortsAfterNat ?? []).includes(port);
const dstPortOf = (probe: ProbeIdentity, port: number) => port === probe.dstPort || (probe.dstPortsAfterNat ?? []).includes(port);

export type SightingRole = 'request' | 'reply' | 'error';

export interface Sighting extends Observation {
  point: CapturePoint;
  role: SightingRole;
  tsNs: bigint;
  linkType: number;
  data: Uint8Array;
  length: number;
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength)) >= 0;
}

/** Is this decoded packet (with its raw bytes) the probe, its answer, or an error about it? */
export function identify(packet: DecodedPacket, data: Uint8Array, probe: ProbeIdentity): SightingRole | undefined {
  const inner = probeOf(packet);
  if (probe.marker) {
    if (!containsBytes(data, probe.marker)) {
      // a Service's pod answers a UDP probe with its own words, from the port it was sent to
      if (probe.dstPortsAfterNat && inner.udp && dstPortOf(probe, inner.udp.srcPort) && srcPortOf(probe, inner.udp.dstPort)) return 'reply';
      return quotesTheProbe(inner, probe) ? 'error' : undefined;
    }
    if (inner.icmp) {
      if (inner.icmp.kind === 'echo-request') return 'request';
      if (inner.icmp.kind === 'echo-reply') return 'reply';
      // a UDP probe's answer, when nothing listens, is the destination's port unreachable
      if (probe.proto === 'udp' && inner.icmp.kind === 'unreachable' && inner.icmp.code === 3) return 'reply';
      if (inner.icmp.kind === 'unreachable' || inner.icmp.kind === 'time-exceeded') return 'error';
      return undefined;
    }
    if (inner.udp) return dstPortOf(probe, inner.udp.dstPort) ? 'request' : 'reply';
    return inner.ipv4 ? 'request' : undefined;
  }
  if (inner.tcp) {
    // the probe is the SYN; what the client sends after the answer (ACK, RST, FIN) is not
    const syn = inner.tcp.flags === undefined || (inner.tcp.flags & 0x12) === 0x02;
    if (srcPortOf(probe, inner.tcp.srcPort) && dstPortOf(probe, inner.tcp.dstPort)) return syn ? 'request' : undefined;
    if (dstPortOf(probe, inner.tcp.srcPort) && srcPortOf(probe, inner.tcp.dstPort)) return 'reply';
    return undefined;
  }
  return quotesTheProbe(inner, probe) ? 'error' : undefined;
}

const PROTOCOL_NUMBER = { icmp: 1, tcp: 6, udp: 17 } as const;

/** An ICMP error that quotes too little of the probe to hold its marker (RFC 792 asks only for
 * the header and 8 bytes): known by the quoted destination and protocol. */
function quotesTheProbe(inner: DecodedPacket, probe: ProbeIdentity): boolean {
  if (!inner.icmp || (inner.icmp.kind !== 'unreachable' && inner.icmp.kind !== 'time-exceeded')) return false;
  const quoted = inner.icmp.quoted;
  return quoted !== undefined && (quoted.dst === probe.target || (probe.targetsAfterNat ?? []).includes(quoted.dst)) && quoted.protocol === PROTOCOL_NUMBER[probe.proto];
}

/** in / out / through at an interface, from the MACs (or, on a TUN, from where the packet goes). */
export function directionAt(world: TraceWorld, ns: string, iface: string, packet: DecodedPacket): HopDirection {
  const link = world.link(ns, iface);
  const eth = packet.eth;
  if (!eth || !link) {
    const dst = probeOf(packet).ipv4?.dst;
    const local = world.ns(ns).state.links.some((l) => l.kind !== 'tun' && l.addresses.some((a) => dst !== undefined && cidrContains(cidrOf(a.ip, a.prefixLen), dst)));
    return local ? 'in' : 'out';
  }
  if (link.kind === 'bridge') {
    if (eth.src === link.mac) return 'out';
    if (eth.dst === link.mac) return 'in';
    return 'through';
  }
  // a frame from this interface's own MAC to itself came back: hairpinned by its bridge
  if (eth.src === link.mac && eth.dst === link.mac) return 'in';
  if (eth.src === link.mac) return 'out';
  if (eth.dst === link.mac) return 'in';
  // A tunnel between engines' switches: leaving when the sender is on this switch's engine.
  const stitch = world.stitchOf(ns, iface);
  if (stitch) return world.macBehindLocalPort(ns, stitch.bridge, eth.src) ? 'out' : 'in';
  if (link.master) {
    const peer = world.peerOf(ns, iface);
    const peerMac = peer ? world.link(peer.ns, peer.iface)?.mac : undefined;
    return peerMac !== undefined && eth.src === peerMac ? 'in' : 'out';
  }
  return 'in';
}

export interface DecodePorts {
  vxlanPorts: number[];
  flannelUdpPorts: number[];
}

/** Every sighting of the probe in the captures, in time order; `order` breaks ties (the predicted
 * position of the hop on its leg: one skb keeps its receive timestamp across veth, bridge and
 * VTEP, so ties are common). Repeats at the same interface, direction and role (a
 * retransmitted SYN) are left out. */
export function correlate(world: TraceWorld, outputs: CaptureOutput[], probe: ProbeIdentity, ports: DecodePorts, order: (s: Sighting) => number): Sighting[] {
  const sightings: Sighting[] = [];
  for (const output of outputs) {
    if (output.error || output.bytes.length === 0) continue;
    let file;
    try {
      file = parsePcapFile(output.bytes);
    } catch (error) {
      debugLog('trace', `decode the capture on ${output.point.ns}:${output.point.iface}`, error);
      continue;
    }
    const link = world.link(output.point.ns, output.point.iface);
    for (const record of file.records) {
      const packet = decodePacket(record.data, file.linkType, ports);
      const role = identify(packet, record.data, probe);
      if (!role) continue;
      sightings.push({
        node: output.point.ns,
        iface: output.point.iface,
        direction: directionAt(world, output.point.ns, output.point.iface, packet),
        linkKind: link?.kind ?? (file.linkType === LINKTYPE_ETHERNET ? 'ether' : 'tun'),
        packet,
        point: output.point,
        role,
        tsNs: record.timestampNanos,
        linkType: file.linkType,
        data: record.data,
        length: record.length,
      });
    }
  }
  sightings.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : order(a) - order(b)));
  const seen = new Set<string>();
  return sightings.filter((s) => {
    const key = `${s.node}:${s.iface}:${s.direction}:${s.role}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A copy that goes nowhere: a bridge port sending a unicast frame whose destination MAC is not
 * behind it (the switch flooded it), or an interface receiving a unicast frame not addressed to it. */
export function isAstray(world: TraceWorld, s: Sighting): boolean {
  const eth = s.packet.eth;
  const link = world.link(s.node, s.iface);
  if (!eth || !link || link.kind === 'bridge') return false;
  const unicast = (parseInt(eth.dst.slice(0, 2), 16) & 1) === 0;
  if (!unicast) return false;
  if (link.master && s.direction === 'out') {
    const peer = world.peerOf(s.node, s.iface);
    const peerMac = peer ? world.link(peer.ns, peer.iface)?.mac : undefined;
    return peerMac !== undefined && peerMac !== eth.dst;
  }
  if (!link.master && s.direction === 'in') return eth.dst !== link.mac;
  return false;
}
