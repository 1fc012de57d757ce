// Does a decoded packet meet a check's expectation? Pure.
import type { DecodedPacket } from '../pcap/packet.js';
import type { PacketMatchSpec, PacketProto } from '../lab-spec/lab-spec.js';
import type { LabReferences } from '../lab/lab-references.js';

/** A PacketMatchSpec with every name turned into an address or MAC (same shape, resolved values). */
export type PacketMatch = PacketMatchSpec;

export function resolvePacketMatch(spec: PacketMatchSpec, names: LabReferences): PacketMatch {
  const match: PacketMatch = {};
  if (spec.proto !== undefined) match.proto = spec.proto;
  if (spec.src !== undefined) match.src = names.ip(spec.src);
  if (spec.dst !== undefined) match.dst = names.ip(spec.dst);
  if (spec.srcMac !== undefined) match.srcMac = names.mac(spec.srcMac);
  if (spec.dstMac !== undefined) match.dstMac = names.mac(spec.dstMac);
  if (spec.srcPort !== undefined) match.srcPort = spec.srcPort;
  if (spec.dstPort !== undefined) match.dstPort = spec.dstPort;
  if (spec.port !== undefined) match.port = spec.port;
  if (spec.icmpType !== undefined) match.icmpType = spec.icmpType;
  if (spec.vni !== undefined) match.vni = spec.vni;
  if (spec.inner !== undefined) match.inner = resolvePacketMatch(spec.inner, names);
  return match;
}

function hasProto(packet: DecodedPacket, proto: PacketProto): boolean {
  switch (proto) {
    case 'icmp':
      return packet.icmp !== undefined;
    case 'arp':
      return packet.arp !== undefined;
    case 'udp':
      return packet.udp !== undefined;
    case 'tcp':
      return packet.tcp !== undefined;
    case 'ipv4':
      return packet.ipv4 !== undefined;
    case 'vxlan':
      return packet.encapsulation === 'vxlan';
    case 'flannel-udp':
      return packet.encapsulation === 'flannel-udp';
  }
}

function sourceIp(packet: DecodedPacket): string | undefined {
  return packet.ipv4?.src ?? packet.arp?.senderIp;
}

function destinationIp(packet: DecodedPacket): string | undefined {
  return packet.ipv4?.dst ?? packet.arp?.targetIp;
}

function icmpTypeMatches(packet: DecodedPacket, wanted: PacketMatch['icmpType']): boolean {
  if (!packet.icmp) return false;
  return typeof wanted === 'number' ? packet.icmp.type === wanted : packet.icmp.kind === wanted;
}

function ports(packet: DecodedPacket): { src?: number; dst?: number } {
  const l4 = packet.udp ?? packet.tcp;
  return l4 ? { src: l4.srcPort, dst: l4.dstPort } : {};
}

export function matchesPacket(packet: DecodedPacket, match: PacketMatch): boolean {
  if (match.proto !== undefined && !hasProto(packet, match.proto)) return false;
  if (match.src !== undefined && sourceIp(packet) !== match.src) return false;
  if (match.dst !== undefined && destinationIp(packet) !== match.dst) return false;
  if (match.srcMac !== undefined && packet.eth?.src !== match.srcMac) return false;
  if (match.dstMac !== undefined && packet.eth?.dst !== match.dstMac) return false;
  if (match.srcPort !== undefined && ports(packet).src !== match.srcPort) return false;
  if (match.dstPort !== undefined && ports(packet).dst !== match.dstPort) return false;
  if (match.port !== undefined && ports(packet).src !== match.port && ports(packet).dst !== match.port) return false;
  if (match.icmpType !== undefined && !icmpTypeMatches(packet, match.icmpType)) return false;
  if (match.vni !== undefined && packet.vxlan?.vni !== match.vni) return false;
  if (match.inner !== undefined && (!packet.inner || !matchesPacket(packet.inner, match.inner))) return false;
  return true;
}

/** "icmp 172.16.1.2 > 172.16.1.3 echo-request" — what a person reads in a failure line. */
export function describeMatch(match: PacketMatch): string {
  const parts: string[] = [];
  if (match.proto) parts.push(match.proto);
  if (match.src || match.dst) parts.push(`${match.src ?? '*'} > ${match.dst ?? '*'}`);
  if (match.srcMac || match.dstMac) parts.push(`mac ${match.srcMac ?? '*'} > ${match.dstMac ?? '*'}`);
  if (match.srcPort !== undefined || match.dstPort !== undefined) parts.push(`port ${match.srcPort ?? '*'} > ${match.dstPort ?? '*'}`);
  if (match.port !== undefined) parts.push(`port ${match.port}`);
  if (match.icmpType !== undefined) parts.push(String(match.icmpType));
  if (match.vni !== undefined) parts.push(`vni ${match.vni}`);
  if (match.inner) parts.push(`[inner: ${describeMatch(match.inner)}]`);
  return parts.length ? parts.join(' ') : 'any packet';
}
