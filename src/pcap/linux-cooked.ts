import { formatHardwareAddress, readUint16, readUint32 } from './bytes.js';
import { ETHERTYPE_VLAN, readVlanTag } from './ethernet.js';
import type { LinuxCookedHeader } from './packet.js';

const SLL_HEADER_LENGTH = 16;
const SLL2_HEADER_LENGTH = 20;
const MAX_ADDRESS_LENGTH = 8; // the header's address field is 8 bytes even for longer addresses

const PACKET_TYPES: LinuxCookedHeader['packetType'][] = ['host', 'broadcast', 'multicast', 'otherhost', 'outgoing'];

export interface LinuxCookedFrame {
  header: LinuxCookedHeader;
  payload: Uint8Array;
  /** The VLAN tag after the header was cut off: protocol stays 0x8100 and the payload is empty. */
  truncated?: boolean;
}

/** Cooked v1 (linktype 113): packet type, ARPHRD type, address length, 8-byte address, protocol. */
export function decodeLinuxCookedV1(bytes: Uint8Array): LinuxCookedFrame | undefined {
  if (bytes.length < SLL_HEADER_LENGTH) return undefined;
  const header: LinuxCookedHeader = {
    packetType: packetTypeOf(readUint16(bytes, 0)),
    hardwareType: readUint16(bytes, 2),
    linkAddress: linkAddressOf(bytes, 6, readUint16(bytes, 4)),
    protocol: readUint16(bytes, 14),
  };
  return withVlanTag(header, bytes, SLL_HEADER_LENGTH);
}

/** Cooked v2 (linktype 276): protocol, reserved, interface index, ARPHRD type, packet type, address length, address. */
export function decodeLinuxCookedV2(bytes: Uint8Array): LinuxCookedFrame | undefined {
  if (bytes.length < SLL2_HEADER_LENGTH) return undefined;
  const header: LinuxCookedHeader = {
    packetType: packetTypeOf(bytes[10]!),
    hardwareType: readUint16(bytes, 8),
    linkAddress: linkAddressOf(bytes, 12, bytes[11]!),
    protocol: readUint16(bytes, 0),
    interfaceIndex: readUint32(bytes, 4),
  };
  return withVlanTag(header, bytes, SLL2_HEADER_LENGTH);
}

// libpcap re-inserts a VLAN tag the kernel stripped as protocol 0x8100 followed by TCI and the real protocol.
function withVlanTag(header: LinuxCookedHeader, bytes: Uint8Array, headerLength: number): LinuxCookedFrame {
  if (header.protocol !== ETHERTYPE_VLAN) return { header, payload: bytes.subarray(headerLength) };
  const tag = readVlanTag(bytes, headerLength);
  if (!tag) return { header, payload: bytes.subarray(bytes.length), truncated: true };
  header.vlanId = tag.vlanId;
  header.protocol = tag.etherType;
  return { header, payload: bytes.subarray(headerLength + 4) };
}

function packetTypeOf(value: number): LinuxCookedHeader['packetType'] {
  return PACKET_TYPES[value] ?? value;
}

function linkAddressOf(bytes: Uint8Array, offset: number, length: number): string {
  return formatHardwareAddress(bytes, offset, Math.min(length, MAX_ADDRESS_LENGTH));
}
