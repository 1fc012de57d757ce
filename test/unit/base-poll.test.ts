import { describe, expect, it, vi } from 'vitest';
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
    expect(await pollUntil(async () => (++calls, false), { timeoutMs: 30_000, intervalMs: 200, signal: new AbortController().signal, clock })).toBe(false);
    expect(calls).toBe(152); // 0, 200, … 30 200 ms: the last answer after the deadline is the last asked
    expect(clock.slept).toEqual(Array.from({ length: 151 }, () => 200));
    expect(clock.now()).toBe(30_200); // all of it on the given clock: the real one was never asked to wait
  });

  it('wakes a real sleep at once on Ctrl-C, and leaves no timer behind', async () => {
    // Fake timers: the 30 s sleep can end only by the abort, never by its timer.
    vi.useFakeTimers();
    try {
      const controller = new AbortController();
      let calls = 0;
      const polling = pollUntil(async () => (++calls, false), { timeoutMs: 60_000, intervalMs: 30_000, signal: controller.signal });
      const outcome = polling.then(
        () => 'resolved',
        (error: unknown) => error,
      );
      await vi.waitFor(() => expect(vi.getTimerCount()).toBe(1)); // asked once, now asleep
      controller.abort();
      expect(await outcome).toMatchObject({ kind: 'interrupted' });
      expect(calls).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
