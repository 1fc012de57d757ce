// flannel's subnet registry on top of an EtcdClient: network config, leases, acquisition, renewal.

import type { EtcdClient, KeyValue } from './etcd/types.js';
import { type Ip4Net, compareNets, formatNet } from '../shared/ipv4.js';
import {
  type Lease,
  type NetworkConfig,
  type StoredLease,
  LeaseDecodeError,
  NetworkConfigError,
  allocateSubnet,
  configKey,
  decodeLeaseValue,
  encodeLeaseValue,
  findOwnLease,
  isValidLeaseSubnet,
  leaseKey,
  parseNetworkConfig as parseNetworkConfigText,
  subnetFromKey,
  subnetsPrefix,
} from '../shared/flannel-lease.js';
import { dropped, type Logger, silentLogger } from './log.js';

export interface OwnLease {
  subnet: Ip4Net;
  key: string;
  /** etcd lease id (decimal string). */
  etcdLease: string;
  lease: Lease;
  /** True when an existing lease of this host was reused (restart). */
  reused: boolean;
  /** The etcd revision at which the key held this lease (the txn that wrote it, or the listing). */
  revision: number;
  /**
   * The last listing of <prefix>/subnets/ made while acquiring (before the lease's own write):
   * the lease watch starts from it instead of listing again.
   */
  listing: { kvs: KeyValue[]; revision: number };
}

export interface AcquireRequest {
  publicIp: string;
  backendType: string;
  backendData: Record<string, unknown>;
  ttlSeconds: number;
  /** Try this subnet first (e.g. the one in the previous subnet.env). */
  preferred?: Ip4Net | null;
}

export class NetworkFullError extends Error {}

export class SubnetRegistry {
  constructor(
    readonly etcd: EtcdClient,
    readonly prefix: string,
    private readonly log: Logger = silentLogger,
  ) {}

  async getNetworkConfig(): Promise<NetworkConfig> {
    const r = await this.etcd.range(configKey(this.prefix));
    const kv = r.kvs[0];
    if (!kv) throw new NetworkConfigError(`no network config at ${configKey(this.prefix)} (the overlab CLI writes it before starting agents)`);
    return parseNetworkConfigFromKv(kv);
  }

  /** A lease key-value decoded leniently (for finding this host's own lease), or null. */
  decodeKv(kv: KeyValue): StoredLease | null {
    const subnet = subnetFromKey(this.prefix, kv.key);
    if (!subnet) return null;
    try {
      const l = decodeLeaseValue(subnet, kv.value);
      return { ...l, key: kv.key, etcdLease: kv.lease, modRevision: kv.modRevision };
    } catch (e) {
      if (e instanceof LeaseDecodeError) return null;
      throw e;
    }
  }

  /**
   * Every key-value under <prefix>/subnets/, the leases among them that decode, every subnet key
   * present (taken, for allocation, readable or not), and the revision.
   */
  async listLeases(): Promise<{ kvs: KeyValue[]; leases: StoredLease[]; taken: Ip4Net[]; revision: number }> {
    const r = await this.etcd.range(subnetsPrefix(this.prefix), { prefix: true });
    const leases: StoredLease[] = [];
    const taken: Ip4Net[] = [];
    for (const kv of r.kvs) {
      const sn = subnetFromKey(this.prefix, kv.key);
      if (sn) taken.push(sn);
      const l = this.decodeKv(kv);
      if (l) leases.push(l);
    }
    leases.sort((a, b) => compareNets(a.subnet, b.subnet));
    return { kvs: r.kvs, leases, taken, revision: r.revision };
  }

  /**
   * flannel's acquisition: reuse this host's lease when it has one (same PublicIP; the preferred
   * subnet first), updating the value/lease only when needed; otherwise create-if-absent (txn on
   * create_revision == 0) the preferred or first free subnet. Retries on races.
   */
  async acquireLease(cfg: NetworkConfig, req: AcquireRequest): Promise<OwnLease> {
    const want = (subnet: Ip4Net): Lease => ({ subnet, publicIp: req.publicIp, backendType: req.backendType, backendData: req.backendData });
    let spareLease: string | null = null;
    const grant = async (): Promise<string> => {
      if (spareLease) {
        const id = spareLease;
        spareLease = null;
        return id;
      }
      const g = await this.etcd.leaseGrant(req.ttlSeconds);
      return g.id;
    };
    for (let attempt = 0; attempt < 20; attempt++) {
      // The first round asks for an etcd lease alongside the listing: a new host (the common case
      // when a lab comes up) needs one, and one round trip less matters when 64 hosts ask at once.
      // A host that finds its lease alive gives the spare back.
      const early: Promise<{ id: string } | null> = attempt === 0 && !spareLease ? this.etcd.leaseGrant(req.ttlSeconds) : Promise.resolve(null);
      const [listed, granted] = await Promise.allSettled([this.listLeases(), early]);
      if (granted.status === 'fulfilled' && granted.value) spareLease = granted.value.id;
      if (listed.status === 'rejected' || granted.status === 'rejected') {
        if (spareLease) await this.etcd.leaseRevoke(spareLease).catch(dropped(this.log, `revoke spare etcd lease ${spareLease}`));
        throw listed.status === 'rejected' ? listed.reason : (granted as PromiseRejectedResult).reason;
      }
      const { kvs, leases, taken, revision: listRevision } = listed.value;
      const listing = { kvs, revision: listRevision };
      const mine = findOwnLease(cfg, leases, req.publicIp, req.preferred);
      if (mine) {
        const value = encodeLeaseValue(want(mine.subnet));
        let leaseId = mine.etcdLease;
        let alive = false;
        if (leaseId !== '0') {
          const t = await this.etcd.leaseTimeToLive(leaseId);
          alive = t.ttl > 0 && t.grantedTtl === req.ttlSeconds;
          if (t.ttl > 0 && !alive) this.log.info(`lease ${mine.key}: etcd lease TTL ${t.grantedTtl}s differs from configured ${req.ttlSeconds}s; moving to a new etcd lease`);
        }
        const current = encodeLeaseValue(mine);
        if (alive && current === value) {
          await this.etcd.leaseKeepAlive(leaseId);
          if (spareLease) await this.etcd.leaseRevoke(spareLease).catch(dropped(this.log, `revoke spare etcd lease ${spareLease}`));
          return { subnet: mine.subnet, key: mine.key, etcdLease: leaseId, lease: want(mine.subnet), reused: true, revision: listRevision, listing };
        }
        const oldLease = leaseId;
        if (!alive) leaseId = await grant();
        this.log.info(`writing lease ${mine.key}`);
        const t = await this.etcd.txn([{ key: mine.key, target: 'MOD', result: 'EQUAL', revision: mine.modRevision }], [{ put: { key: mine.key, value, lease: leaseId } }], []);
        if (t.succeeded) {
          if (oldLease !== '0' && oldLease !== leaseId) await this.etcd.leaseRevoke(oldLease).catch(dropped(this.log, `revoke old etcd lease ${oldLease}`));
          if (spareLease) await this.etcd.leaseRevoke(spareLease).catch(dropped(this.log, `revoke spare etcd lease ${spareLease}`));
          return { subnet: mine.subnet, key: mine.key, etcdLease: leaseId, lease: want(mine.subnet), reused: true, revision: t.revision, listing };
        }
        if (!alive) spareLease = leaseId;
        this.log.info(`lease ${mine.key} changed while reusing it; retrying`);
        continue;
      }
      // The previous subnet's key holds something unreadable (garbage written over this host's
      // lease while it was down): take it back rather than move to another subnet.
      const prev = req.preferred && isValidLeaseSubnet(cfg, req.preferred) ? kvs.find((kv) => kv.key === leaseKey(this.prefix, req.preferred as Ip4Net)) : undefined;
      if (prev && req.preferred && !this.decodeKv(prev)) {
        const subnet = req.preferred;
        const leaseId = await grant();
        const t = await this.etcd.txn([{ key: prev.key, target: 'MOD', result: 'EQUAL', revision: prev.modRevision }], [{ put: { key: prev.key, value: encodeLeaseValue(want(subnet)), lease: leaseId } }], []);
        if (t.succeeded) {
          this.log.warn(`lease ${prev.key} held an unreadable value; took it back for this host`);
          return { subnet, key: prev.key, etcdLease: leaseId, lease: want(subnet), reused: true, revision: t.revision, listing };
        }
        spareLease = leaseId;
        continue;
      }
      const subnet = allocateSubnet(cfg, taken, req.preferred);
      if (!subnet) {
        if (spareLease) await this.etcd.leaseRevoke(spareLease).catch(dropped(this.log, `revoke spare etcd lease ${spareLease}`));
        throw new NetworkFullError(`no free /${cfg.subnetLen} subnet left in ${formatNet(cfg.network)}`);
      }
      const key = leaseKey(this.prefix, subnet);
      const leaseId = await grant();
      // Logged before the write: peers may see the lease before this agent hears etcd's answer,
      // so this line, not "acquired lease", is when a new lease can first reach them.
      this.log.info(`writing lease ${key}`);
      const t = await this.etcd.txn(
        [{ key, target: 'CREATE', result: 'EQUAL', revision: 0 }],
        [{ put: { key, value: encodeLeaseValue(want(subnet)), lease: leaseId } }],
        [],
      );
      if (t.succeeded) return { subnet, key, etcdLease: leaseId, lease: want(subnet), reused: false, revision: t.revision, listing };
      spareLease = leaseId;
      this.log.info(`subnet ${formatNet(subnet)} was taken concurrently; retrying`);
    }
    if (spareLease) await this.etcd.leaseRevoke(spareLease).catch(dropped(this.log, `revoke spare etcd lease ${spareLease}`));
    throw new Error('could not acquire a subnet lease after 20 attempts');
  }

  /** Renews the etcd lease; false when it no longer exists (expired or revoked). */
  async renew(own: OwnLease): Promise<boolean> {
    const ttl = await this.etcd.leaseKeepAlive(own.etcdLease);
    return ttl > 0;
  }
}

function parseNetworkConfigFromKv(kv: KeyValue): NetworkConfig {
  try {
    return parseNetworkConfigText(kv.value);
  } catch (e) {
    throw new NetworkConfigError(`${kv.key}: ${(e as Error).message}`);
  }
}
