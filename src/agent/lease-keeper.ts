// Lease keeping: this host's own subnet lease. Acquire (or reuse) it, renew its etcd lease every
// TTL/3, and keep the key saying what this host says: when the key is found changed, unreadable,
// detached from its etcd lease or gone — or the etcd lease expired — rewrite it (a txn on the
// revision it was seen at, so a concurrent writer is never overwritten blindly). Only when the
// key was deleted and re-created by another host with a well-formed lease of its own does the
// agent yield the subnet and acquire another one (flannel's behaviour after a lost lease).

import type { AgentConfig } from './config.js';
import type { EtcdClient, KeyValue } from './etcd/types.js';
import { type Ip4Net, formatNet } from '../shared/ipv4.js';
import { type NetworkConfig, decodeLeaseValue, encodeLeaseValue } from '../shared/flannel-lease.js';
import { shown } from './lease-rules.js';
import { dropped, type Logger } from './log.js';
import { type OwnLease, type SubnetRegistry } from './lease-store.js';
import { retryForever } from './retry.js';

export interface LeaseKeeperDeps {
  registry: SubnetRegistry;
  etcd: EtcdClient;
  cfg: AgentConfig;
  net: NetworkConfig;
  backendType: string;
  backendData: Record<string, unknown>;
  log: Logger;
}

export interface LeaseKeeperHooks {
  /** etcd answered a renewal again after failing since `downSince` (ms since the epoch). */
  onEtcdBack(downSince: number): void;
  /** The lease moved to another subnet (its own one was taken by another host). */
  onSubnetChanged(own: OwnLease, old: OwnLease): Promise<void>;
}

/** Rewrites in a row before the keeper backs off (someone keeps changing the key). */
const MAX_ATTEMPTS = 5;

export class LeaseKeeper {
  private lease: OwnLease | null = null;
  private expected = '';
  /** The own key as last seen (undefined: absent), and the revision it was seen at. */
  private seen: KeyValue | undefined;
  private seenRevision = 0;
  /** The create revision of the key this host wrote (to tell an overwrite from a re-creation). */
  private createRevision = 0;
  private etcdLeaseLost = false;
  private fixing: Promise<void> | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  renewals = 0;
  rewrites = 0;
  /** ms since the epoch when renewals started failing; 0 while etcd answers. */
  etcdDownSince = 0;

  constructor(
    private readonly d: LeaseKeeperDeps,
    private readonly hooks: LeaseKeeperHooks,
  ) {}

  get own(): OwnLease | null {
    return this.lease;
  }

  private mustOwn(): OwnLease {
    if (!this.lease) throw new Error('lease keeper: acquire() first');
    return this.lease;
  }

  /** Acquires (or reuses) a lease, retrying until etcd answers. */
  async acquire(preferred: Ip4Net | null): Promise<OwnLease> {
    const own = await retryForever('acquiring a subnet lease', () => this.acquireOnce(preferred), this.d.log, () => this.stopped);
    this.adopt(own);
    return own;
  }

  private async acquireOnce(preferred: Ip4Net | null): Promise<OwnLease> {
    const { cfg, log } = this.d;
    const own = await this.d.registry.acquireLease(this.d.net, {
      publicIp: cfg.publicIp,
      backendType: this.d.backendType,
      backendData: this.d.backendData,
      ttlSeconds: cfg.leaseTtlSeconds,
      preferred,
    });
    log.info(`${own.reused ? 'reusing' : 'acquired'} lease ${own.key} (etcd lease ${own.etcdLease}, TTL ${cfg.leaseTtlSeconds}s): ${JSON.stringify(own.lease.backendData)}`);
    return own;
  }

  private adopt(own: OwnLease): void {
    this.lease = own;
    this.expected = encodeLeaseValue(own.lease);
    this.etcdLeaseLost = false;
    this.seen = undefined;
    // what was seen before the lease was written says nothing about it
    this.seenRevision = own.revision;
    this.createRevision = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Renewal

  private renewIntervalMs(): number {
    return Math.max(1000, Math.floor((this.d.cfg.leaseTtlSeconds * 1000) / 3));
  }

  startRenewing(): void {
    this.scheduleRenew(this.renewIntervalMs());
  }

  private scheduleRenew(ms: number): void {
    if (this.stopped) return;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), ms);
  }

  private async renew(): Promise<void> {
    const own = this.lease;
    if (!own || this.stopped) return;
    let alive: boolean;
    try {
      alive = await this.d.registry.renew(own);
    } catch (e) {
      if (!this.etcdDownSince) {
        this.etcdDownSince = Date.now();
        this.d.log.warn(`etcd unreachable (${(e as Error).message}); data plane left as is, retrying`);
      }
      this.scheduleRenew(Math.min(2000, this.renewIntervalMs()));
      return;
    }
    this.renewals++;
    if (this.etcdDownSince) {
      const since = this.etcdDownSince;
      this.etcdDownSince = 0;
      this.d.log.info(`etcd reachable again after ${((Date.now() - since) / 1000).toFixed(1)}s`);
      this.hooks.onEtcdBack(since);
    }
    if (alive) this.d.log.debug(`renewed lease ${own.key}`);
    else if (own === this.lease && !this.etcdLeaseLost) {
      this.d.log.warn(`etcd lease ${own.etcdLease} of ${own.key} is gone (expired or revoked)`);
      this.etcdLeaseLost = true;
      this.kick();
    }
    this.scheduleRenew(this.renewIntervalMs());
  }

  // -------------------------------------------------------------------------------------------
  // Keeping the key right

  /**
   * etcd's history is gone (its revision went back): nothing seen before counts, and the etcd
   * lease this host held belongs to the lost history. The next observation (the listing that
   * found it) rewrites the key under a new etcd lease.
   */
  historyLost(): void {
    if (!this.lease) return;
    this.seen = undefined;
    this.seenRevision = 0;
    this.createRevision = 0;
    this.etcdLeaseLost = true;
  }

  /**
   * The own key as the watch or a listing shows it now (undefined: absent) and the revision of
   * that observation. Older observations than one already handled are ignored.
   */
  observe(kv: KeyValue | undefined, revision: number): void {
    if (!this.lease || revision < this.seenRevision) return;
    this.seen = kv;
    this.seenRevision = revision;
    this.kick();
  }

  private kick(): void {
    if (this.fixing || this.stopped || !this.lease) return;
    this.fixing = this.fix()
      .catch((e) => {
        // etcd is away: the watch re-lists when it is back, and that observation kicks again
        this.d.log.warn(`keeping lease ${this.lease?.key ?? ''}: ${(e as Error).message}`);
      })
      .finally(() => {
        this.fixing = null;
      });
  }

  /** What is wrong with the key as seen, or null. */
  private problem(): string | null {
    const own = this.mustOwn();
    const kv = this.seen;
    if (this.etcdLeaseLost) return `lost its etcd lease ${own.etcdLease}`;
    if (!kv) return 'is gone from etcd';
    if (kv.value !== this.expected) {
      try {
        const l = decodeLeaseValue(own.subnet, kv.value);
        return `was changed (it names PublicIP ${l.publicIp}, BackendData ${shown(l.backendData)})`;
      } catch {
        return `holds an unreadable value ${shown(kv.value)}`;
      }
    }
    if (kv.lease !== own.etcdLease) return `is no longer attached to etcd lease ${own.etcdLease}`;
    return null;
  }

  /** Deleted and re-created by another host with a well-formed lease of its own. */
  private takenByAnother(): boolean {
    const kv = this.seen;
    if (!kv || !this.createRevision || kv.createRevision === this.createRevision || kv.lease === '0') return false;
    try {
      return decodeLeaseValue(this.mustOwn().subnet, kv.value).publicIp !== this.d.cfg.publicIp;
    } catch {
      return false;
    }
  }

  private async fix(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) return;
      const problem = this.problem();
      if (!problem) {
        // the key as this host wrote it: remember its creation, to tell a later overwrite (ours
        // to fix) from a deletion and re-creation by another host
        if (!this.createRevision && this.seen) this.createRevision = this.seen.createRevision;
        return;
      }
      if (this.takenByAnother()) {
        await this.moveSubnet();
        return;
      }
      if (attempt > MAX_ATTEMPTS) {
        this.d.log.error(`own lease ${this.mustOwn().key} keeps changing under this host; trying again in 10 s`);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.kick();
        }, 10_000);
        return;
      }
      const own = this.mustOwn();
      this.d.log.warn(`own lease ${own.key} ${problem}; rewriting it`);
      await this.rewrite(own);
    }
  }

  /** One txn: put the expected value under this host's etcd lease, if the key is still as seen. */
  private async rewrite(own: OwnLease): Promise<void> {
    const { etcd, cfg, log } = this.d;
    let leaseId = own.etcdLease;
    if (this.etcdLeaseLost) leaseId = (await etcd.leaseGrant(cfg.leaseTtlSeconds)).id;
    const kv = this.seen;
    const compare = kv
      ? { key: own.key, target: 'MOD' as const, result: 'EQUAL' as const, revision: kv.modRevision }
      : { key: own.key, target: 'CREATE' as const, result: 'EQUAL' as const, revision: 0 };
    let t;
    try {
      t = await etcd.txn([compare], [{ put: { key: own.key, value: this.expected, lease: leaseId } }], [{ range: { key: own.key } }]);
    } catch (e) {
      if (!this.etcdLeaseLost && /lease not found/i.test((e as Error).message)) {
        this.etcdLeaseLost = true; // the next attempt grants a new one
        return;
      }
      if (leaseId !== own.etcdLease) await etcd.leaseRevoke(leaseId).catch(dropped(log, `revoke etcd lease ${leaseId}`));
      throw e;
    }
    if (!t.succeeded) {
      if (leaseId !== own.etcdLease) await etcd.leaseRevoke(leaseId).catch(dropped(log, `revoke etcd lease ${leaseId}`));
      this.seen = t.ranges[0]?.[0];
      this.seenRevision = Math.max(this.seenRevision, t.revision);
      return;
    }
    if (leaseId !== own.etcdLease) log.info(`own lease ${own.key} now under etcd lease ${leaseId}`);
    own.etcdLease = leaseId;
    this.etcdLeaseLost = false;
    const createRevision = kv ? kv.createRevision : t.revision;
    this.createRevision = createRevision;
    this.seen = { key: own.key, value: this.expected, createRevision, modRevision: t.revision, version: (kv?.version ?? 0) + 1, lease: leaseId };
    this.seenRevision = t.revision;
    this.rewrites++;
    log.info(`rewrote own lease ${own.key}: ${this.expected}`);
  }

  private async moveSubnet(): Promise<void> {
    const old = this.mustOwn();
    this.d.log.error(`own subnet ${formatNet(old.subnet)} was taken by another host (${shown(this.seen?.value)}); acquiring another one`);
    const own = await this.acquireOnce(null);
    this.adopt(own);
    if (own.etcdLease !== old.etcdLease) await this.d.etcd.leaseRevoke(old.etcdLease).catch(dropped(this.d.log, `revoke the old subnet's etcd lease ${old.etcdLease}`));
    this.d.log.error(`subnet changed from ${formatNet(old.subnet)} to ${formatNet(own.subnet)}: pods on the old subnet must be re-addressed`);
    await this.hooks.onSubnetChanged(own, old);
  }

  /** Waits for a running fix (tests, stats). */
  async settled(): Promise<void> {
    while (this.fixing) await this.fixing;
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.renewTimer, this.retryTimer]) if (t) clearTimeout(t);
    this.renewTimer = null;
    this.retryTimer = null;
  }
}
