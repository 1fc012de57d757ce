// The agent's long-lived batch processes: a group of lines ends at its sentinel, failures are
// mapped back to the group's lines, a process that failed a line is replaced (iproute2 caches
// interface indexes), and one that dies or stalls gives null so the caller runs the group afresh.
// The process is a stand-in for `ip -force -batch -` (test/support/fake-ip-batch.mjs).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchSession, failuresIn, SENTINEL, type Spawner } from '../../src/agent/batch-session.js';
import { runBatch } from '../../src/agent/kernel-batch.js';
import type { CommandRunner, RunResult } from '../../src/agent/kernel.js';

const FAKE = fileURLToPath(new URL('../support/fake-ip-batch.mjs', import.meta.url));
const started: string[][] = [];
const spawner: Spawner = (tool, args) => {
  started.push([tool, ...args]);
  return spawn(process.execPath, [FAKE], { stdio: ['pipe', 'pipe', 'pipe'] });
};
const sessions: BatchSession[] = [];
function session(timeoutMs?: number): BatchSession {
  const s = new BatchSession('ip', spawner, timeoutMs);
  sessions.push(s);
  return s;
}

afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
  started.length = 0;
});

describe('BatchSession', () => {
  it('runs group after group in one process, each ended by its sentinel', async () => {
    const s = session();
    expect(await s.run(['route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink', 'neigh replace 10.244.2.0 lladdr 0a:00:00:00:00:02 dev flannel.1 nud permanent'])).toEqual({
      failedAt: new Map(),
      processes: 1,
    });
    expect(await s.run(['route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink'])).toEqual({ failedAt: new Map(), processes: 0 });
    expect(started).toEqual([['ip', '-force', '-batch', '-']]);
    expect(SENTINEL.ip).toBe('link show dev overlab-sentinel');
    expect('overlab-sentinel'.length).toBeGreaterThan(15); // no interface can have that name
  });

  it('maps failures to the group\'s own lines, then replaces the process', async () => {
    const s = session();
    await s.run(['route replace a']);
    const r = await s.run(['route replace b', 'route fail c', 'route replace d', 'route fail e']);
    expect(r).toEqual({ failedAt: new Map([[1, 'Error: route fail c went wrong.'], [3, 'Error: route fail e went wrong.']]), processes: 0 });
    expect(await s.run(['route replace f'])).toEqual({ failedAt: new Map(), processes: 1 });
    expect(started).toHaveLength(2);
  });

  it('groups sent together are run one after another', async () => {
    const s = session();
    const results = await Promise.all([s.run(['a']), s.run(['fail b']), s.run(['c'])]);
    expect(results.map((r) => [...(r?.failedAt.keys() ?? [])])).toEqual([[], [0], []]);
  });

  it('gives null when the process dies or stalls, and starts a new one next time', async () => {
    const s = session(3000); // a stand-in process (Node) may take a while to start on a busy machine
    expect(await s.run(['a', 'exit'])).toBeNull();
    expect(await s.run(['hang', 'b'])).toBeNull();
    expect(await s.run(['c'])).toEqual({ failedAt: new Map(), processes: 1 });
    expect(started).toHaveLength(3);
  });

  it('reads failures from stderr text', () => {
    expect(failuresIn('Cannot find device "x"\nCommand failed -:7\nError: y\nCommand failed -:9\n', 6)).toEqual(
      new Map([
        [1, 'Cannot find device "x"'],
        [3, 'Error: y'],
      ]),
    );
  });
});

describe('runBatch with a persistent session', () => {
  class SessionRunner implements CommandRunner {
    spawned: string[][] = [];
    constructor(private readonly s: BatchSession) {}
    async run(argv: string[]): Promise<RunResult> {
      this.spawned.push(argv);
      return { code: 0, stdout: '', stderr: '' };
    }
    batchSession(): BatchSession {
      return this.s;
    }
  }

  it('uses the session, and a one-shot process when the session cannot finish', async () => {
    const runner = new SessionRunner(session(3000));
    const ok = await runBatch(runner, 'ip', [['ip', 'route', 'replace', '10.244.2.0/24', 'dev', 'flannel.1']], { persistent: true });
    expect(ok).toEqual({ done: [['ip', 'route', 'replace', '10.244.2.0/24', 'dev', 'flannel.1']], failed: [], processes: 1 });
    expect(runner.spawned).toEqual([]);
    await runBatch(runner, 'ip', [['ip', 'hang']], { persistent: true });
    expect(runner.spawned).toEqual([['ip', '-force', '-batch', '-']]);
    // not asked for: always a one-shot process
    await runBatch(runner, 'ip', [['ip', 'route', 'replace', '10.244.3.0/24', 'dev', 'flannel.1']]);
    expect(runner.spawned).toHaveLength(2);
  });
});
