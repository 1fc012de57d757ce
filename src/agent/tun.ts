// TUN I/O for the udp backend. Node cannot issue TUNSETIFF, so:
//   1. the agent opens /dev/net/tun itself (fs.openSync),
//   2. runs `tun-open <ifname> --attach-fd 3` with that descriptor as the child's fd 3; the
//      helper's ioctl attaches the *shared* open file description to the device and exits,
//   3. the agent reads/writes whole IP packets on its own descriptor.
// (Alternatively the agent can be started as `tun-open flannel0 -- node main.js … --tun-fd 3`.)
//
// Reading without blocking the event loop, two ways (config "tunIo"):
//   poll       (default) wrap the fd in a libuv pipe handle: epoll tells us when a packet is
//              ready, each read(2) returns exactly one packet (libuv reads up to 32 per wake-up).
//              The handle is driven directly (no net.Socket / Readable machinery) and reads go
//              into one reused buffer (`useUserBuffer`), so a packet costs no allocation.
//   threadpool a loop of fs.read() calls; each blocks one libuv pool thread until a packet comes.
// Writes are fs.writeSync(): a TUN write never blocks (the kernel queues or drops the packet).

import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, read, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type TunIoMode = 'poll' | 'threadpool';

/**
 * Called once per packet: `buf[0, len)` is one whole IP packet. The bytes are only valid during the
 * call; the device reads the next packet into the same buffer. Return true when the callee keeps a
 * reference to `buf` beyond the call (e.g. an asynchronous send from it): the device then reads
 * into a fresh buffer from the next packet on.
 */
export type TunPacketHandler = (buf: Buffer, len: number) => boolean | void;

export interface TunDevice {
  readonly name: string;
  readonly fd: number;
  readonly mode: TunIoMode;
  /** Starts delivering packets. */
  start(onPacket: TunPacketHandler, onError: (e: Error) => void): void;
  /** Writes one IP packet; false when the kernel refused it. */
  write(pkt: Uint8Array): boolean;
  /**
   * Stops reading and closes the descriptor. In threadpool mode a pool thread sits in a blocking
   * read(2) that close(2) does not interrupt — and libuv joins its pool threads at exit, so the
   * process would hang until a packet arrives. `wake` must make the kernel route one packet into
   * the TUN; close() waits (at most 1 s) for that read to return.
   */
  close(wake?: () => void): Promise<void>;
}

/** Largest packet a read can return (a TUN never hands out more than 64 KiB). */
export const TUN_READ_BUFFER = 65536;

/** Where a native helper is: explicit path, next to this file, dist/native, /opt/overlab/bin, /usr/local/bin; null if none is executable. */
export function findHelper(name: string, explicit?: string): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [explicit, join(here, name), join(here, '..', 'native', name), `/opt/overlab/bin/${name}`, `/usr/local/bin/${name}`].filter(
    (c): c is string => !!c,
  );
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Where the tun-open helper is: explicit path, next to this file, /opt/overlab/bin, then PATH. */
export function findTunOpen(explicit?: string): string {
  return findHelper('tun-open', explicit) ?? 'tun-open';
}

/** Opens /dev/net/tun and attaches it to `name` through the helper. Returns the descriptor. */
export function openTun(name: string, tunOpenPath: string): number {
  const fd = openSync('/dev/net/tun', 'r+');
  const r = spawnSync(tunOpenPath, [name, '--attach-fd', '3'], { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    closeSync(fd);
    const why = r.error ? r.error.message : `exit ${String(r.status)}: ${(r.stderr || '').trim()}`;
    throw new Error(`cannot attach TUN ${name} with ${tunOpenPath}: ${why}`);
  }
  return fd;
}

// libuv's stream handle as Node's pipe_wrap binding exposes it (Node 18; stable since Node 12).
interface PipeHandle {
  open(fd: number): number;
  useUserBuffer(buf: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  close(cb?: () => void): void;
  onread: ((ab?: ArrayBuffer) => Uint8Array | undefined) | null;
}

interface Bindings {
  Pipe: new (t: number) => PipeHandle;
  SOCKET: number;
  state: Int32Array;
  kReadBytesOrError: number;
  uvErrName(err: number): string;
}

function bindings(): Bindings {
  const b = (process as unknown as { binding(this: void, n: string): Record<string, unknown> }).binding;
  const pipe = b('pipe_wrap') as { Pipe: Bindings['Pipe']; constants: { SOCKET: number } };
  const stream = b('stream_wrap') as { streamBaseState: Int32Array; kReadBytesOrError: number };
  const uv = b('uv') as { errname(err: number): string };
  return { Pipe: pipe.Pipe, SOCKET: pipe.constants.SOCKET, state: stream.streamBaseState, kReadBytesOrError: stream.kReadBytesOrError, uvErrName: (e) => uv.errname(e) };
}

export function tunDevice(name: string, fd: number, mode: TunIoMode): TunDevice {
  let handle: PipeHandle | null = null;
  let closed = false;
  let reading = false;
  let readDone: (() => void) | null = null;
  return {
    name,
    fd,
    mode,
    start(onPacket, onError) {
      if (mode === 'poll') {
        const b = bindings();
        const h = new b.Pipe(b.SOCKET);
        const err = h.open(fd);
        if (err) throw new Error(`cannot poll TUN fd ${fd} (uv error ${err}); use "tunIo": "threadpool"`);
        let buf = Buffer.allocUnsafe(TUN_READ_BUFFER);
        const state = b.state;
        const kNread = b.kReadBytesOrError;
        h.useUserBuffer(buf);
        // With a user buffer the handle calls onread(undefined) with the byte count in the shared
        // stream state; a returned Uint8Array becomes the buffer for the following reads.
        h.onread = () => {
          const n = state[kNread] as number;
          if (n > 0) {
            if (onPacket(buf, n) === true) {
              buf = Buffer.allocUnsafe(TUN_READ_BUFFER);
              return buf;
            }
            return undefined;
          }
          if (n < 0 && !closed) {
            h.readStop();
            onError(new Error(`read ${name}: ${b.uvErrName(n)}`));
          }
          return undefined;
        };
        const r = h.readStart();
        if (r) throw new Error(`cannot poll TUN fd ${fd}: ${b.uvErrName(r)}`);
        handle = h;
        return;
      }
      let buf = Buffer.allocUnsafe(TUN_READ_BUFFER);
      const loop = (): void => {
        reading = true;
        read(fd, buf, 0, buf.length, null, (e, n) => {
          reading = false;
          if (closed) {
            readDone?.();
            return;
          }
          if (e) {
            if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
              setImmediate(loop);
              return;
            }
            onError(e);
            return;
          }
          if (n > 0 && onPacket(buf, n) === true) buf = Buffer.allocUnsafe(TUN_READ_BUFFER);
          loop();
        });
      };
      loop();
    },
    write(pkt) {
      try {
        return writeSync(fd, pkt) === pkt.length;
      } catch {
        return false;
      }
    },
    async close(wake) {
      if (closed) return;
      closed = true;
      if (handle) {
        const h = handle;
        handle = null;
        h.readStop();
        h.onread = null;
        // closing the handle closes the descriptor
        await new Promise<void>((r) => h.close(() => r()));
        return;
      }
      if (reading && mode === 'threadpool') {
        const done = new Promise<void>((r) => {
          readDone = r;
        });
        wake?.();
        await Promise.race([done, new Promise((r) => setTimeout(r, 1000).unref())]);
      }
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    },
  };
}
