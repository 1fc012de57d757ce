// Peer sync: one sync at a time, and every request made while one is queued or running folds into
// the next — so a burst of watch events (64 hosts joining) costs one sync, not one per event. A
// full request (start, re-list, subnet change) wins over incremental ones queued with it. A sync
// with a failed command is retried as a full one, with backoff (1 s up to 10 s).

import type { Backend, KernelRefusal, SyncMode } from './backend/types.js';
import type { PeerSyncStats } from '../shared/agent-stats.js';
import type { PeerLease } from './lease-rules.js';
import type { Logger } from './log.js';
import { FIRST_BACKOFF_MS, nextBackoff } from './retry.js';

export class PeerSync {
  private queued: SyncMode | null = null;
  private reasons: string[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastFailed = false;
  /** What the kernel refused in the last sync (kept until a sync applies everything). */
  private refused: KernelRefusal[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = FIRST_BACKOFF_MS;
  readonly counters: Omit<PeerSyncStats, 'inSync'> = { syncs: 0, fullSyncs: 0, changes: 0, failures: 0, processes: 0, lastDurationMs: null, lastAt: null };

  constructor(
    private readonly backend: Backend,
    /** The peers to program, judged at the moment the sync runs. */
    private readonly peers: () => readonly PeerLease[],
    private readonly log: Logger,
  ) {}

  request(mode: SyncMode, why: string): void {
    if (this.stopped) return;
    this.queued = this.queued === 'full' || mode === 'full' ? 'full' : 'incremental';
    this.reasons.push(why);
    // after the current turn: events delivered together (one watch response, one listing) fold in
    if (!this.running) this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued && !this.stopped) {
        const mode = this.queued;
        const why = summarise(this.reasons);
        this.queued = null;
        this.reasons = [];
        await this.once(mode, why);
      }
    } finally {
      this.running = null;
    }
    if (this.lastFailed && !this.stopped && !this.retryTimer) {
      const delay = this.retryDelay;
      this.retryDelay = nextBackoff(delay);
      this.log.warn(`peer sync incomplete; a full sync follows in ${delay / 1000}s`);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.request('full', 'retry after a failure');
      }, delay);
    } else if (!this.lastFailed) this.retryDelay = FIRST_BACKOFF_MS;
  }

  private async once(mode: SyncMode, why: string): Promise<void> {
    const t0 = performance.now();
    const peers = this.peers();
    try {
      const r = await this.backend.syncPeers(peers, mode);
      const ms = Math.round((performance.now() - t0) * 10) / 10;
      const c = this.counters;
      c.syncs++;
      if (mode === 'full') c.fullSyncs++;
      c.changes += r.changed;
      c.failures += r.failed;
      c.processes += r.processes;
      c.lastDurationMs = ms;
      c.lastAt = new Date().toISOString();
      this.lastFailed = r.failed > 0;
      this.refused = r.refused ?? [];
      const what = r.changed === 0 && r.failed === 0 ? 'no changes' : `${r.changed} change(s)${r.failed ? `, ${r.failed} failed` : ''}`;
      this.log.info(`peers in sync (${mode}, ${why}): ${peers.length} peer(s), ${what}, ${r.processes} process(es), ${ms} ms`);
    } catch (e) {
      this.counters.failures++;
      this.lastFailed = true;
      this.log.error(`peer sync failed: ${(e as Error).message}`);
    }
  }

  /** The last sync applied everything and nothing is queued. */
  get inSync(): boolean {
    return !this.lastFailed && this.counters.syncs > 0 && !this.queued && !this.running;
  }

  stats(): PeerSyncStats {
    return { ...this.counters, inSync: this.inSync, ...(this.refused.length ? { refused: this.refused } : {}) };
  }

  /** Resolves when no sync is queued or running. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queued = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.settled();
  }
}

function summarise(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => (n > 1 ? `${r} ×${n}` : r)).join(', ');
}
