// Stats: the agent's state goes to the stats file, written atomically, in the format
// agent-stats.ts defines. Every statsIntervalMs the writer looks; it writes when something changed
// (event-loop figures and timestamps aside) or when the last write is HEARTBEAT_MS old, and always
// at stop. 64 idle agents rewriting their file twice a second cost a core's worth of wake-ups on a
// small machine; now an idle agent writes every 10 s. This unit adds what only it knows — pid,
// start and write times, the event-loop delay since the last write — to what the agent reports.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { AgentStats, EventLoopDelayStats } from '../shared/agent-stats.js';
import { writeFileAtomic } from './files.js';
import type { Logger } from './log.js';

export type StatsBody = Omit<AgentStats, 'pid' | 'startedAt' | 'updatedAt' | 'eventLoopDelayMs'>;

/**
 * The histogram samples every LOOP_RES_MS; what exceeds that interval is the event-loop delay.
 * 20 ms: half the wake-ups of 10 ms for an idle agent, and still well below a delay worth seeing.
 */
const LOOP_RES_MS = 20;
/** An unchanged file is rewritten this often (its updatedAt shows the agent is alive). */
const HEARTBEAT_MS = 10_000;
/** Counters kept outside the agent (the udp backend's native proxy) are at most this old. */
const REFRESH_WAIT_MS = 1000;

export class StatsWriter {
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RES_MS });
  private readonly startedAt = new Date().toISOString();
  private maxSinceStart = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private lastContent = '';
  private lastWriteAt = 0;

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
    this.timer = setInterval(() => void this.write(false), this.intervalMs);
    this.timer.unref?.();
  }

  /** Writes now when `force`, else only if something changed or the heartbeat is due. */
  async write(force = true): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const r = this.refresh?.();
      if (r) await Promise.race([r, new Promise((res) => setTimeout(res, REFRESH_WAIT_MS).unref())]);
      this.writeNow(force);
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

  private writeNow(force: boolean): void {
    const { host, ...body } = this.collect();
    const content = JSON.stringify(body);
    const now = Date.now();
    if (!force && content === this.lastContent && now - this.lastWriteAt < HEARTBEAT_MS) return;
    this.lastContent = content;
    this.lastWriteAt = now;
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
