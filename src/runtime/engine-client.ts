// The Docker Engine API over HTTP (node:http, no client library) on whichever transport reaches
// the engine (engine-transport.ts: unix socket, TCP, TLS, ssh). Every request has a deadline for
// the engine's answer and an abort: the client's own signal (the command's Ctrl-C) reaches every
// request in flight, and each call may add a signal of its own. The API version is negotiated
// once per client, on its first request (api-version.ts), and named in every path after it. When
// a quick request runs out its deadline, the next request first pings the engine (a short
// deadline): an engine that does not answer even that is taken as hung for the rest of the
// command, and every later request fails at once with the same sentence — a hung engine costs a
// command one deadline, not one per step; a busy one (Podman holding its lock) goes on. A body
// read as a stream (images) must keep coming: the engine may be silent for at most the request's
// deadline at a time once it began to answer (a stalled body fails, while time its reader spends
// not reading does not count); an exec's connection may be silent for as long as its command is.
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { interruptedError } from '../base/errors.js';
import { engineDeadlines, resolveEngineTarget, type EngineDeadlines } from './engine-endpoint.js';
import { displayAddress, type EngineAddress } from './engine-address.js';
import { engineTransport, type EngineTransport } from './engine-transport.js';
import { negotiateApiVersion, type VersionAnswer } from './api-version.js';
import { engineError, failureForStatus, failureForSocketError, isEngineFailure } from './engine-errors.js';

/** Which deadline applies: a class from EngineDeadlines, or milliseconds. */
export type Deadline = 'quick' | 'slow' | 'image' | number;

export type QueryValue = string | number | boolean | string[] | undefined;

export interface EngineRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  path: string;
  query?: Record<string, QueryValue>;
  /** A JSON body, or raw bytes/stream with contentType. */
  json?: unknown;
  body?: Buffer | Readable;
  contentType?: string;
  /** For messages: what overlab was doing ("create", "container overlab-a-host1"). */
  operation: string;
  subject?: string;
  deadline?: Deadline;
  signal?: AbortSignal;
  /** Statuses that are answers, not failures (default: any 2xx). */
  accept?: number[];
}

export interface EngineResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface EngineStream {
  status: number;
  stream: Readable;
}

/** A hijacked connection (exec): raw bytes both ways. `head` is what arrived with the headers. */
export interface EngineConnection {
  socket: Socket;
  head: Buffer;
}

export interface EngineClientOptions {
  /** The engine; defaults to the docker CLI's choice (--context, DOCKER_HOST, DOCKER_CONTEXT,
   * the current context, /var/run/docker.sock). */
  address?: EngineAddress;
  /** Shorthand for a unix socket address. */
  socketPath?: string;
  /** A Docker context to use instead of the environment's choice (`--context`). */
  context?: string;
  deadlines?: Partial<EngineDeadlines>;
  /** Aborts every request in flight when it fires (the command's Ctrl-C). Requests started after
   * it fired are not aborted by it (clean-up must still work) but first make sure the engine
   * answers at all, so a hung engine cannot hold the clean-up up. */
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
  /** The engine's name in a lab spread over several (`engines:`): messages say it after the address. */
  name?: string;
}

type Mode = 'buffer' | 'stream' | 'upgrade';
type Opened = { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; body?: Buffer; stream?: Readable } | { kind: 'upgrade'; socket: Socket; head: Buffer };

const accepted = (status: number, accept?: number[]) => (accept ? accept.includes(status) : status >= 200 && status < 300);

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** AbortSignal.any, with a fallback for Node 20.0–20.2 (which lack it). */
function anySignal(signals: AbortSignal[]): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any(signals);
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/** Paths answered the same by every API version: they come before (or without) negotiation. */
const UNVERSIONED = new Set(['/_ping', '/version']);

export class EngineClient {
  /** How messages and lab locks name the engine: a socket path, tcp://host:port or ssh://user@host. */
  readonly endpoint: string;
  /** The Docker context the engine was chosen by, if any. */
  readonly context?: string;
  readonly address?: EngineAddress;
  private readonly endpointError?: Error;
  /** How messages name the engine: its address, and its name in the lab when it has one. */
  readonly said: string;
  private readonly deadlines: EngineDeadlines;
  private readonly signal?: AbortSignal;
  private readonly transport?: EngineTransport;
  private liveness?: Promise<boolean>;
  private apiVersion?: Promise<string>;
  /** A quick request ran out its deadline: the next request pings first. */
  private suspect?: number;
  /** The ping after that failed too: the engine does not answer (the deadline it missed). */
  private silentFor?: number;
  private pinging?: Promise<boolean>;
  /** Requests waiting for an answer: told when the engine turned out hung. */
  private readonly waiting = new Set<(silentMs: number) => void>();
  /** Exec connections open now, and the timer that pings the engine while there are any. */
  private watched = 0;
  private watchTimer?: NodeJS.Timeout;
  private watchPing?: Promise<boolean>;

  constructor(options: EngineClientOptions = {}) {
    const env = options.env ?? process.env;
    let address = options.address ?? (options.socketPath !== undefined ? { kind: 'unix' as const, path: options.socketPath } : undefined);
    let endpoint = address ? displayAddress(address) : '';
    try {
      if (!address) {
        const target = resolveEngineTarget(env, options.context ? { context: options.context } : {});
        address = target.address;
        if (target.context) this.context = target.context;
        endpoint = displayAddress(address);
      }
      this.transport = engineTransport(address, endpoint, env);
    } catch (error) {
      this.endpointError = error as Error;
      endpoint ||= env.DOCKER_HOST ?? options.context ?? '';
    }
    this.endpoint = endpoint;
    this.said = options.name ? `${endpoint} (engine ${options.name})` : endpoint;
    if (address) this.address = address;
    this.deadlines = { ...engineDeadlines(env), ...options.deadlines };
    if (options.signal) this.signal = options.signal;
  }

  /** How long the engine failed to answer, once it is taken as hung (then nothing more is asked
   * of it); undefined while it answers. */
  get silentForMs(): number | undefined {
    return this.silentFor;
  }

  /** `/v1.41` for this engine, asked once (a failure is not remembered: the next call asks again). */
  private versionPrefix(request: EngineRequest): Promise<string> {
    if (!this.apiVersion) {
      const asking = this.json<VersionAnswer>({ method: 'GET', path: '/version', operation: request.operation, ...(request.subject ? { subject: request.subject } : {}), ...(request.signal ? { signal: request.signal } : {}) }).then((answer) =>
        negotiateApiVersion(answer ?? {}, this.said),
      );
      this.apiVersion = asking;
      asking.catch(() => {
        if (this.apiVersion === asking) this.apiVersion = undefined;
      });
    }
    return this.apiVersion.then((v) => `/v${v}`);
  }

  /** The negotiated Engine API version (asking the engine if not yet asked). */
  async negotiatedApiVersion(options: { signal?: AbortSignal } = {}): Promise<string> {
    return (await this.versionPrefix({ method: 'GET', path: '/version', operation: 'say which API version it speaks', ...(options.signal ? { signal: options.signal } : {}) })).slice(2);
  }

  async json<T>(request: EngineRequest): Promise<T> {
    const response = await this.buffered(request);
    if (response.body.length === 0) return undefined as T;
    try {
      return JSON.parse(response.body.toString('utf8')) as T;
    } catch {
      throw engineError('server', { ...this.call(request), status: response.status, detail: 'the answer is not JSON' });
    }
  }

  async buffered(request: EngineRequest): Promise<EngineResponse> {
    const opened = await this.open(request, 'buffer');
    if (opened.kind !== 'response') throw new Error('unexpected upgrade');
    return { status: opened.status, headers: opened.headers, body: opened.body ?? Buffer.alloc(0) };
  }

  /** The answer's body as a stream (after an accepted status); aborts still reach it. */
  async stream(request: EngineRequest): Promise<EngineStream> {
    const opened = await this.open(request, 'stream');
    if (opened.kind !== 'response' || !opened.stream) throw new Error('unexpected upgrade');
    return { status: opened.status, stream: opened.stream };
  }

  /** A request the engine answers by handing over the connection (101 Upgrade: tcp). */
  async upgrade(request: EngineRequest): Promise<EngineConnection | EngineStream> {
    const opened = await this.open(request, 'upgrade');
    if (opened.kind === 'upgrade') return { socket: opened.socket, head: opened.head };
    if (!opened.stream) throw new Error('unexpected answer');
    return { status: opened.status, stream: opened.stream };
  }

  /** The signals a request started now listens to (the client's only while it has not fired). */
  signalFor(own?: AbortSignal): AbortSignal | undefined {
    const signals = [own, this.signal && !this.signal.aborted ? this.signal : undefined].filter((s): s is AbortSignal => s !== undefined);
    if (signals.length === 0) return undefined;
    return signals.length === 1 ? signals[0] : anySignal(signals);
  }

  private call(request: EngineRequest) {
    return { engine: this.said, operation: request.operation, ...(request.subject ? { subject: request.subject } : {}) };
  }

  private deadlineMs(deadline: Deadline | undefined): number {
    if (typeof deadline === 'number') return deadline;
    switch (deadline ?? 'quick') {
      case 'slow':
        return this.deadlines.slowMs;
      case 'image':
        return this.deadlines.imageMs;
      default:
        return this.deadlines.quickMs;
    }
  }

  /** An exec's connection stays open as long as its command runs, and nothing flows through it
   * while the command is quiet, so no deadline can bound it. Instead, while any exec is open, the
   * engine is pinged once per quick deadline: an engine that stopped answering (a frozen or dead
   * dockerd whose socket still accepts) ends every open exec with its timeout, as it does every
   * waiting request, instead of leaving the command waiting forever. */
  private watchWhileOpen(connection: Readable | Socket, request: EngineRequest): void {
    const onSilent = (silentMs: number) => connection.destroy(engineError('timeout', { ...this.call(request), timeoutMs: silentMs }));
    this.waiting.add(onSilent);
    if (this.watched++ === 0) {
      const quickMs = this.deadlines.quickMs;
      this.watchTimer = setInterval(() => void this.pingWhileWatching(quickMs), quickMs);
      this.watchTimer.unref();
    }
    connection.once('close', () => {
      this.waiting.delete(onSilent);
      if (--this.watched === 0 && this.watchTimer) {
        clearInterval(this.watchTimer);
        this.watchTimer = undefined;
      }
    });
  }

  /** One ping that may take `deadlineMs`: whether the engine answered. `anyStatus`: an error
   * status is an answer too (the engine is alive, if unhappy). */
  private ping(deadlineMs: number, anyStatus = false): Promise<boolean> {
    return this.open({ method: 'GET', path: '/_ping', operation: 'answer a ping', deadline: deadlineMs }, 'buffer', true).then(
      () => true,
      (error: unknown) => anyStatus && !isEngineFailure(error, 'timeout') && !isEngineFailure(error, 'unreachable'),
    );
  }

  /** The engine does not answer: nothing more is asked of it, and what is still waiting on it
   * fails now, with the deadline it missed. */
  private hung(missedMs: number): void {
    this.silentFor ??= missedMs;
    for (const stop of [...this.waiting]) stop(this.silentFor);
  }

  /** One ping for the open execs: any answer, even an error status, shows the engine alive; no
   * answer within the quick deadline (or no engine at all) ends everything waiting on it. */
  private async pingWhileWatching(quickMs: number): Promise<void> {
    if (this.silentFor !== undefined || this.watchPing) return;
    this.watchPing = this.ping(quickMs, true);
    const answered = await this.watchPing;
    this.watchPing = undefined;
    if (!answered && this.silentFor === undefined) this.hung(quickMs);
  }

  /** After Ctrl-C: one short ping decides whether clean-up requests are worth sending. */
  private async answersAfterAbort(): Promise<boolean> {
    this.liveness ??= this.ping(this.deadlines.livenessMs);
    return this.liveness;
  }

  /** After a quick request's timeout: one short ping (shared by the requests waiting on it) says
   * whether the engine is hung or only was slow. `pingMs`: how long the ping may take. */
  private async pingAfterTimeout(missedMs: number, pingMs = this.deadlines.livenessMs): Promise<void> {
    this.pinging ??= this.ping(pingMs);
    const answered = await this.pinging;
    this.pinging = undefined;
    if (answered) this.suspect = undefined;
    else this.hung(missedMs);
  }

  private async open(request: EngineRequest, mode: Mode, probing = false): Promise<Opened> {
    if (this.endpointError) throw this.endpointError;
    const transport = this.transport!;
    const signal = this.signalFor(request.signal);
    if (signal?.aborted) throw interruptedError();
    if (!probing && this.suspect !== undefined && this.silentFor === undefined) await this.pingAfterTimeout(this.suspect);
    if (this.silentFor !== undefined && !probing) throw engineError('timeout', { ...this.call(request), timeoutMs: this.silentFor });
    if (!probing && this.signal?.aborted && !(await this.answersAfterAbort())) {
      throw engineError('timeout', { ...this.call(request), timeoutMs: this.deadlines.livenessMs });
    }
    const prefix = UNVERSIONED.has(request.path) ? '' : await this.versionPrefix(request);
    if (signal?.aborted) throw interruptedError();
    const deadlineMs = this.deadlineMs(request.deadline);
    const headers: http.OutgoingHttpHeaders = { Host: 'docker' };
    let payload: Buffer | Readable | undefined;
    if (request.json !== undefined) {
      payload = Buffer.from(JSON.stringify(request.json));
      headers['Content-Type'] = 'application/json';
    } else if (request.body !== undefined) {
      payload = request.body;
      headers['Content-Type'] = request.contentType ?? 'application/octet-stream';
    }
    if (Buffer.isBuffer(payload)) headers['Content-Length'] = payload.length;
    else if (payload) headers['Transfer-Encoding'] = 'chunked';
    if (mode === 'upgrade') {
      headers.Connection = 'Upgrade';
      headers.Upgrade = 'tcp';
    }

    return new Promise<Opened>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let check: NodeJS.Timeout | undefined;
      const req = transport.request({
        method: request.method,
        path: prefix + request.path + queryString(request.query),
        headers,
      });
      const onSilent = (silentMs: number) => fail(engineError('timeout', { ...this.call(request), timeoutMs: silentMs }));
      const stopListening = () => {
        if (timer) clearTimeout(timer);
        if (check) clearTimeout(check);
        timer = check = undefined;
        this.waiting.delete(onSilent);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        stopListening();
        req.destroy();
        reject(error);
      };
      const succeed = (value: Opened, keepAbortOn?: { destroy(error?: Error): void }) => {
        if (settled) return;
        settled = true;
        stopListening();
        if (keepAbortOn && signal) {
          // The stream lives on: Ctrl-C must still end it.
          const abortStream = () => keepAbortOn.destroy(interruptedError());
          signal.addEventListener('abort', abortStream, { once: true });
          const target = keepAbortOn as unknown as NodeJS.EventEmitter;
          target.once('close', () => signal.removeEventListener('abort', abortStream));
        }
        resolve(value);
      };
      const onAbort = () => fail(interruptedError());
      const arm = () => {
        if (settled || timer) return;
        timer = setTimeout(() => {
          // A quick question unanswered: the engine is hung (or gone without closing), not busy.
          if ((request.deadline ?? 'quick') === 'quick' && !probing) this.suspect ??= deadlineMs;
          fail(engineError('timeout', { ...this.call(request), timeoutMs: deadlineMs }));
        }, deadlineMs);
        // Real work (a create, an image) may take long, but an engine that has not answered it
        // within a quick deadline is asked for a ping (as long again): no answer, and the engine
        // is hung — this request and every other fail now, not at their own long deadlines.
        const quickMs = this.deadlines.quickMs;
        if (!probing && deadlineMs > quickMs) check = setTimeout(() => void this.pingAfterTimeout(quickMs, quickMs), quickMs);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (!probing) this.waiting.add(onSilent);

      req.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code;
        fail(engineError(failureForSocketError(code), { ...this.call(request), ...(code ? { code } : {}), detail: error.message, timeoutMs: deadlineMs }));
      });
      req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        socket.on('error', () => undefined); // surfaced through 'close' to the exec reader
        if (!probing) this.watchWhileOpen(socket, request);
        succeed({ kind: 'upgrade', socket, head }, socket);
      });
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (!accepted(status, request.accept) || mode === 'buffer') {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (error: NodeJS.ErrnoException) => fail(engineError('unreachable', { ...this.call(request), ...(error.code ? { code: error.code } : {}), detail: error.message })));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            if (!accepted(status, request.accept)) {
              fail(engineError(failureForStatus(status), { ...this.call(request), status, detail: body.toString('utf8') }));
            } else {
              succeed({ kind: 'response', status, headers: res.headers, body });
            }
          });
          return;
        }
        if (mode === 'stream') {
          const body = idleBounded(res, deadlineMs, () => engineError('timeout', { ...this.call(request), timeoutMs: deadlineMs, stalled: true }));
          succeed({ kind: 'response', status, headers: res.headers, stream: body }, body);
          return;
        }
        if (mode === 'upgrade' && !probing) {
          res.on('error', () => undefined); // surfaced through 'close' to the exec reader
          this.watchWhileOpen(res, request);
        }
        succeed({ kind: 'response', status, headers: res.headers, stream: res }, res);
      });

      // The deadline covers the engine's answer: from the start for small bodies, from the end
      // of the upload for streamed ones (an image import may take minutes to send).
      if (payload instanceof Readable) {
        req.on('finish', arm);
        payload.on('error', (error) => fail(error));
        payload.pipe(req);
      } else {
        arm();
        req.end(payload);
      }
    });
  }
}

/** The body of an answer, failing with `stalled()` when the engine sends nothing for `idleMs`
 * while its reader wants more. Backpressure (a reader that is not reading) stops the clock. */
function idleBounded(source: IncomingMessage, idleMs: number, stalled: () => Error): Readable {
  const body = new PassThrough();
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    stop();
    timer = setTimeout(() => source.destroy(stalled()), idleMs);
  };
  source.on('data', arm);
  source.on('pause', stop);
  source.on('resume', arm);
  // An error of either side (the stall, Ctrl-C destroying the body) ends both; the reader sees it.
  pipeline(source, body, stop);
  arm();
  return body;
}
