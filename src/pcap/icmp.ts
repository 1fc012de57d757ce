import { readUint16 } from './bytes.js';
import { decodeIpv4Header } from './ipv4.js';
import type { IcmpMessage } from './packet.js';

const ICMP_ECHO_REPLY = 0;
const ICMP_DESTINATION_UNREACHABLE = 3;
const ICMP_ECHO_REQUEST = 8;
const ICMP_TIME_EXCEEDED = 11;
const ICMP_HEADER_LENGTH = 8;

export type IcmpDecodeResult = { icmp?: IcmpMessage; truncated: boolean };

export function decodeIcmp(bytes: Uint8Array): IcmpDecodeResult {
  if (bytes.length < 4) return { truncated: true };
  const type = bytes[0]!;
  const icmp: IcmpMessage = { type, code: bytes[1]!, kind: icmpKind(type) };
  if (icmp.kind === 'echo-request' || icmp.kind === 'echo-reply') {
    if (bytes.length < ICMP_HEADER_LENGTH) return { icmp, truncated: true };
    icmp.id = readUint16(bytes, 4);
    icmp.seq = readUint16(bytes, 6);
    return { icmp, truncated: false };
  }
  if (icmp.kind === 'unreachable' || icmp.kind === 'time-exceeded') {
    // The error quotes the offending packet's IPv4 header (plus 8 bytes) after the 8-byte ICMP header.
    const quoted = decodeIpv4Header(bytes.subarray(ICMP_HEADER_LENGTH));
    if (!quoted) return { icmp, truncated: true };
    icmp.quoted = quoted.header;
  }
  return { icmp, truncated: false };
}

function icmpKind(type: number): IcmpMessage['kind'] {
  switch (type) {
    case ICMP_ECHO_REQUEST:
      return 'echo-request';
    case ICMP_ECHO_REPLY:
      return 'echo-reply';
    case ICMP_DESTINATION_UNREACHABLE:
      return 'unreachable';
    case ICMP_TIME_EXCEEDED:
      return 'time-exceeded';
    default:
      return 'other';
  }
}

const UNREACHABLE_CODE_NAMES: Record<number, string> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed',
  9: 'net administratively prohibited',
  10: 'host administratively prohibited',
  13: 'communication administratively prohibited',
};

const TIME_EXCEEDED_CODE_NAMES: Record<number, string> = {
  0: 'ttl exceeded in transit',
  1: 'fragment reassembly time exceeded',
};

/** "net unreachable" for type 3 code 0, undefined when the code has no well-known name. */
export function icmpCodeName(icmp: IcmpMessage): string | undefined {
  if (icmp.kind === 'unreachable') return UNREACHABLE_CODE_NAMES[icmp.code];
  if (icmp.kind === 'time-exceeded') return TIME_EXCEEDED_CODE_NAMES[icmp.code];
  return undefined;
}
