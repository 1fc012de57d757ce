// Classic libpcap files (what `tcpdump -w` writes): a 24-byte file header, then records of a 16-byte header
// and the captured bytes. pcapng is a different format and is rejected with a clear message.

export class PcapFormatError extends Error {
  override name = 'PcapFormatError';
}

export interface PcapRecord {
  /** Capture time in microseconds since the Unix epoch (nanosecond files are rounded down). */
  timestampMicros: number;
  /** The same instant in nanoseconds (exact in nanosecond files), for ordering sightings across captures. */
  timestampNanos: bigint;
  /** Length of the packet on the wire; `data` is shorter when the snap length cut it. */
  length: number;
  /** The captured bytes: a view into the file's bytes, not a copy. */
  data: Uint8Array;
}

export interface PcapFile {
  linkType: number;
  snapLen: number;
  byteOrder: 'little-endian' | 'big-endian';
  timestampPrecision: 'micro' | 'nano';
  records: PcapRecord[];
  /** The last record was cut short (e.g. tcpdump killed mid-write) and was dropped. */
  truncated: boolean;
}

const FILE_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;

export function parsePcapFile(bytes: Uint8Array): PcapFile {
  if (bytes.length === 0) throw new PcapFormatError('not a pcap file: it is empty');
  if (bytes.length < 4) throw new PcapFormatError(`not a pcap file: only ${bytes.length} bytes, the magic number alone needs 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { littleEndian, timestampPrecision } = readMagic(view);
  if (bytes.length < FILE_HEADER_LENGTH) {
    throw new PcapFormatError(`truncated pcap file header: ${bytes.length} bytes, expected ${FILE_HEADER_LENGTH}`);
  }
  const snapLen = view.getUint32(16, littleEndian);
  // The upper bits of this field may carry FCS information; the link type is the low 16 bits.
  const linkType = view.getUint32(20, littleEndian) & 0xffff;
  const fractionPerMicrosecond = timestampPrecision === 'nano' ? 1000 : 1;

  const records: PcapRecord[] = [];
  let truncated = false;
  let offset = FILE_HEADER_LENGTH;
  while (offset < bytes.length) {
    if (bytes.length - offset < RECORD_HEADER_LENGTH) {
      truncated = true;
      break;
    }
    const seconds = view.getUint32(offset, littleEndian);
    const fraction = view.getUint32(offset + 4, littleEndian);
    const capturedLength = view.getUint32(offset + 8, littleEndian);
    const originalLength = view.getUint32(offset + 12, littleEndian);
    const dataStart = offset + RECORD_HEADER_LENGTH;
    if (bytes.length - dataStart < capturedLength) {
      truncated = true;
      break;
    }
    records.push({
      timestampMicros: seconds * 1_000_000 + Math.floor(fraction / fractionPerMicrosecond),
      timestampNanos: BigInt(seconds) * 1_000_000_000n + BigInt(fraction) * BigInt(1000 / fractionPerMicrosecond),
      length: originalLength,
      data: bytes.subarray(dataStart, dataStart + capturedLength),
    });
    offset = dataStart + capturedLength;
  }
  return {
    linkType,
    snapLen,
    byteOrder: littleEndian ? 'little-endian' : 'big-endian',
    timestampPrecision,
    records,
    truncated,
  };
}

function readMagic(view: DataView): { littleEndian: boolean; timestampPrecision: 'micro' | 'nano' } {
  const asLittleEndian = view.getUint32(0, true);
  const asBigEndian = view.getUint32(0, false);
  if (asLittleEndian === MAGIC_MICROSECONDS) return { littleEndian: true, timestampPrecision: 'micro' };
  if (asLittleEndian === MAGIC_NANOSECONDS) return { littleEndian: true, timestampPrecision: 'nano' };
  if (asBigEndian === MAGIC_MICROSECONDS) return { littleEndian: false, timestampPrecision: 'micro' };
  if (asBigEndian === MAGIC_NANOSECONDS) return { littleEndian: false, timestampPrecision: 'nano' };
  if (asBigEndian === MAGIC_PCAPNG) {
    throw new PcapFormatError('pcapng files are not supported: write classic pcap (tcpdump -w does by default)');
  }
  throw new PcapFormatError(`not a pcap file: bad magic number 0x${asBigEndian.toString(16).padStart(8, '0')}`);
}
