// The engine's multiplexed stream (an exec without a TTY): frames of an 8-byte header — stream
// (1 stdout, 2 stderr), three zero bytes, payload length (uint32 big-endian) — then the payload.
// Frames arrive split across chunks and late; nothing is emitted before a frame is whole.

export const STDOUT = 1;
export const STDERR = 2;
const HEADER = 8;

export class FrameDemuxer {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let data = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (data.length >= HEADER) {
      const size = data.readUInt32BE(4);
      if (data.length < HEADER + size) break;
      const stream = data[0]!;
      if (size > 0) this.onFrame(stream, Buffer.from(data.subarray(HEADER, HEADER + size)));
      data = data.subarray(HEADER + size);
    }
    this.buffered = data.length ? Buffer.from(data) : Buffer.alloc(0);
  }

  /** Bytes of a frame that never completed (a stream cut short). */
  get pendingBytes(): number {
    return this.buffered.length;
  }
}

/** One multiplexed frame, as the engine writes it (for tests and fakes). */
export function frame(stream: number, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(HEADER);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
