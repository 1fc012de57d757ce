// In-memory etcd with the same interface: for unit tests of the registry logic (no etcd needed).
// Revisions, leases (with a manual clock), txn compares and prefix watches behave like etcd's.

import type { Compare, EtcdClient, KeyValue, RangeResult, TxnOp, TxnResult, WatchCallbacks, WatchEvent, Watcher } from '../../src/agent/etcd/types.js';
import { EtcdUnavailableError } from '../../src/agent/etcd/types.js';

interface LeaseRec {
  id: string;
  ttl: number;
  expiresAt: number;
}

export class MemoryEtcd implements EtcdClient {
  revision = 1;
  private kvs = new Map<string, KeyValue>();
  private leases = new Map<string, LeaseRec>();
  private nextLease = 7587869184425734000n;
  private watchers = new Set<{ key: string; prefix: boolean; cb: WatchCallbacks }>();
  private history: WatchEvent[] = [];
  /** Manual clock in ms. */
  now = 0;
  /** When true every call fails like an unreachable etcd. */
  down = false;

  private check(): void {
    if (this.down) throw new EtcdUnavailableError('memory etcd is down');
  }

  private matches(k: string, key: string, prefix: boolean): boolean {
    return prefix ? k.startsWith(key) : k === key;
  }

  private pending: { events: WatchEvent[]; revision: number }[] = [];
  private emitting = false;

  /**
   * Delivers events to the watchers in revision order, like etcd: a write made by a watcher while
   * it handles an event is delivered to everyone after that event, never before it.
   */
  private emit(events: WatchEvent[]): void {
    this.history.push(...events);
    this.pending.push({ events, revision: this.revision });
    if (this.emitting) return;
    this.emitting = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        for (const w of [...this.watchers]) {
          if (!this.watchers.has(w)) continue;
          const mine = next.events.filter((e) => this.matches(e.kv.key, w.key, w.prefix));
          if (mine.length > 0) w.cb.onEvents(mine, next.revision);
        }
      }
    } finally {
      this.emitting = false;
    }
  }

  private doPut(key: string, value: string, lease?: string): WatchEvent {
    if (lease && lease !== '0' && !this.leases.has(lease)) throw new Error(`etcdserver: requested lease not found`);
    const prev = this.kvs.get(key);
    const kv: KeyValue = {
      key,
      value,
      createRevision: prev ? prev.createRevision : this.revision,
      modRevision: this.revision,
      version: prev ? prev.version + 1 : 1,
      lease: lease ?? '0',
    };
    this.kvs.set(key, kv);
    return { type: 'PUT', kv };
  }

  private doDelete(key: string, prefix: boolean): WatchEvent[] {
    const evs: WatchEvent[] = [];
    for (const k of [...this.kvs.keys()].sort()) {
      if (!this.matches(k, key, prefix)) continue;
      this.kvs.delete(k);
      evs.push({ type: 'DELETE', kv: { key: k, value: '', createRevision: 0, modRevision: this.revision, version: 0, lease: '0' } });
    }
    return evs;
  }

  async range(key: string, opts: { prefix?: boolean } = {}): Promise<RangeResult> {
    this.check();
    const kvs = [...this.kvs.values()].filter((kv) => this.matches(kv.key, key, !!opts.prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
    return { kvs: kvs.map((k) => ({ ...k })), revision: this.revision };
  }

  async put(key: string, value: string, lease?: string): Promise<number> {
    this.check();
    this.revision++;
    const ev = this.doPut(key, value, lease);
    this.emit([ev]);
    return this.revision;
  }

  async delete(key: string, opts: { prefix?: boolean } = {}): Promise<number> {
    this.check();
    const has = [...this.kvs.keys()].some((k) => this.matches(k, key, !!opts.prefix));
    if (!has) return 0;
    this.revision++;
    const evs = this.doDelete(key, !!opts.prefix);
    this.emit(evs);
    return evs.length;
  }

  private cmp(c: Compare): boolean {
    const kv = this.kvs.get(c.key);
    let a: number | string;
    let b: number | string;
    switch (c.target) {
      case 'CREATE':
        a = kv?.createRevision ?? 0;
        b = c.revision;
        break;
      case 'MOD':
        a = kv?.modRevision ?? 0;
        b = c.revision;
        break;
      case 'VERSION':
        a = kv?.version ?? 0;
        b = c.revision;
        break;
      case 'VALUE':
        if (!kv) return false;
        a = kv.value;
        b = c.value;
        break;
      case 'LEASE':
        a = kv?.lease ?? '0';
        b = c.lease;
        break;
    }
    switch (c.result) {
      case 'EQUAL':
        return a === b;
      case 'NOT_EQUAL':
        return a !== b;
      case 'GREATER':
        return a > b;
      case 'LESS':
        return a < b;
    }
  }

  async txn(compare: Compare[], success: TxnOp[], failure: TxnOp[]): Promise<TxnResult> {
    this.check();
    const ok = compare.every((c) => this.cmp(c));
    const ops = ok ? success : failure;
    const writes = ops.some((o) => !('range' in o));
    if (writes) this.revision++;
    const events: WatchEvent[] = [];
    const ranges: KeyValue[][] = [];
    for (const op of ops) {
      if ('put' in op) events.push(this.doPut(op.put.key, op.put.value, op.put.lease));
      else if ('delete' in op) events.push(...this.doDelete(op.delete.key, false));
      else {
        const kv = this.kvs.get(op.range.key);
        ranges.push(kv ? [{ ...kv }] : []);
      }
    }
    if (events.length) this.emit(events);
    return { succeeded: ok, revision: this.revision, ranges };
  }

  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    this.check();
    const id = String(this.nextLease++);
    this.leases.set(id, { id, ttl: ttlSeconds, expiresAt: this.now + ttlSeconds * 1000 });
    return { id, ttl: ttlSeconds };
  }

  async leaseKeepAlive(id: string): Promise<number> {
    this.check();
    const l = this.leases.get(id);
    if (!l) return 0;
    l.expiresAt = this.now + l.ttl * 1000;
    return l.ttl;
  }

  async leaseTimeToLive(id: string): Promise<{ ttl: number; grantedTtl: number }> {
    this.check();
    const l = this.leases.get(id);
    if (!l) return { ttl: -1, grantedTtl: 0 };
    return { ttl: Math.ceil((l.expiresAt - this.now) / 1000), grantedTtl: l.ttl };
  }

  async leaseRevoke(id: string): Promise<void> {
    this.check();
    this.dropLease(id);
  }

  private dropLease(id: string): void {
    if (!this.leases.delete(id)) return;
    const keys = [...this.kvs.values()].filter((kv) => kv.lease === id).map((kv) => kv.key);
    if (keys.length === 0) return;
    this.revision++;
    const evs = keys.flatMap((k) => this.doDelete(k, false));
    this.emit(evs);
  }

  /** Advances the clock and expires leases whose TTL ran out. */
  advance(ms: number): void {
    this.now += ms;
    for (const l of [...this.leases.values()]) if (l.expiresAt <= this.now) this.dropLease(l.id);
  }

  watch(key: string, opts: { prefix?: boolean; startRevision?: number }, cb: WatchCallbacks): Watcher {
    const w = { key, prefix: !!opts.prefix, cb };
    if (opts.startRevision) {
      const past = this.history.filter((e) => e.kv.modRevision >= (opts.startRevision as number) && this.matches(e.kv.key, key, !!opts.prefix));
      if (past.length) queueMicrotask(() => cb.onEvents(past, this.revision));
    }
    this.watchers.add(w);
    queueMicrotask(() => cb.onCreated?.(this.revision));
    return { cancel: () => this.watchers.delete(w) };
  }

  /** Ends every open watch like a dropped connection. */
  /** What a restart on an emptied data directory does: every key and lease gone, the revision
   * back at 1, every watch broken. */
  wipe(): void {
    this.kvs.clear();
    this.leases.clear();
    this.history = [];
    this.revision = 1;
    this.dropWatches();
  }

  dropWatches(): void {
    const ws = [...this.watchers];
    this.watchers.clear();
    for (const w of ws) w.cb.onEnd(new EtcdUnavailableError('memory etcd dropped the watch'));
  }

  close(): void {
    this.watchers.clear();
  }

  /** Test helper: the raw stored value. */
  peek(key: string): KeyValue | undefined {
    return this.kvs.get(key);
  }
}
