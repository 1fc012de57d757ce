// A deadline that counts from the last progress, not from the start of the wait. A lab's agents
// do not all start when the wait starts: on a busy machine the last of 64 Node processes starts
// 20 s or more into it, so a deadline counted from the start fails a lab whose agents are still
// coming up one by one. Here the wait ends only when nothing has moved for the whole budget.
// Progress is a score per target that only counts when it beats that target's best so far, so
// an agent whose status flaps (in sync, then not) cannot hold the wait open for ever: the scores
// are bounded, and so is the number of times the deadline moves.
import type { Clock } from '../base/poll.js';

export class ProgressDeadline {
  private readonly best = new Map<string, number>();
  private readonly startedAt: number;
  private lastProgressAt: number;

  constructor(
    private readonly clock: Clock,
    /** How long the wait may go without any target making progress. */
    readonly idleMs: number,
  ) {
    this.startedAt = clock.now();
    this.lastProgressAt = this.startedAt;
  }

  /** Notes a target's score (its first report always counts); true when it was progress. */
  note(key: string, score: number): boolean {
    const best = this.best.get(key);
    if (best !== undefined && score <= best) return false;
    this.best.set(key, score);
    this.lastProgressAt = this.clock.now();
    return true;
  }

  /** Time left before the wait gives up (≤ 0: give up). */
  remainingMs(): number {
    return this.lastProgressAt + this.idleMs - this.clock.now();
  }

  /** Time since the wait started. */
  elapsedMs(): number {
    return this.clock.now() - this.startedAt;
  }
}
