// A real HTTP server on a unix socket that imitates the few Docker Engine API answers a test
// needs (routes given by the test), including the hijacked exec connection. For the engine
// client's unit tests: real sockets, real HTTP parsing, no Docker.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
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

export type Route = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;
/** Called with the raw socket after the 101 answer: write frames, read stdin. */
export type UpgradeRoute = (req: RecordedRequest, socket: Duplex) => void | Promise<void>;

export interface FakeEngine {
  socketPath: string;
  requests: RecordedRequest[];
  /** `${method} ${pathname}` → handler; unmatched requests get 404 with a Docker-style message. */
  routes: Map<string, Route>;
  upgrades: Map<string, UpgradeRoute>;
  /** Sockets accepted and never answered (the hung engine). */
  hang: boolean;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeEngine(): Promise<FakeEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'overlab-fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const sockets = new Set<Duplex>();
  const engine: FakeEngine = {
    socketPath,
    requests: [],
    routes: new Map(),
    upgrades: new Map(),
    hang: false,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const server = http.createServer(async (req, res) => {
    if (engine.hang) return; // accept, never answer
    const recorded: RecordedRequest = { method: req.method ?? '', url: new URL(req.url ?? '/', 'http://docker'), body: await readBody(req), headers: req.headers };
    engine.requests.push(recorded);
    const route = engine.routes.get(`${recorded.method} ${recorded.url.pathname}`);
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: `No such thing: ${recorded.url.pathname}` }));
      return;
    }
    await route(recorded, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (engine.hang) return;
    const url = new URL(req.url ?? '/', 'http://docker');
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
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return engine;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
