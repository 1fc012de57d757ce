// Stats: every statsIntervalMs (and at stop) the agent's state goes to the stats file, written
// atomically, in the format agent-stats.ts defines. This unit adds what only it knows — pid, start
// and write times, the event-loop delay over the last interval — to what the agent reports.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { AgentStats, EventLoopDelayStats } from './agent-stats.js';
import { writeFileAtomic } from './files.js';
import type { Logger } from './log.js';

export type StatsBody = Omit<AgentStats, 'pid' | 'startedAt' | 'updatedAt' | 'eventLoopDelayMs'>;

/** The histogram samples every LOOP_RES_MS; what exceeds that interval is the event-loop delay. */
const LOOP_RES_MS = 10;
/** Counters kept outside the agent (the udp backend's native proxy) are at most this old. */
const REFRESH_WAIT_MS = 1000;

export class StatsWriter {
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RES_MS });
  private readonly startedAt = new Date().toISOString();
  private maxSinceStart = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly file: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
    /** What the agent reports now. */
    private readonly collect: () => StatsBody,
    /** Optional: refresh counters kept elsewhere first. */
    private readonly refresh?: () => Promise<void> | undefined,
  ) {}

  /** Starts sampling the event loop (call early, so start-up stalls are seen). */
  enable(): void {
    this.loopDelay.enable();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.write(), this.intervalMs);
    this.timer.unref?.();
  }

  async write(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const r = this.refresh?.();
      if (r) await Promise.race([r, new Promise((res) => setTimeout(res, REFRESH_WAIT_MS).unref())]);
      this.writeNow();
    } finally {
      this.busy = false;
    }
  }

  private eventLoopDelay(): EventLoopDelayStats | null {
    const h = this.loopDelay;
    const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - LOOP_RES_MS) * 100) / 100);
    if (h.count === 0) return null;
    const max = ms(h.max);
    this.maxSinceStart = Math.max(this.maxSinceStart, max);
    const out = { mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max, samples: h.count, maxSinceStart: this.maxSinceStart };
    h.reset();
    return out;
  }

  private writeNow(): void {
    const { host, ...body } = this.collect();
    const stats: AgentStats = {
      host,
      pid: process.pid,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      ...body,
      eventLoopDelayMs: this.eventLoopDelay(),
    };
    try {
      writeFileAtomic(this.file, JSON.stringify(stats, null, 2) + '\n');
    } catch (e) {
      this.log.debug(`stats: ${(e as Error).message}`);
    }
  }

  /** A last write, then no more. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.busy = false;
    await this.write();
    this.loopDelay.disable();
  }
}
