// One wait strategy for everything overlab waits on (agents programmed, peers dropping a host, a
// lab's lock): ask again every interval until the answer is yes, the deadline passes, or Ctrl-C.
// Time comes from a Clock, so unit tests run the same loop without really waiting.
import { interruptedError } from './errors.js';

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when the signal fires. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    }),
};

/** A clock for tests: sleeping moves time forward at once. */
export function manualClock(start = 0): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal: AbortSignal;
  clock?: Clock;
}

/** Resolves true once `check` says yes, false when the deadline passes first. */
export async function pollUntil(check: () => Promise<boolean>, { timeoutMs, intervalMs = 100, signal, clock = realClock }: PollOptions): Promise<boolean> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) throw interruptedError();
    if (await check()) return true;
    if (clock.now() > deadline) return false;
    await clock.sleep(intervalMs, signal);
  }
}
