// A CLI run a test started (harness.ts overlab) ends when that test times out, instead of running
// on beside the next tests. The run here waits on an engine that accepts and never answers.
import { createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { overlab, until } from './harness.js';

let dir: string;
let connected: Socket | undefined;
let closed = false;
const server = createServer((socket) => {
  connected = socket;
  socket.on('close', () => (closed = true));
  socket.resume(); // read, or the client's hang-up is never seen
});

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-harness-timeout-');
  await new Promise<void>((resolve) => server.listen(`${dir}/hung.sock`, resolve));
});

afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

// Meant to time out: `ls` would wait 60 s for the engine.
it.fails('a test that times out while overlab waits', { timeout: 3000 }, async () => {
  await overlab(['ls'], { DOCKER_HOST: `unix://${dir}/hung.sock`, OVERLAB_ENGINE_TIMEOUT_MS: '60000' });
});

it('took its overlab run with it: the run had asked the engine and has hung up', async () => {
  expect(connected).toBeDefined();
  await until('the timed-out test\'s overlab run to end', async () => (closed ? true : undefined), 10_000);
});
