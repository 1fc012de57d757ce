// The udp backend's UDP socket on its hot path. `dgram.Socket#send` costs, per datagram, an
// argument check, a dns.lookup() of the literal address that defers the send to a nextTick, a
// SendWrap, and (with a callback) another nextTick; 'message' goes through EventEmitter#emit.
// Here we drive the socket's libuv handle (Node's udp_wrap binding, stable since Node 12) directly:
//   send:    handle.send(req, [buf], 1, port, ip, false) — libuv tries sendmsg(2) at once; only when
//            the socket buffer is full is the datagram queued (then `buf` must stay untouched until
//            it leaves, and the SendWrap object cannot be reused).
//   receive: handle.onmessage = fn, called straight from the handle (no emit, no rinfo.size).
// If the binding does not look as expected, it falls back to the public API.

import type dgram from 'node:dgram';

/** The result of a send: the datagram left now, it is queued and holds `buf`, or it failed. */
export const SENT = 1;
export const QUEUED = 0;
export const FAILED = -1;
export type SendResult = typeof SENT | typeof QUEUED | typeof FAILED;

interface UdpHandle {
  send(req: object, list: Uint8Array[], count: number, port: number, ip: string, hasCallback: boolean): number;
  onmessage: (nread: number, handle: unknown, buf?: Buffer, rinfo?: unknown) => void;
  getSendQueueCount?(): number;
}

interface SendWrapCtor {
  new (): object;
}

function rawHandle(sock: dgram.Socket): UdpHandle | null {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const state = sym ? (sock as unknown as Record<symbol, { handle?: unknown } | undefined>)[sym] : undefined;
  const h = state?.handle as Partial<UdpHandle> | undefined;
  if (!h || typeof h.send !== 'function' || typeof h.onmessage !== 'function') return null;
  return h as UdpHandle;
}

function sendWrapCtor(): SendWrapCtor | null {
  try {
    const b = (process as unknown as { binding(n: string): { SendWrap?: SendWrapCtor } }).binding('udp_wrap');
    return typeof b.SendWrap === 'function' ? b.SendWrap : null;
  } catch {
    return null;
  }
}

export interface FastUdp {
  /** true when the raw handle is in use, false on the public-API fallback. */
  readonly raw: boolean;
  /**
   * Sends `buf` (its whole length) to ip:port. QUEUED means the socket keeps a reference to `buf`
   * until the datagram leaves: the caller must not reuse that memory.
   */
  send(buf: Uint8Array, port: number, ip: string): SendResult;
}

/**
 * Takes over a bound dgram socket's datagram delivery (`onMessage` gets each datagram; `onError`
 * a receive error) and returns its send path. Call after bind() completed.
 */
export function fastUdp(sock: dgram.Socket, onMessage: (msg: Buffer) => void, onError: (e: Error) => void, onSendError: () => void): FastUdp {
  const handle = rawHandle(sock);
  const SendWrap = sendWrapCtor();
  if (!handle || !SendWrap) {
    sock.on('message', (msg: Buffer) => onMessage(msg));
    return {
      raw: false,
      send(buf, port, ip) {
        sock.send(buf, port, ip, (err) => {
          if (err) onSendError();
        });
        return QUEUED;
      },
    };
  }
  handle.onmessage = (nread, _h, buf) => {
    if (nread < 0) onError(new Error(`recvmsg: error ${nread}`));
    else if (buf) onMessage(buf);
  };
  // a queued datagram reports its status through req.oncomplete(status, sent)
  const afterQueued = (status: number): void => {
    if (status < 0) onSendError();
  };
  // `req.list` keeps the buffer alive while the datagram is queued (as dgram's doSend does)
  let list: Uint8Array[] = [];
  const newReq = (): object => {
    list = [new Uint8Array(0)];
    return Object.assign(new SendWrap(), { oncomplete: afterQueued, list });
  };
  let req = newReq();
  return {
    raw: true,
    send(buf, port, ip) {
      list[0] = buf;
      // libuv tries sendmsg(2) first; `req` and `list` are only taken when the datagram is queued
      const r = handle.send(req, list, 1, port, ip, true);
      if (r >= 1) return SENT; // sent at once: the return value is the length + 1
      if (r === 0) {
        // queued: `req` now belongs to a pending libuv request, and `list` keeps `buf` alive
        req = newReq();
        return QUEUED;
      }
      return FAILED;
    },
  };
}
