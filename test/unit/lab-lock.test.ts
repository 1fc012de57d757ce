// The per-lab lock: two callers at once, a holder that says who it is, and a holder killed with
// SIGKILL releasing the lab at once (the kernel frees the name).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { acquireLabLock, canonicalEndpoint, engineLockKey, heldMessage, lockAddress, lockHolder, lockWaitMs, withLabLock } from '../../src/lab/lab-lock.js';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualClock } from '../../src/base/poll.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { RoutedRuntime } from '../../src/runtime/routed-runtime.js';

const engine = () => `/test/${randomUUID()}.sock`;
/** Time moves only when the waiter sleeps, but each sleep gives the event loop one turn (so the
 * test can act between attempts); nothing really waits. */
function turnClock() {
  const clock = manualClock();
  return { ...clock, sleep: async (ms: number, s: AbortSignal) => {
    await clock.sleep(ms, s);
    await new Promise((resolve) => setImmediate(resolve));
  } };
}
const signal = () => new AbortController().signal;

describe('lab lock', () => {
  it('lets one of two concurrent callers in; the other is told who holds the lab (exit 3)', async () => {
    const e = engine();
    const clock = manualClock(Date.now());
    const results = await Promise.allSettled([
      acquireLabLock({ engine: e, lab: 'demo', signal: signal(), waitMs: 300, clock, command: 'overlab up a.yaml' }),
      acquireLabLock({ engine: e, lab: 'demo', signal: signal(), waitMs: 300, clock, command: 'overlab up b.yaml' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(exitCodeFor(lost[0]!.reason)).toBe(3);
    expect(lost[0]!.reason.message).toMatch(new RegExp(`^lab "demo" is being changed by another overlab process \\(pid ${process.pid}: \`overlab up [ab]\\.yaml\`, for 0 s\\)$`));
    expect(lost[0]!.reason.hint).toContain(`kill ${process.pid}`);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    expect(await lockHolder(e, 'demo')).toBeUndefined();
  });

  it('waits for the holder without sleeping for real, then gives up at its deadline', async () => {
    const e = engine();
    const held = await acquireLabLock({ engine: e, lab: 'demo', signal: signal(), command: 'overlab down demo' });
    const start = Date.parse('2026-12-01T00:00:00Z');
    const clock = manualClock(start);
    await expect(acquireLabLock({ engine: e, lab: 'demo', signal: signal(), waitMs: 5000, intervalMs: 100, clock })).rejects.toMatchObject({ kind: 'environment', message: expect.stringContaining('`overlab down demo`') });
    // Every wait on the given clock, one interval at a time, until just past the deadline.
    expect(clock.slept).toEqual(Array.from({ length: 51 }, () => 100));
    expect(clock.now() - start).toBe(5100);
    await held.release();
  });

  it('hands the lab to the waiting caller as soon as the holder releases it', async () => {
    const e = engine();
    const clock = turnClock();
    const order: string[] = [];
    const first = await acquireLabLock({ engine: e, lab: 'demo', signal: signal() });
    order.push('first in');
    const second = withLabLock(new FakeRuntime(), 'demo', signal(), async () => order.push('second in'), { engine: e, waitMs: 60_000, clock });
    while (clock.slept.length < 3) await new Promise((resolve) => setImmediate(resolve)); // it is waiting
    order.push('first out');
    await first.release();
    await second;
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('keeps labs and engines apart', async () => {
    const e = engine();
    const elsewhere = engine();
    const noWait = { signal: signal(), waitMs: 0, clock: manualClock() };
    // Lab a held on one engine: lab b there and lab a on another engine are still free…
    const a = await acquireLabLock({ engine: e, lab: 'a', ...noWait, command: 'overlab up a.yaml' });
    const b = await acquireLabLock({ engine: e, lab: 'b', ...noWait, command: 'overlab up b.yaml' });
    const other = await acquireLabLock({ engine: elsewhere, lab: 'a', ...noWait, command: 'overlab up other.yaml' });
    // …each lock names its own holder…
    expect((await lockHolder(e, 'a'))?.command).toBe('overlab up a.yaml');
    expect((await lockHolder(e, 'b'))?.command).toBe('overlab up b.yaml');
    expect((await lockHolder(elsewhere, 'a'))?.command).toBe('overlab up other.yaml');
    expect(new Set([lockAddress(e, 'a'), lockAddress(e, 'b'), lockAddress(elsewhere, 'a')]).size).toBe(3);
    // …while the same lab on the same engine is refused, naming the holder.
    await expect(acquireLabLock({ engine: e, lab: 'a', ...noWait })).rejects.toMatchObject({ kind: 'environment', message: expect.stringContaining('`overlab up a.yaml`') });
    await a.release();
    expect(await lockHolder(e, 'a')).toBeUndefined();
    expect((await lockHolder(elsewhere, 'a'))?.command).toBe('overlab up other.yaml');
    await Promise.all([b.release(), other.release()]);
  });

  it('stops waiting on Ctrl-C', async () => {
    const e = engine();
    const held = await acquireLabLock({ engine: e, lab: 'demo', signal: signal() });
    const controller = new AbortController();
    const clock = turnClock();
    const waiting = acquireLabLock({ engine: e, lab: 'demo', signal: controller.signal, waitMs: 60_000, clock });
    while (clock.slept.length < 2) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ kind: 'interrupted' });
    await held.release();
  });

  it('is free the moment a holder is killed with SIGKILL', async () => {
    const e = engine();
    const name = lockAddress(e, 'demo').slice(1); // without the leading NUL: argv cannot carry it
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer(s => s.end(JSON.stringify({pid: process.pid, command: 'overlab up k.yaml', since: new Date().toISOString()}))).listen({path: '\\0' + process.argv[1]}, () => console.log('held'))`,
      name,
    ]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(await lockHolder(e, 'demo')).toMatchObject({ pid: child.pid, command: 'overlab up k.yaml' });
    await expect(acquireLabLock({ engine: e, lab: 'demo', signal: signal(), waitMs: 0 })).rejects.toThrow(`pid ${child.pid}`);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const lock = await acquireLabLock({ engine: e, lab: 'demo', signal: signal(), waitMs: 0 });
    await lock.release();
  });

  it('says who holds the lab in words a person can act on', () => {
    const now = Date.parse('2026-12-01T00:00:10Z');
    expect(heldMessage('k8s', { pid: 42, command: 'overlab up labs/k8s.yaml', since: '2026-12-01T00:00:07Z' }, now)).toEqual({
      message: 'lab "k8s" is being changed by another overlab process (pid 42: `overlab up labs/k8s.yaml`, for 3 s)',
      hint: "wait until it has finished and try again, or stop it (kill 42); `overlab ls` shows the lab's state",
    });
  });
});

describe('probe lock', () => {
  it('is a lock of its own: a writer and a verify of one lab hold theirs side by side', async () => {
    const e = engine();
    const writer = await acquireLabLock({ engine: e, lab: 'demo', signal: signal(), waitMs: 0 });
    const prober = await acquireLabLock({ engine: e, lab: 'demo', signal: signal(), waitMs: 0, scope: 'probes' });
    expect(lockAddress(e, 'demo', 'probes')).not.toBe(lockAddress(e, 'demo'));
    expect(await lockHolder(e, 'demo', undefined, 'probes')).toMatchObject({ pid: process.pid });
    await writer.release();
    expect(await lockHolder(e, 'demo')).toBeUndefined();
    expect(await lockHolder(e, 'demo', undefined, 'probes')).toBeDefined();
    await prober.release();
  });

  it('tells a second verify of the same lab who is verifying it (exit 3)', async () => {
    const e = engine();
    const held = await acquireLabLock({ engine: e, lab: 'demo', signal: signal(), scope: 'probes', command: 'overlab verify demo' });
    const error = await acquireLabLock({ engine: e, lab: 'demo', signal: signal(), waitMs: 0, scope: 'probes' }).catch((x: unknown) => x);
    expect(exitCodeFor(error)).toBe(3);
    expect((error as Error).message).toMatch(new RegExp(`^lab "demo" is being verified by another overlab process \\(pid ${process.pid}: \`overlab verify demo\`, for \\d+ s\\)$`));
    expect((error as { hint?: string }).hint).toBe(`wait until it has finished and try again, or stop it (kill ${process.pid})`);
    await held.release();
  });

  it('waits two minutes by default, OVERLAB_PROBE_LOCK_WAIT_MS otherwise; writers keep their 5 s', () => {
    expect(lockWaitMs({}, 'probes')).toBe(120_000);
    expect(lockWaitMs({ OVERLAB_PROBE_LOCK_WAIT_MS: '900' }, 'probes')).toBe(900);
    expect(lockWaitMs({ OVERLAB_PROBE_LOCK_WAIT_MS: '900' })).toBe(5_000);
  });
});

describe('one lock per engine, however it is reached', () => {
  /** A fake engine behind this endpoint; `id` is what its /info says. */
  const reached = (endpoint: string, id: string | undefined, fails = false) => {
    const runtime = new FakeRuntime();
    Object.defineProperty(runtime, 'endpoint', { value: endpoint });
    const info = runtime.info.bind(runtime);
    runtime.info = async (options) => {
      if (fails) throw Object.assign(new Error('no engine'), { kind: 'environment' });
      return { ...(await info(options)), ...(id ? { id } : {}) };
    };
    return runtime;
  };

  it('names the lock after the engine\'s own ID: two socket spellings and a tcp address meet at one lock', async () => {
    const id = `ID-${randomUUID()}`;
    const a = reached('/var/run/docker.sock', id);
    const b = reached('/run/docker.sock', id);
    const c = reached('tcp://127.0.0.1:2375', id);
    expect(await engineLockKey(a)).toBe(`engine-id:${id}`);
    expect(await engineLockKey(b)).toBe(await engineLockKey(a));
    expect(await engineLockKey(c)).toBe(await engineLockKey(a));
    let entered: () => void = () => undefined;
    let leave: () => void = () => undefined;
    const inside = new Promise<void>((r) => (entered = r));
    const first = withLabLock(a, 'demo', signal(), () => (entered(), new Promise<void>((r) => (leave = r))));
    await inside;
    await expect(withLabLock(b, 'demo', signal(), async () => 'in', { waitMs: 0 })).rejects.toThrow(/is being changed by another overlab process/);
    await expect(withLabLock(c, 'demo', signal(), async () => 'in', { waitMs: 0 })).rejects.toThrow(/is being changed by another overlab process/);
    leave();
    await first;
    expect(await withLabLock(b, 'demo', signal(), async () => 'in', { waitMs: 0 })).toBe('in');
  });

  it('asks the engine for its lock key while it locates the lab: one round trip, not two in a row', async () => {
    const engine = reached('/var/run/docker.sock', `ID-${randomUUID()}`);
    let infoAsked: () => void = () => undefined;
    const asked = new Promise<void>((r) => (infoAsked = r));
    const info = engine.info.bind(engine);
    engine.info = (options) => (infoAsked(), info(options));
    const list = engine.list.bind(engine);
    // The engine answers the lab's listing only once the key was asked too (or says it never was).
    engine.list = async (filter, options) => {
      const late = new Promise<never>((_, fail) => setTimeout(() => fail(new Error('the lab was located before the lock key was asked')), 5_000).unref());
      await Promise.race([asked, late]);
      return list(filter, options);
    };
    const routed = new RoutedRuntime([{ name: '', runtime: engine }], () => new FakeRuntime());
    expect(routed.unplaced).toBe(true); // the command's own engine: the lab is located there first
    expect(await withLabLock(routed, 'demo', signal(), async () => 'in')).toBe('in');
    expect(engine.calls.filter((c) => c.method === 'info')).toHaveLength(1);
    expect(engine.calls.filter((c) => c.method === 'list')).toHaveLength(1);
  });

  it('asks the engine once per runtime', async () => {
    const a = reached('/var/run/docker.sock', 'X');
    await engineLockKey(a);
    await engineLockKey(a);
    expect(a.calls.filter((c) => c.method === 'info')).toHaveLength(1);
  });

  it('without an ID (or an answer) falls back to the socket\'s real path: a symlinked spelling is the same socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlab-lock-key-'));
    try {
      writeFileSync(join(dir, 'docker.sock'), '');
      symlinkSync(dir, join(dir, 'run-link'));
      expect(canonicalEndpoint(join(dir, 'run-link', 'docker.sock'))).toBe(join(dir, 'docker.sock'));
      expect(canonicalEndpoint(`${dir}/./docker.sock`)).toBe(join(dir, 'docker.sock'));
      expect(canonicalEndpoint('ssh://me@host')).toBe('ssh://me@host');
      const viaLink = reached(join(dir, 'run-link', 'docker.sock'), undefined);
      const silent = reached(join(dir, 'docker.sock'), undefined, true);
      expect(await engineLockKey(viaLink)).toBe(`endpoint:${join(dir, 'docker.sock')}`);
      expect(await engineLockKey(silent)).toBe(await engineLockKey(viaLink));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
