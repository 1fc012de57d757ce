// Waiting and retrying, the agent's way: exponential backoff from 1 s up to 10 s, forever, until it
// succeeds or the agent stops (etcd outages never make the agent exit).

import type { Logger } from './log.js';

export const FIRST_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 10_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function nextBackoff(ms: number): number {
  return Math.min(ms * 2, MAX_BACKOFF_MS);
}

export async function retryForever<T>(what: string, fn: () => Promise<T>, log: Logger, stopped: () => boolean): Promise<T> {
  let delay = FIRST_BACKOFF_MS;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (stopped()) throw e;
      log.warn(`${what} failed: ${(e as Error).message}; retrying in ${delay / 1000}s`);
      await sleep(delay);
      delay = nextBackoff(delay);
    }
  }
}
