// The agent's status over HTTP on its underlay address: `GET /status` answers what the stats file
// holds, minus the per-write fields (pid, times, event-loop delay), so an unchanged state gives
// byte-identical answers. Who waits for many agents (overlab's `up` and `node add`, from one
// process in the lab's etcd node) asks them all over the underlay instead of starting a process in
// every host per round: with 64 hosts that poll alone had kept both cores of a small machine busy.
// flanneld has a comparable listener (--healthz-port); this one is read-only and off by default.

import { createServer, type Server } from 'node:http';
import type { Logger } from './log.js';

export const STATUS_PATH = '/status';

export class StatusServer {
  private server: Server | null = null;

  constructor(
    private readonly address: string,
    private readonly port: number,
    /** The status document, as JSON text. */
    private readonly body: () => string,
    private readonly log: Logger,
  ) {}

  /** Listens; a failure is logged, not thrown (the data plane does not depend on it). */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== STATUS_PATH) {
        res.writeHead(404).end();
        return;
      }
      let text: string;
      try {
        text = this.body();
      } catch (e) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end((e as Error).message);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        this.log.error(`status listener on ${this.address}:${this.port} failed: ${e.code ?? e.message}; overlab cannot see this agent's state`);
        resolve();
      });
      server.listen(this.port, this.address, () => {
        this.server = server;
        this.log.info(`status on http://${this.address}:${this.port}${STATUS_PATH}`);
        resolve();
      });
    });
  }

  /** The port listened on (the configured one; the kernel's choice when that was 0), or null. */
  get listeningPort(): number | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
  }
}
