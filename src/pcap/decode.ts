import { decodeArp } from './arp.js';
import { decodeEthernetFrame, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from './ethernet.js';
import { decodeIcmp } from './icmp.js';
import { decodeIpv4Packet, IP_PROTOCOL_ICMP, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP, isNonFirstFragment } from './ipv4.js';
import { decodeLinuxCookedV1, decodeLinuxCookedV2 } from './linux-cooked.js';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  type CapturedPacket,
  type DecodedPacket,
} from './packet.js';
import { parsePcapFile, PcapFormatError } from './pcap-file.js';
import { decodeTcp, decodeUdp } from './transport.js';
import { decodeVxlan } from './vxlan.js';

/** DLT_RAW's value on Linux; some writers put it in files instead of LINKTYPE_RAW (101). */
const LINKTYPE_RAW_AS_DLT = 12;

export const DEFAULT_VXLAN_PORTS: readonly number[] = [8472, 4789];
export const DEFAULT_FLANNEL_UDP_PORTS: readonly number[] = [8285];

export interface DecodeOptions {
  /** UDP destination ports whose payload is VXLAN. Replaces DEFAULT_VXLAN_PORTS when given. */
  vxlanPorts?: readonly number[];
  /** UDP ports (source or destination) whose payload is a bare IPv4 packet. Replaces DEFAULT_FLANNEL_UDP_PORTS when given. */
  flannelUdpPorts?: readonly number[];
}

export interface DecodedCapture {
  linkType: number;
  snapLen: number;
  packets: CapturedPacket[];
  /** The file's last record was cut short and dropped. */
  truncated: boolean;
}

export const SUPPORTED_LINK_TYPES: readonly number[] = [
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  LINKTYPE_RAW_AS_DLT,
  LINKTYPE_IPV4,
];

interface EncapsulationPorts {
  vxlan: ReadonlySet<number>;
  flannelUdp: ReadonlySet<number>;
}

/** Parses a classic pcap file and decodes every record. Throws PcapFormatError for a bad file or unknown link type. */
export function decodeCapture(bytes: Uint8Array, options: DecodeOptions = {}): DecodedCapture {
  const file = parsePcapFile(bytes);
  if (!SUPPORTED_LINK_TYPES.includes(file.linkType)) {
    throw new PcapFormatError(
      `unsupported pcap link type ${file.linkType} (supported: ${SUPPORTED_LINK_TYPES.join(', ')})`,
    );
  }
  const ports = encapsulationPorts(options);
  return {
    linkType: file.linkType,
    snapLen: file.snapLen,
    truncated: file.truncated,
    packets: file.records.map((record, index) => ({
      index,
      timestampMicros: record.timestampMicros,
      length: record.length,
      packet: decodeLinkLayer(record.data, file.linkType, ports),
    })),
  };
}

/** Never throws: malformed or cut packets come back with `truncated: true` and the layers decoded so far. */
export function decodePacket(data: Uint8Array, linkType: number, options: DecodeOptions = {}): DecodedPacket {
  return decodeLinkLayer(data, linkType, encapsulationPorts(options));
}

function encapsulationPorts(options: DecodeOptions): EncapsulationPorts {
  return {
    vxlan: new Set(options.vxlanPorts ?? DEFAULT_VXLAN_PORTS),
    flannelUdp: new Set(options.flannelUdpPorts ?? DEFAULT_FLANNEL_UDP_PORTS),
  };
}

function decodeLinkLayer(data: Uint8Array, linkType: number, ports: EncapsulationPorts): DecodedPacket {
  const packet: DecodedPacket = {};
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      const frame = decodeEthernetFrame(data);
      if (!frame) return markTruncated(packet);
      packet.eth = frame.header;
      if (frame.truncated) return markTruncated(packet);
      decodeEtherTypePayload(frame.header.etherType, frame.payload, packet, ports);
      break;
    }
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_LINUX_SLL2: {
      const frame = linkType === LINKTYPE_LINUX_SLL ? decodeLinuxCookedV1(data) : decodeLinuxCookedV2(data);
      if (!frame) return markTruncated(packet);
      packet.cooked = frame.header;
      if (frame.truncated) return markTruncated(packet);
      decodeEtherTypePayload(frame.header.protocol, frame.payload, packet, ports);
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_AS_DLT:
      if (data.length === 0) return markTruncated(packet);
      // Raw IP may be IPv4 or IPv6; only IPv4 is decoded.
      if (data[0]! >> 4 === 4) decodeIpv4Layers(data, packet, ports);
      break;
    case LINKTYPE_IPV4:
      decodeIpv4Layers(data, packet, ports);
      break;
  }
  return packet;
}

function decodeEtherTypePayload(etherType: number, payload: Uint8Array, packet: DecodedPacket, ports: EncapsulationPorts): void {
  if (etherType === ETHERTYPE_IPV4) {
    decodeIpv4Layers(payload, packet, ports);
  } else if (etherType === ETHERTYPE_ARP) {
    const result = decodeArp(payload);
    if (result.arp) packet.arp = result.arp;
    else if (result.truncated) markTruncated(packet);
  }
}

function decodeIpv4Layers(bytes: Uint8Array, packet: DecodedPacket, ports: EncapsulationPorts): void {
  const ip = decodeIpv4Packet(bytes);
  if (!ip) {
    markTruncated(packet);
    return;
  }
  packet.ipv4 = ip.header;
  if (isNonFirstFragment(ip.header)) return;
  switch (ip.header.protocol) {
    case IP_PROTOCOL_ICMP: {
      const result = decodeIcmp(ip.payload);
      if (result.icmp) packet.icmp = result.icmp;
      if (result.truncated) markTruncated(packet);
      break;
    }
    case IP_PROTOCOL_TCP: {
      const result = decodeTcp(ip.payload);
      if (result.tcp) packet.tcp = result.tcp;
      if (result.truncated) markTruncated(packet);
      break;
    }
    case IP_PROTOCOL_UDP:
      decodeUdpLayers(ip.payload, packet, ports);
      break;
  }
}

function decodeUdpLayers(bytes: Uint8Array, packet: DecodedPacket, ports: EncapsulationPorts): void {
  const udp = decodeUdp(bytes);
  if (!udp) {
    markTruncated(packet);
    return;
  }
  packet.udp = udp.header;
  const { srcPort, dstPort, length } = udp.header;
  if (ports.vxlan.has(dstPort)) {
    const result = decodeVxlan(udp.payload);
    if (!result.vxlan) {
      if (result.truncated) markTruncated(packet);
      return;
    }
    packet.vxlan = result.vxlan;
    setInner(packet, 'vxlan', decodeLinkLayer(result.innerFrame, LINKTYPE_ETHERNET, ports));
  } else if (ports.flannelUdp.has(srcPort) || ports.flannelUdp.has(dstPort)) {
    if (udp.payload.length === 0) {
      // The snap length cut the datagram right after its header although the length field promises more.
      if (length > 8) markTruncated(packet);
      return;
    }
    if (udp.payload[0]! >> 4 !== 4) return;
    const inner: DecodedPacket = {};
    decodeIpv4Layers(udp.payload, inner, ports);
    setInner(packet, 'flannel-udp', inner);
  }
}

function setInner(packet: DecodedPacket, encapsulation: 'vxlan' | 'flannel-udp', inner: DecodedPacket): void {
  packet.encapsulation = encapsulation;
  packet.inner = inner;
  if (inner.truncated) markTruncated(packet);
}

function markTruncated(packet: DecodedPacket): DecodedPacket {
  packet.truncated = true;
  return packet;
}
