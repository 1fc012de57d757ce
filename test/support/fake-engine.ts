// A real HTTP server on a unix socket that imitates the few Docker Engine API answers a test
// needs (routes given by the test), including the hijacked exec connection. For the engine
// client's unit tests: real sockets, real HTTP parsing, no Docker.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  url: URL;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

/** Its result is awaited and otherwise ignored (`res.writeHead(204).end()` returns the response). */
export type Route = (req: RecordedRequest, res: ServerResponse) => unknown;
/** Called with the raw socket after the 101 answer: write frames, read stdin. */
export type UpgradeRoute = (req: RecordedRequest, socket: Duplex) => void | Promise<void>;

export interface FakeEngineOptions {
  /** Listen on 127.0.0.1 (a free port) with TLS instead of on a unix socket. */
  tls?: https.ServerOptions;
}

export interface FakeEngine {
  socketPath: string;
  /** The TCP port, when listening with TLS. */
  port?: number;
  requests: RecordedRequest[];
  /** `${method} ${pathname}` → handler; unmatched requests get 404 with a Docker-style message. */
  routes: Map<string, Route>;
  upgrades: Map<string, UpgradeRoute>;
  /** Sockets accepted and never answered (the hung engine). */
  hang: boolean;
  /** Connections made to it (a hung engine records no request, but sees each connection). */
  connections: number;
  /** How often the default /version route answered (API negotiation). */
  versionAsked: number;
  /** The version prefixes requests came with (`/v1.41`), in order. */
  prefixes: string[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeEngine(options: FakeEngineOptions = {}): Promise<FakeEngine> {
  /** The request's URL with its API version prefix (`/v1.41`) taken off and remembered. */
  const unversioned = (raw: string | undefined): URL => {
    const url = new URL(raw ?? '/', 'http://docker');
    const m = /^\/v\d+\.\d+(?=\/)/.exec(url.pathname);
    if (m) {
      engine.prefixes.push(m[0]);
      url.pathname = url.pathname.slice(m[0].length);
    }
    return url;
  };
  const dir = mkdtempSync(join(tmpdir(), 'overlab-fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const sockets = new Set<Duplex>();
  const engine: FakeEngine = {
    socketPath,
    requests: [],
    routes: new Map(),
    upgrades: new Map(),
    hang: false,
    connections: 0,
    versionAsked: 0,
    prefixes: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    if (engine.hang) return; // accept, never answer
    const recorded: RecordedRequest = { method: req.method ?? '', url: unversioned(req.url), body: await readBody(req), headers: req.headers };
    if (recorded.method === 'GET' && recorded.url.pathname === '/version' && !engine.routes.has('GET /version')) {
      // The client asks once which API version to speak; tests that do not care get a 20.10 answer.
      engine.versionAsked += 1;
      json(res, 200, { Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12' });
      return;
    }
    engine.requests.push(recorded);
    const route = engine.routes.get(`${recorded.method} ${recorded.url.pathname}`);
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: `No such thing: ${recorded.url.pathname}` }));
      return;
    }
    await route(recorded, res);
  };
  // A route that throws is not turned into an answer: its rejection is left unhandled, which
  // fails the test run loudly.
  const handler = (req: IncomingMessage, res: ServerResponse) => void answer(req, res);
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  server.on(options.tls ? 'secureConnection' : 'connection', (socket) => {
    sockets.add(socket);
    engine.connections += 1;
    socket.on('close', () => sockets.delete(socket));
    // A client that hangs up mid-answer (Ctrl-C, a cut exec) resets the connection: the engine
    // goes on, as a real one does, instead of failing the run with an unhandled ECONNRESET.
    socket.on('error', () => undefined);
  });
  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (engine.hang) return;
    const url = unversioned(req.url);
    const length = Number(req.headers['content-length'] ?? 0);
    // The JSON body of the start request arrives before the connection is handed over.
    let body = head;
    while (body.length < length) body = Buffer.concat([body, await new Promise<Buffer>((resolve) => socket.once('data', resolve))]);
    const recorded: RecordedRequest = { method: req.method ?? '', url, body: body.subarray(0, length), headers: req.headers };
    engine.requests.push(recorded);
    const route = engine.upgrades.get(`${recorded.method} ${url.pathname}`);
    if (!route) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      return;
    }
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    await route(recorded, socket);
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(req, socket, head));
  if (options.tls) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    engine.port = (server.address() as AddressInfo).port;
  } else {
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  }
  return engine;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
