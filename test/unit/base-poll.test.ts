import { describe, expect, it } from 'vitest';
import { manualClock, pollUntil } from '../../src/base/poll.js';

describe('pollUntil', () => {
  it('asks again until yes', async () => {
    let calls = 0;
    expect(await pollUntil(async () => ++calls === 3, { timeoutMs: 1000, intervalMs: 1, signal: new AbortController().signal, clock: manualClock() })).toBe(true);
    expect(calls).toBe(3);
  });
  it('gives up after the deadline', async () => {
    expect(await pollUntil(async () => false, { timeoutMs: 20, intervalMs: 5, signal: new AbortController().signal, clock: manualClock() })).toBe(false);
  });
  it('stops on Ctrl-C with the interrupted error', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(pollUntil(async () => false, { timeoutMs: 1000, signal: controller.signal })).rejects.toMatchObject({ kind: 'interrupted' });
  });
});

describe('pollUntil with a clock', () => {
  it('counts its deadline on the clock it is given, so tests never really wait', async () => {
    const clock = manualClock(0);
    let calls = 0;
    const started = Date.now();
    expect(await pollUntil(async () => (++calls, false), { timeoutMs: 30_000, intervalMs: 200, signal: new AbortController().signal, clock })).toBe(false);
    expect(calls).toBe(152); // 0, 200, … 30 200 ms: the last answer after the deadline is the last asked
    expect(clock.slept.every((ms) => ms === 200)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('wakes a real sleep at once on Ctrl-C', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 10);
    await expect(pollUntil(async () => false, { timeoutMs: 60_000, intervalMs: 30_000, signal: controller.signal })).rejects.toMatchObject({ kind: 'interrupted' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
