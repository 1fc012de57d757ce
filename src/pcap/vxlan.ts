import { readUint24 } from './bytes.js';
import type { VxlanHeader } from './packet.js';

const VXLAN_HEADER_LENGTH = 8;
const VNI_VALID_FLAG = 0x08;

export type VxlanDecodeResult =
  | { vxlan: VxlanHeader; innerFrame: Uint8Array }
  | { vxlan?: undefined; truncated: boolean };

/**
 * An 8-byte header (flags, 24-bit VNI) before an inner Ethernet frame. Without the I flag the kernel drops the
 * packet, so such a datagram is not treated as VXLAN (truncated: false).
 */
export function decodeVxlan(bytes: Uint8Array): VxlanDecodeResult {
  if (bytes.length < VXLAN_HEADER_LENGTH) return { truncated: true };
  if ((bytes[0]! & VNI_VALID_FLAG) === 0) return { truncated: false };
  return { vxlan: { vni: readUint24(bytes, 4) }, innerFrame: bytes.subarray(VXLAN_HEADER_LENGTH) };
}
