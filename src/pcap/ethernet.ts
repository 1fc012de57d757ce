import { formatHardwareAddress, readUint16 } from './bytes.js';
import type { EthernetHeader } from './packet.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

const ETHERNET_HEADER_LENGTH = 14;
const VLAN_TAG_LENGTH = 4;

export interface EthernetFrame {
  header: EthernetHeader;
  payload: Uint8Array;
  /** The 802.1Q tag was cut off: the header keeps etherType 0x8100 and the payload is empty. */
  truncated?: boolean;
}

/** Reads the Ethernet header and at most one 802.1Q tag; undefined when even the MAC addresses are cut. */
export function decodeEthernetFrame(bytes: Uint8Array): EthernetFrame | undefined {
  if (bytes.length < ETHERNET_HEADER_LENGTH) return undefined;
  const header: EthernetHeader = {
    dst: formatHardwareAddress(bytes, 0),
    src: formatHardwareAddress(bytes, 6),
    etherType: readUint16(bytes, 12),
  };
  if (header.etherType !== ETHERTYPE_VLAN) {
    return { header, payload: bytes.subarray(ETHERNET_HEADER_LENGTH) };
  }
  const tagged = readVlanTag(bytes, ETHERNET_HEADER_LENGTH);
  if (!tagged) return { header, payload: bytes.subarray(bytes.length), truncated: true };
  header.vlanId = tagged.vlanId;
  header.etherType = tagged.etherType;
  return { header, payload: bytes.subarray(ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH) };
}

/** Reads the 4 bytes after an 0x8100 type field: TCI (priority, DEI, 12-bit VLAN ID) then the real type. */
export function readVlanTag(bytes: Uint8Array, offset: number): { vlanId: number; etherType: number } | undefined {
  if (bytes.length < offset + VLAN_TAG_LENGTH) return undefined;
  return { vlanId: readUint16(bytes, offset) & 0x0fff, etherType: readUint16(bytes, offset + 2) };
}

export function etherTypeName(etherType: number): string {
  switch (etherType) {
    case ETHERTYPE_IPV4:
      return 'IPv4';
    case ETHERTYPE_ARP:
      return 'ARP';
    case ETHERTYPE_VLAN:
      return '802.1Q';
    case ETHERTYPE_IPV6:
      return 'IPv6';
    default:
      return `ethertype 0x${etherType.toString(16).padStart(4, '0')}`;
  }
}
