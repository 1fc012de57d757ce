// A pcapng writer (the format Wireshark saves): one Section Header Block, one Interface
// Description Block per interface (with if_name, if_description and nanosecond timestamps) and
// one Enhanced Packet Block per packet, each with an optional comment. Little-endian. Pure.

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
/** if_tsresol = 9: timestamps count nanoseconds. */
const NANOSECONDS = 9;

export interface PcapngInterface {
  name: string;
  description?: string;
  linkType: number;
  snapLen?: number;
}

export interface PcapngPacket {
  /** Index into the interfaces list. */
  interfaceId: number;
  /** Nanoseconds since the Unix epoch. */
  timestampNanos: bigint;
  data: Uint8Array;
  /** Length on the wire; data may be shorter (snap length). */
  originalLength: number;
  comment?: string;
}

export interface PcapngInput {
  application?: string;
  interfaces: PcapngInterface[];
  packets: PcapngPacket[];
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function option(code: number, value: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(code, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, Buffer.from(value), Buffer.alloc(pad4(value.length))]);
}

const textOption = (code: number, text: string) => option(code, new Uint8Array(Buffer.from(text, 'utf8')));
const END_OF_OPTIONS = Buffer.alloc(4); // opt_endofopt: code 0, length 0

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(total, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(total, 0);
  return Buffer.concat([head, body, tail]);
}

function sectionHeader(application: string | undefined): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4); // major
  fixed.writeUInt16LE(0, 6); // minor
  fixed.writeBigInt64LE(-1n, 8); // section length unknown
  const options = application ? [textOption(SHB_USERAPPL, application), END_OF_OPTIONS] : [];
  return block(BLOCK_SHB, Buffer.concat([fixed, ...options]));
}

function interfaceDescription(i: PcapngInterface): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(i.linkType, 0);
  fixed.writeUInt16LE(0, 2);
  fixed.writeUInt32LE(i.snapLen ?? 0, 4);
  const options = [textOption(IF_NAME, i.name)];
  if (i.description) options.push(textOption(IF_DESCRIPTION, i.description));
  options.push(option(IF_TSRESOL, new Uint8Array([NANOSECONDS])), END_OF_OPTIONS);
  return block(BLOCK_IDB, Buffer.concat([fixed, ...options]));
}

function enhancedPacket(p: PcapngPacket): Buffer {
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(p.interfaceId, 0);
  fixed.writeUInt32LE(Number(p.timestampNanos >> 32n) >>> 0, 4);
  fixed.writeUInt32LE(Number(p.timestampNanos & 0xffffffffn) >>> 0, 8);
  fixed.writeUInt32LE(p.data.length, 12);
  fixed.writeUInt32LE(p.originalLength, 16);
  const data = Buffer.concat([Buffer.from(p.data), Buffer.alloc(pad4(p.data.length))]);
  const options = p.comment ? [textOption(OPT_COMMENT, p.comment), END_OF_OPTIONS] : [];
  return block(BLOCK_EPB, Buffer.concat([fixed, data, ...options]));
}

export function writePcapng(input: PcapngInput): Uint8Array {
  for (const p of input.packets) {
    if (p.interfaceId < 0 || p.interfaceId >= input.interfaces.length) throw new RangeError(`packet for interface ${p.interfaceId}, but only ${input.interfaces.length} are described`);
  }
  return new Uint8Array(
    Buffer.concat([sectionHeader(input.application), ...input.interfaces.map(interfaceDescription), ...input.packets.map(enhancedPacket)]),
  );
}
