// The leases the agent has seen under <prefix>/subnets/ (kept up to date by the lease watch), and
// the verdict on them (lease-rules.ts): the peers to program and the leases refused. Each refusal
// is logged once — when a lease is first refused, or refused for another reason — not on every
// re-sync.

import type { KeyValue, WatchEvent } from './etcd/types.js';
import { formatNet } from '../shared/ipv4.js';
import { type LeaseRulesContext, type LeaseVerdicts, type PeerLease, type RejectedLease, judgeLeases, shown } from './lease-rules.js';
import type { Logger } from './log.js';

export class LeaseBook {
  private readonly kvs = new Map<string, KeyValue>();
  private verdicts: LeaseVerdicts = { accepted: [], rejected: [] };
  private fresh = false;
  /** key -> the reason last logged for it. */
  private readonly logged = new Map<string, string>();
  private readonly announced = new Map<string, string>();

  constructor(
    private ctx: LeaseRulesContext,
    private readonly log: Logger,
  ) {}

  /** A full listing replaces everything. */
  replaceAll(kvs: readonly KeyValue[]): void {
    this.kvs.clear();
    for (const kv of kvs) this.kvs.set(kv.key, kv);
    this.fresh = false;
  }

  /** Applies watch events; returns the keys they touched. */
  apply(events: readonly WatchEvent[]): Set<string> {
    const touched = new Set<string>();
    for (const ev of events) {
      touched.add(ev.kv.key);
      if (ev.type === 'DELETE') this.kvs.delete(ev.kv.key);
      else this.kvs.set(ev.kv.key, ev.kv);
    }
    if (touched.size > 0) this.fresh = false;
    return touched;
  }

  /** This host's subnet or key changed (re-acquired): the overlap rule depends on it. */
  setSelf(self: LeaseRulesContext['self']): void {
    this.ctx = { ...this.ctx, self };
    this.fresh = false;
  }

  get(key: string): KeyValue | undefined {
    return this.kvs.get(key);
  }

  /** Judges the current leases (once per change) and logs what changed in the verdict. */
  judge(): LeaseVerdicts {
    if (this.fresh) return this.verdicts;
    this.verdicts = judgeLeases(this.ctx, this.kvs.values());
    this.fresh = true;
    this.report(this.verdicts);
    return this.verdicts;
  }

  get peers(): readonly PeerLease[] {
    return this.judge().accepted;
  }

  get rejected(): readonly RejectedLease[] {
    return this.judge().rejected;
  }

  private report(v: LeaseVerdicts): void {
    const rejectedNow = new Set<string>();
    for (const r of v.rejected) {
      rejectedNow.add(r.key);
      if (this.logged.get(r.key) === r.reason) continue;
      this.logged.set(r.key, r.reason);
      this.log.warn(`lease ${shown(r.key)} refused (${r.code}): ${r.reason}; not programming it`);
    }
    for (const key of [...this.logged.keys()]) {
      if (rejectedNow.has(key)) continue;
      this.logged.delete(key);
      if (!this.kvs.has(key)) this.log.info(`refused lease ${shown(key)} is gone`);
    }
    const acceptedNow = new Set<string>();
    for (const p of v.accepted) {
      acceptedNow.add(p.key);
      const text = `${formatNet(p.subnet)} -> ${p.publicIp}${p.vtepMac ? ` (VTEP ${p.vtepMac})` : ''}`;
      const before = this.announced.get(p.key);
      if (before === text) continue;
      this.announced.set(p.key, text);
      this.log.info(`lease ${before ? 'changed' : 'added'}: ${text} (rev ${p.modRevision})`);
    }
    for (const [key, text] of [...this.announced]) {
      if (acceptedNow.has(key)) continue;
      this.announced.delete(key);
      this.log.info(`lease removed: ${text.split(' ')[0]}${this.kvs.has(key) ? ' (now refused)' : ''}`);
    }
  }
}
