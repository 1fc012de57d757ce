import { readUint16 } from './bytes.js';
import type { TcpHeader, UdpHeader } from './packet.js';

const UDP_HEADER_LENGTH = 8;
const TCP_FLAGS_OFFSET = 13;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export interface UdpDatagram {
  header: UdpHeader;
  /** The captured part of the payload, bounded by the UDP length field. */
  payload: Uint8Array;
}

export function decodeUdp(bytes: Uint8Array): UdpDatagram | undefined {
  if (bytes.length < UDP_HEADER_LENGTH) return undefined;
  const header: UdpHeader = {
    srcPort: readUint16(bytes, 0),
    dstPort: readUint16(bytes, 2),
    length: readUint16(bytes, 4),
  };
  const end = header.length >= UDP_HEADER_LENGTH ? Math.min(header.length, bytes.length) : bytes.length;
  return { header, payload: bytes.subarray(UDP_HEADER_LENGTH, end) };
}

/** Ports need 4 bytes, flags 14; `truncated` when the flags could not be read. */
export function decodeTcp(bytes: Uint8Array): { tcp?: TcpHeader; truncated: boolean } {
  if (bytes.length < 4) return { truncated: true };
  const tcp: TcpHeader = { srcPort: readUint16(bytes, 0), dstPort: readUint16(bytes, 2) };
  if (bytes.length <= TCP_FLAGS_OFFSET) return { tcp, truncated: true };
  tcp.flags = bytes[TCP_FLAGS_OFFSET]! & 0x3f;
  return { tcp, truncated: false };
}

/** tcpdump's notation: "S" for SYN, "S." for SYN+ACK, "." for a bare ACK, "P." for PSH+ACK. */
export function formatTcpFlags(flags: number): string {
  let text = '';
  if (flags & TCP_SYN) text += 'S';
  if (flags & TCP_FIN) text += 'F';
  if (flags & TCP_PSH) text += 'P';
  if (flags & TCP_RST) text += 'R';
  if (flags & TCP_URG) text += 'U';
  if (flags & TCP_ACK) text += '.';
  return text === '' ? 'none' : text;
}
