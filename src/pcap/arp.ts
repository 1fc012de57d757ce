import { formatHardwareAddress, formatIpv4Address, readUint16 } from './bytes.js';
import type { ArpPacket } from './packet.js';

const ARP_ETHERNET_IPV4_LENGTH = 28;
const HARDWARE_TYPE_ETHERNET = 1;
const PROTOCOL_TYPE_IPV4 = 0x0800;

export type ArpDecodeResult = { arp: ArpPacket } | { arp?: undefined; truncated: boolean };

/** Decodes ARP for Ethernet/IPv4, the only kind overlab meets; other kinds are left undecoded (not an error). */
export function decodeArp(bytes: Uint8Array): ArpDecodeResult {
  if (bytes.length < 8) return { truncated: true };
  const isEthernetIpv4 =
    readUint16(bytes, 0) === HARDWARE_TYPE_ETHERNET &&
    readUint16(bytes, 2) === PROTOCOL_TYPE_IPV4 &&
    bytes[4] === 6 &&
    bytes[5] === 4;
  if (!isEthernetIpv4) return { truncated: false };
  if (bytes.length < ARP_ETHERNET_IPV4_LENGTH) return { truncated: true };
  const opcode = readUint16(bytes, 6);
  return {
    arp: {
      op: opcode === 1 ? 'request' : opcode === 2 ? 'reply' : opcode,
      senderMac: formatHardwareAddress(bytes, 8),
      senderIp: formatIpv4Address(bytes, 14),
      targetMac: formatHardwareAddress(bytes, 18),
      targetIp: formatIpv4Address(bytes, 24),
    },
  };
}
