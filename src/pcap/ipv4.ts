import { formatIpv4Address, readUint16 } from './bytes.js';
import type { Ipv4Header } from './packet.js';

export const IP_PROTOCOL_ICMP = 1;
export const IP_PROTOCOL_TCP = 6;
export const IP_PROTOCOL_UDP = 17;

const MINIMUM_HEADER_LENGTH = 20;
const MORE_FRAGMENTS_FLAG = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

/**
 * Reads an IPv4 header, honouring IHL. Undefined when the bytes are too short for it or it is not a valid
 * IPv4 header (version is not 4, IHL below 5). Used for both real and ICMP-quoted headers.
 */
export function decodeIpv4Header(bytes: Uint8Array): { header: Ipv4Header; headerLength: number } | undefined {
  if (bytes.length < MINIMUM_HEADER_LENGTH) return undefined;
  const version = bytes[0]! >> 4;
  const headerLength = (bytes[0]! & 0x0f) * 4;
  if (version !== 4 || headerLength < MINIMUM_HEADER_LENGTH || bytes.length < headerLength) return undefined;
  const header: Ipv4Header = {
    src: formatIpv4Address(bytes, 12),
    dst: formatIpv4Address(bytes, 16),
    protocol: bytes[9]!,
    ttl: bytes[8]!,
    totalLength: readUint16(bytes, 2),
    id: readUint16(bytes, 4),
  };
  const flagsAndOffset = readUint16(bytes, 6);
  const fragmentOffset = (flagsAndOffset & FRAGMENT_OFFSET_MASK) * 8;
  const moreFragments = (flagsAndOffset & MORE_FRAGMENTS_FLAG) !== 0;
  if (fragmentOffset !== 0 || moreFragments) {
    header.fragmentOffset = fragmentOffset;
    header.moreFragments = moreFragments;
  }
  return { header, headerLength };
}

export interface Ipv4Packet {
  header: Ipv4Header;
  /** The captured part of the IP payload, without link-layer padding. */
  payload: Uint8Array;
}

/** Undefined when the header cannot be read (too short or invalid). */
export function decodeIpv4Packet(bytes: Uint8Array): Ipv4Packet | undefined {
  const decoded = decodeIpv4Header(bytes);
  if (!decoded) return undefined;
  const { header, headerLength } = decoded;
  // Total length 0 is what IPv4 BIG TCP (GSO packets over 64 KiB) shows on the sending host: use what was captured.
  // Otherwise cut at the total length so Ethernet minimum-frame padding is not taken for payload.
  const end = header.totalLength === 0 ? bytes.length : Math.min(header.totalLength, bytes.length);
  if (end < headerLength) return undefined;
  return { header, payload: bytes.subarray(headerLength, end) };
}

/** Non-first fragments carry no transport header: their payload must not be decoded as one. */
export function isNonFirstFragment(header: Ipv4Header): boolean {
  return (header.fragmentOffset ?? 0) > 0;
}
