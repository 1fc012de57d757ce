// Watch and re-sync: keeps the agent's view of <prefix>/subnets/ current. A full listing first,
// then one prefix watch from the listing's revision + 1. When the watch breaks (etcd gone, the
// revision compacted) or the caller asks (etcd came back), it lists again — with backoff while
// etcd is away — and watches from there. It asks etcd nothing per event: each watch event carries
// the key-value it is about. At start it reuses the listing the lease keeper just made.

import { type EtcdClient, type KeyValue, type WatchEvent, type Watcher, WatchCompactedError } from './etcd/types.js';
import { subnetsPrefix } from '../shared/flannel-lease.js';
import type { Logger } from './log.js';
import { FIRST_BACKOFF_MS, retryForever } from './retry.js';

/** Re-lists while etcd is away come at most this far apart: a re-sync within seconds of etcd's
 * return (each attempt is one connection; flanneld retries its watch as often). */
export const MAX_RELIST_BACKOFF_MS = 4_000;

export interface LeaseWatchHandlers {
  /** A full listing (start, and every re-sync). */
  onSnapshot(kvs: KeyValue[], revision: number, why: string): void;
  /** A re-list found etcd's revision below one already seen: its history is gone (it came back
   * on an emptied data directory, or from an older backup). Called before that listing's
   * onSnapshot. */
  onHistoryLost(seen: number, now: number): void;
  /** Events of one watch response. */
  onEvents(events: WatchEvent[]): void;
}

export class LeaseWatch {
  private watcher: Watcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private relisting = false;
  private backoff = FIRST_BACKOFF_MS;
  private stopped = false;
  /** When the current watch was started (ms since the epoch), 0 when none. */
  startedAt = 0;
  lastRevision = 0;

  constructor(
    private readonly etcd: EtcdClient,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly handlers: LeaseWatchHandlers,
  ) {}

  get watching(): boolean {
    return this.watcher !== null;
  }

  /**
   * The first listing (retried until etcd answers), then the watch. With `seed` (a listing made
   * moments ago, while acquiring the lease) it starts from that one and asks etcd only for the
   * watch: the watch from its revision + 1 brings everything written since.
   */
  async start(seed?: { kvs: KeyValue[]; revision: number }): Promise<void> {
    if (seed) {
      this.lastRevision = Math.max(this.lastRevision, seed.revision);
      this.handlers.onSnapshot(seed.kvs, seed.revision, 'start');
      this.watchFrom(seed.revision + 1);
      return;
    }
    await retryForever('listing leases', () => this.listAndWatch('start'), this.log, () => this.stopped);
  }

  private async listAndWatch(why: string): Promise<void> {
    const r = await this.etcd.range(subnetsPrefix(this.prefix), { prefix: true });
    if (this.stopped) return;
    if (r.revision < this.lastRevision) {
      const seen = this.lastRevision;
      this.lastRevision = r.revision;
      this.log.warn(`etcd's revision went back from ${seen} to ${r.revision}: it lost its data; taking the lease again`);
      this.handlers.onHistoryLost(seen, r.revision);
    }
    this.lastRevision = Math.max(this.lastRevision, r.revision);
    this.handlers.onSnapshot(r.kvs, r.revision, why);
    this.watchFrom(r.revision + 1);
  }

  private watchFrom(revision: number): void {
    if (this.stopped) return;
    this.watcher?.cancel();
    this.startedAt = Date.now();
    const prefix = subnetsPrefix(this.prefix);
    this.log.info(`watching ${prefix} from revision ${revision}`);
    this.watcher = this.etcd.watch(
      prefix,
      { prefix: true, startRevision: revision },
      {
        onEvents: (events) => {
          for (const ev of events) this.lastRevision = Math.max(this.lastRevision, ev.kv.modRevision);
          this.handlers.onEvents(events);
        },
        onEnd: (err) => {
          this.watcher = null;
          if (this.stopped) return;
          const compacted = err instanceof WatchCompactedError;
          if (compacted) this.log.warn(`${err.message}; re-listing`);
          else this.log.warn(`watch ended (${err.message}); re-listing in ${this.backoff / 1000}s`);
          this.restart(compacted ? 0 : this.backoff, 'watch ended');
        },
      },
    );
  }

  /** Lists again after `delayMs` and watches from there (one re-sync at a time; extra requests fold in). */
  restart(delayMs: number, why: string): void {
    if (this.stopped || this.timer || this.relisting) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.relisting = true;
      this.log.info(`re-syncing with etcd (${why})`);
      this.watcher?.cancel();
      this.watcher = null;
      this.listAndWatch(why)
        .then(() => {
          this.backoff = FIRST_BACKOFF_MS;
          this.relisting = false;
        })
        .catch((e) => {
          this.relisting = false;
          const delay = this.backoff;
          this.backoff = Math.min(this.backoff * 2, MAX_RELIST_BACKOFF_MS);
          this.log.warn(`re-sync failed: ${(e as Error).message}; retrying in ${delay / 1000}s`);
          this.restart(delay, why);
        });
    }, delayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.cancel();
    this.watcher = null;
  }
}
