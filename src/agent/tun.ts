// TUN I/O for the udp backend. Node cannot issue TUNSETIFF, so:
//   1. the agent opens /dev/net/tun itself (fs.openSync),
//   2. runs `tun-open <ifname> --attach-fd 3` with that descriptor as the child's fd 3; the
//      helper's ioctl attaches the *shared* open file description to the device and exits,
//   3. the agent reads/writes whole IP packets on its own descriptor.
// (Alternatively the agent can be started as `tun-open flannel0 -- node main.js … --tun-fd 3`.)
//
// Reading without blocking the event loop, two ways (config "tunIo"):
//   poll       (default) wrap the fd in a libuv pipe handle: epoll tells us when a packet is
//              ready, each read(2) returns exactly one packet. No thread pool involved.
//   threadpool a loop of fs.read() calls; each blocks one libuv pool thread until a packet comes.
// Writes are fs.writeSync(): a TUN write never blocks (the kernel queues or drops the packet).

import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, read, writeSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type TunIoMode = 'poll' | 'threadpool';

export interface TunDevice {
  readonly name: string;
  readonly fd: number;
  readonly mode: TunIoMode;
  /** Starts delivering packets (each Buffer is one whole IP packet). */
  start(onPacket: (pkt: Buffer) => void, onError: (e: Error) => void): void;
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

/** Where the tun-open helper is: explicit path, next to this file, /opt/overlab/bin, then PATH. */
export function findTunOpen(explicit?: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [explicit, join(here, 'tun-open'), join(here, '..', 'native', 'tun-open'), '/opt/overlab/bin/tun-open', '/usr/local/bin/tun-open'].filter(
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
  return 'tun-open';
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

interface PipeHandle {
  open(fd: number): number;
}

export function tunDevice(name: string, fd: number, mode: TunIoMode): TunDevice {
  let sock: net.Socket | null = null;
  let closed = false;
  let reading = false;
  let readDone: (() => void) | null = null;
  return {
    name,
    fd,
    mode,
    start(onPacket, onError) {
      if (mode === 'poll') {
        const binding = (process as unknown as { binding(n: string): { Pipe: new (t: number) => PipeHandle; constants: { SOCKET: number } } }).binding('pipe_wrap');
        const handle = new binding.Pipe(binding.constants.SOCKET);
        const err = handle.open(fd);
        if (err) throw new Error(`cannot poll TUN fd ${fd} (uv error ${err}); use "tunIo": "threadpool"`);
        sock = new net.Socket({ handle, readable: true, writable: false } as unknown as net.SocketConstructorOpts);
        sock.on('data', (pkt: Buffer) => onPacket(pkt));
        sock.on('error', (e) => {
          if (!closed) onError(e);
        });
        return;
      }
      const buf = Buffer.allocUnsafe(65536);
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
          if (n > 0) onPacket(Buffer.from(buf.subarray(0, n)));
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
      if (sock) {
        sock.destroy();
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
