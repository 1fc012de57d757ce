// A hung engine (a socket that accepts and never answers): overlab gives up at its deadline and
// one Ctrl-C ends it at once. These measure how fast overlab answers, so they run after the
// side-by-side files, with the machine to themselves (vitest.config.ts), not beside labs being
// built on both cores. No lab is built: the engine never answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import net from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { CLI, ROOT, overlab } from '../harness.js';

const SPEC = 'labs/k8s-cni0.yaml';
let dir: string;

function start(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; cwd: string; env: Record<string, string> }> {
  return execa('node', [CLI, ...args], { cwd: ROOT, reject: false, env: { NO_COLOR: '1', ...env } });
}

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-hung-');
});

describe('a hung engine (a socket that accepts and never answers)', () => {
  let server: net.Server;
  let socketPath: string;
  let connections = 0;
  /** Each connection in the order they came: what it asked (its request line), and how many
   * connections before it overlab had already given up on (closed) when it came. */
  const asked: { line: string; afterGiveUps: number }[] = [];
  let givenUp = 0;

  beforeAll(async () => {
    socketPath = `${dir}/hung.sock`;
    server = net.createServer((socket) => {
      connections++;
      const entry = { line: '(nothing yet)', afterGiveUps: givenUp };
      asked.push(entry);
      socket.once('data', (chunk: Buffer) => {
        entry.line = chunk.toString('latin1').split('\r\n')[0] ?? '';
      });
      socket.once('close', () => givenUp++);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });

  afterAll(async () => {
    server.close();
  });

  it.each([['ls'], ['doctor'], ['up', SPEC]])('%s exits 3 within the deadline, naming the socket, and a hung engine costs it ONE deadline', async (...args) => {
    // The same command against a socket that does not exist fails at once: its time is Node and
    // oclif starting (and the spec read), measured here so the bound below is about the engine.
    const startedBare = Date.now();
    const bare = await overlab([...args, '--json'], { DOCKER_HOST: `unix://${dir}/missing.sock`, OVERLAB_ENGINE_TIMEOUT_MS: '1500' });
    const baseline = Date.now() - startedBare;
    expect(bare.exitCode).toBe(3);
    const first = asked.length;
    const givenUpBefore = givenUp;
    const started = Date.now();
    const r = await overlab([...args, '--json'], { DOCKER_HOST: `unix://${socketPath}`, OVERLAB_ENGINE_TIMEOUT_MS: '1500' });
    const took = Date.now() - started;
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain(`the Docker engine at ${socketPath} does not answer within 1.5 s`);
    // It waited the configured deadline and gave up there, long before the default (10 s).
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(8000);
    // Once, not once per step (the lock key, the underlay choice, the networks each asking again
    // after the one before ran out): once overlab has given up on a question, the engine is asked
    // at most one ping more, and nothing else. Told by the order of what the engine saw (a
    // question, overlab closing it, the next question), not by the clock: a loaded machine's Node
    // start-up varies by seconds, that order does not.
    const questions = asked.slice(first).map((q) => ({ ...q, afterGiveUps: q.afterGiveUps - givenUpBefore }));
    const said = questions.map((q) => `${q.line} (after ${q.afterGiveUps} given up)`).join(', ');
    const late = questions.filter((q) => q.afterGiveUps > 0);
    expect(late.length, said).toBeLessThanOrEqual(1);
    for (const q of late) expect(q.line, said).toMatch(/^GET \/(v[\d.]+\/)?_ping /);
    console.log(`hung engine: overlab ${args.join(' ')} exit ${r.exitCode} after ${took} ms (deadline 1.5 s; the same command with no engine: ${baseline} ms); asked: ${said}`);
  });

  it('ls gives up at the default deadline (10 s) by itself', async () => {
    const started = Date.now();
    const r = await overlab(['ls'], { DOCKER_HOST: `unix://${socketPath}` });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('does not answer within 10 s');
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it.each([['ls'], ['doctor'], ['up', SPEC]])('one Ctrl-C ends %s within 1 s while its request hangs', async (...args) => {
    const before = connections;
    const child = start(args, { DOCKER_HOST: `unix://${socketPath}` });
    for (let i = 0; i < 200 && connections === before; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(connections).toBeGreaterThan(before); // its request is in flight
    const sent = Date.now();
    child.kill('SIGINT');
    const r = await child;
    const took = Date.now() - sent;
    expect(r.exitCode).toBe(130);
    expect(took).toBeLessThan(1000);
    console.log(`hung engine: overlab ${args.join(' ')} ended ${took} ms after one SIGINT (exit ${r.exitCode})`);
  });

  it('refuses a DOCKER_HOST no engine can be reached by, and says when nothing listens on a tcp:// one (exit 3)', async () => {
    const pipe = await overlab(['ls'], { DOCKER_HOST: 'npipe:////./pipe/docker_engine' });
    expect(pipe.exitCode).toBe(3);
    expect(pipe.stderr).toContain('is not an engine address overlab can reach');
    const tcp = await overlab(['ls'], { DOCKER_HOST: 'tcp://127.0.0.1:1' });
    expect(tcp.exitCode).toBe(3);
    expect(tcp.stderr).toContain('no Docker engine answers at tcp://127.0.0.1:1 (nothing listens on it)');
  });
});
