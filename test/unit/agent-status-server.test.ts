// The agent's status listener: GET /status answers the status document; anything else is 404;
// a port already taken is logged, not fatal.
import { afterEach, describe, expect, it } from 'vitest';
import { StatusServer } from '../../src/agent/status-server.js';
import type { Logger } from '../../src/agent/log.js';

function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, info: add('info'), warn: add('warn'), error: add('error'), debug: add('debug') };
}

const servers: StatusServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('StatusServer', () => {
  it('answers GET /status with the current document, and 404 for anything else', async () => {
    let n = 0;
    const server = new StatusServer('127.0.0.1', 0, () => JSON.stringify({ subnet: '10.244.1.0/24', n: ++n }), memoryLog());
    servers.push(server);
    await server.start();
    const base = `http://127.0.0.1:${server.listeningPort}`;
    expect(await (await fetch(`${base}/status`)).json()).toEqual({ subnet: '10.244.1.0/24', n: 1 });
    expect(await (await fetch(`${base}/status`)).json()).toEqual({ subnet: '10.244.1.0/24', n: 2 });
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/status`, { method: 'POST' })).status).toBe(404);
  });

  it('a port that is taken is logged, and the agent carries on', async () => {
    const first = new StatusServer('127.0.0.1', 0, () => '{}', memoryLog());
    servers.push(first);
    await first.start();
    const log = memoryLog();
    const second = new StatusServer('127.0.0.1', first.listeningPort!, () => '{}', log);
    await second.start();
    expect(second.listeningPort).toBeNull();
    expect(log.lines.join('\n')).toMatch(/^error status listener on 127\.0\.0\.1:\d+ failed: EADDRINUSE/);
    await second.stop();
  });
});
