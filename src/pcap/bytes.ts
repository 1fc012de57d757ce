// Big-endian (network order) readers and address formatting. Callers check bounds first.

export function readUint16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

export function readUint24(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 16) | (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
}

export function readUint32(bytes: Uint8Array, offset: number): number {
  return readUint16(bytes, offset) * 0x10000 + readUint16(bytes, offset + 2);
}

/** Colon-separated lower-case hex: "02:42:ac:10:01:02" for a 6-byte MAC. */
export function formatHardwareAddress(bytes: Uint8Array, offset: number, length = 6): string {
  const parts: string[] = [];
  for (let i = 0; i < length; i++) parts.push(bytes[offset + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function formatIpv4Address(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]!}.${bytes[offset + 1]!}.${bytes[offset + 2]!}.${bytes[offset + 3]!}`;
}
