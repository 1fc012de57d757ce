// One wait strategy for everything overlab waits on (agents programmed, peers dropping a host):
// ask again every interval until the answer is yes, the deadline passes, or Ctrl-C.
import { interruptedError } from './errors.js';

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal: AbortSignal;
}

/** Resolves true once `check` says yes, false when the deadline passes first. */
export async function pollUntil(check: () => Promise<boolean>, { timeoutMs, intervalMs = 100, signal }: PollOptions): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) throw interruptedError();
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
