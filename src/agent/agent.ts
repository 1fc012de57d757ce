// The agent: flanneld's control loop. Reads the network config, acquires (or reuses) a subnet
// lease, programs the backend and the pod bridge, writes subnet.env, then watches the other
// leases and keeps the kernel in step. etcd outages never touch the data plane.

import { readFileSync, unlinkSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { AgentConfig } from './config.js';
import { HttpEtcdClient } from './etcd/http.js';
import { type EtcdClient, type WatchEvent, type Watcher, WatchCompactedError } from './etcd/types.js';
import { writeFileAtomic } from './files.js';
import { type Ip4Net, formatCidr, netEqual } from './ip4.js';
import { type CommandRunner, ExecRunner } from './kernel.js';
import { type NetworkConfig, type StoredLease, subnetsPrefix } from './lease.js';
import { FileLogger, type Logger } from './log.js';
import { mtuFor } from './peer-state.js';
import { ensureBridge, ensureIpForward, ensureMasquerade } from './pod-side.js';
import { type OwnLease, SubnetRegistry } from './registry.js';
import { leaseSubnetOf, parseSubnetEnv, renderSubnetEnv, subnetEnvFor } from './subnet-env.js';
import type { Backend, BackendDeps } from './backend/types.js';
import { VxlanBackend } from './backend/vxlan.js';
import { HostGwBackend } from './backend/hostgw.js';
import { UdpBackend } from './backend/udp.js';

export interface AgentDeps {
  etcd?: EtcdClient;
  runner?: CommandRunner;
  log?: Logger;
  /** udp: an already attached TUN descriptor (started under `tun-open flannel0 -- …`). */
  tunFd?: number;
  /** Do not touch /proc/sys (tests). */
  skipSysctl?: boolean;
}

export function createBackend(d: BackendDeps, tunFd?: number): Backend {
  switch (d.net.backend.type) {
    case 'vxlan':
      return new VxlanBackend(d);
    case 'host-gw':
      return new HostGwBackend(d);
    case 'udp':
      return new UdpBackend(d, tunFd);
  }
}

const MAX_BACKOFF_MS = 10_000;
const LOOP_RES_MS = 10;

export class Agent {
  readonly log: Logger;
  private readonly etcd: EtcdClient;
  private readonly ownsEtcd: boolean;
  private readonly runner: CommandRunner;
  private readonly registry: SubnetRegistry;
  private net: NetworkConfig | null = null;
  private backend: Backend | null = null;
  private backendData: Record<string, unknown> = {};
  private own: OwnLease | null = null;
  private readonly peers = new Map<string, StoredLease>();
  private watcher: Watcher | null = null;
  private watchStartedAt = 0;
  private lastRevision = 0;
  private stopped = false;
  private syncChain: Promise<void> = Promise.resolve();
  private syncQueued = false;
  private renewTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private rewatchTimer: NodeJS.Timeout | null = null;
  private rewatching = false;
  private rewatchBackoff = 1000;
  private reacquiring: Promise<void> | null = null;
  private etcdDownSince = 0;
  private renewals = 0;
  private loopDelayMaxMs = 0;
  private readonly startedAt = new Date().toISOString();
  private readonly loopDelay: IntervalHistogram;

  constructor(
    readonly cfg: AgentConfig,
    private readonly deps: AgentDeps = {},
  ) {
    this.log = deps.log ?? new FileLogger(cfg.logFile);
    this.ownsEtcd = !deps.etcd;
    this.etcd = deps.etcd ?? new HttpEtcdClient(cfg.etcdEndpoints);
    this.runner = deps.runner ?? new ExecRunner();
    this.registry = new SubnetRegistry(this.etcd, cfg.prefix, this.log);
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_RES_MS });
  }

  get ownLease(): OwnLease | null {
    return this.own;
  }

  get peerLeases(): StoredLease[] {
    return [...this.peers.values()];
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  /** Retries `fn` with exponential backoff (1 s .. 10 s) until it succeeds or the agent stops. */
  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let delay = 1000;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (this.stopped) throw e;
        this.log.warn(`${what} failed: ${(e as Error).message}; retrying in ${delay / 1000}s`);
        await this.sleep(delay);
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async start(): Promise<void> {
    const { cfg, log } = this;
    log.info(`overlab agent starting: host ${cfg.host}, public IP ${cfg.publicIp}, etcd ${cfg.etcdEndpoints.join(',')}, prefix ${cfg.prefix}, pid ${process.pid}, node ${process.version}`);
    writeFileAtomic(cfg.pidFile, `${process.pid}\n`);
    this.loopDelay.enable();
    if (!this.deps.skipSysctl) ensureIpForward(log);

    const net = await this.retry('reading the network config', () => this.registry.getNetworkConfig());
    this.net = net;
    log.info(`network config: Network ${formatCidr(net.network)}, SubnetLen ${net.subnetLen}, Backend ${net.backend.type}${net.backend.type === 'vxlan' ? ` VNI ${net.backend.vni}` : ''}${net.backend.port ? ` port ${net.backend.port}` : ''}`);
    this.backend = createBackend({ cfg, net, runner: this.runner, log }, this.deps.tunFd);
    this.backendData = await this.backend.prepare();

    const preferred = this.previousSubnet(net);
    if (preferred) log.info(`previous subnet from ${cfg.subnetEnvFile}: ${formatCidr(preferred)}`);
    this.own = await this.retry('acquiring a subnet lease', () => this.acquire(preferred));
    await this.applyOwn();
    await this.retry('listing leases', () => this.resync());
    this.scheduleRenew(this.renewIntervalMs());
    await this.writeStats();
    this.statsTimer = setInterval(() => void this.writeStats(), cfg.statsIntervalMs);
    this.statsTimer.unref?.();
    log.info(`agent ready: subnet ${formatCidr(this.own.subnet)}, ${this.peers.size} peer lease(s)`);
  }

  private previousSubnet(net: NetworkConfig): Ip4Net | null {
    try {
      const env = parseSubnetEnv(readFileSync(this.cfg.subnetEnvFile, 'utf8'));
      if (!env || env.network !== formatCidr(net.network)) return null;
      return leaseSubnetOf(env);
    } catch {
      return null;
    }
  }

  private async acquire(preferred: Ip4Net | null): Promise<OwnLease> {
    const net = this.net as NetworkConfig;
    const backend = this.backend as Backend;
    const own = await this.registry.acquireLease(net, {
      publicIp: this.cfg.publicIp,
      backendType: backend.type,
      backendData: this.backendData,
      ttlSeconds: this.cfg.leaseTtlSeconds,
      preferred,
    });
    this.log.info(`${own.reused ? 'reusing' : 'acquired'} lease ${own.key} (etcd lease ${own.etcdLease}, TTL ${this.cfg.leaseTtlSeconds}s): ${JSON.stringify(own.lease.backendData)}`);
    return own;
  }

  /** Device, bridge, masquerade and subnet.env for this host's subnet. */
  private async applyOwn(): Promise<void> {
    const { cfg, log } = this;
    const net = this.net as NetworkConfig;
    const own = this.own as OwnLease;
    await (this.backend as Backend).configure(own.subnet);
    await ensureBridge(this.runner, log, cfg.bridge, own.subnet, net.network);
    if (cfg.ipMasq) await ensureMasquerade(this.runner, log, net.network);
    const env = renderSubnetEnv(subnetEnvFor(net.network, own.subnet, mtuFor(net.backend.type, cfg.underlayMtu), cfg.ipMasq));
    let prev = '';
    try {
      prev = readFileSync(cfg.subnetEnvFile, 'utf8');
    } catch {
      /* first run */
    }
    if (prev !== env) {
      writeFileAtomic(cfg.subnetEnvFile, env);
      log.info(`wrote ${cfg.subnetEnvFile}: ${env.trim().split('\n').join(' ')}`);
    }
  }

  private renewIntervalMs(): number {
    return Math.max(1000, Math.floor((this.cfg.leaseTtlSeconds * 1000) / 3));
  }

  private scheduleRenew(ms: number): void {
    if (this.stopped) return;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), ms);
  }

  private async renew(): Promise<void> {
    const own = this.own;
    if (!own || this.stopped) return;
    let alive: boolean;
    try {
      alive = await this.registry.renew(own);
    } catch (e) {
      if (!this.etcdDownSince) {
        this.etcdDownSince = Date.now();
        this.log.warn(`etcd unreachable (${(e as Error).message}); data plane left as is, retrying`);
      }
      this.scheduleRenew(Math.min(2000, this.renewIntervalMs()));
      return;
    }
    this.renewals++;
    if (this.etcdDownSince) {
      this.log.info(`etcd reachable again after ${((Date.now() - this.etcdDownSince) / 1000).toFixed(1)}s`);
      const watchPredates = this.watchStartedAt < this.etcdDownSince;
      this.etcdDownSince = 0;
      if (watchPredates) this.restartWatch(0, 'etcd came back');
    }
    if (!alive) {
      this.log.warn(`etcd lease ${own.etcdLease} for ${own.key} is gone (expired or revoked); re-acquiring`);
      this.reacquire();
    } else {
      this.log.debug(`renewed lease ${own.key}`);
    }
    this.scheduleRenew(this.renewIntervalMs());
  }

  private reacquire(): void {
    if (this.reacquiring || this.stopped) return;
    this.reacquiring = (async () => {
      const old = this.own as OwnLease;
      const own = await this.retry('re-acquiring the lease', () => this.acquire(old.subnet));
      this.own = own;
      if (!netEqual(own.subnet, old.subnet)) {
        this.log.error(`subnet changed from ${formatCidr(old.subnet)} to ${formatCidr(own.subnet)}: pods on the old subnet must be re-addressed`);
      }
      await this.applyOwn();
      this.restartWatch(0, 'lease re-acquired');
    })()
      .catch((e) => this.log.error(`re-acquire failed: ${(e as Error).message}`))
      .finally(() => {
        this.reacquiring = null;
      });
  }

  /** Full list -> peers map -> sync -> watch from the list's revision + 1. */
  private async resync(): Promise<void> {
    const own = this.own as OwnLease;
    const { leases, revision } = await this.registry.listLeases();
    this.peers.clear();
    let ownSeen = false;
    for (const l of leases) {
      if (l.key === own.key) {
        ownSeen = l.publicIp === this.cfg.publicIp;
        continue;
      }
      if (l.publicIp === this.cfg.publicIp) continue; // a stale duplicate of ours
      this.peers.set(l.key, l);
    }
    this.lastRevision = revision;
    this.scheduleSync('initial list');
    await this.syncChain;
    this.startWatch(revision + 1);
    if (!ownSeen) {
      this.log.warn(`own lease ${own.key} is missing from etcd; re-acquiring`);
      this.reacquire();
    }
  }

  private startWatch(fromRevision: number): void {
    if (this.stopped) return;
    this.watcher?.cancel();
    this.watchStartedAt = Date.now();
    const prefix = subnetsPrefix(this.cfg.prefix);
    this.log.info(`watching ${prefix} from revision ${fromRevision}`);
    this.watcher = this.etcd.watch(
      prefix,
      { prefix: true, startRevision: fromRevision },
      {
        onEvents: (events) => this.onEvents(events),
        onEnd: (err) => {
          this.watcher = null;
          if (this.stopped) return;
          if (err instanceof WatchCompactedError) this.log.warn(`${err.message}; re-listing`);
          else this.log.warn(`watch ended (${err.message}); re-listing in ${this.rewatchBackoff / 1000}s`);
          this.restartWatch(err instanceof WatchCompactedError ? 0 : this.rewatchBackoff, 'watch ended');
        },
      },
    );
  }

  private restartWatch(delayMs: number, why: string): void {
    if (this.stopped || this.rewatchTimer || this.rewatching) return;
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = null;
      this.rewatching = true;
      this.log.info(`re-syncing with etcd (${why})`);
      this.watcher?.cancel();
      this.watcher = null;
      this.resync()
        .then(() => {
          this.rewatchBackoff = 1000;
          this.rewatching = false;
        })
        .catch((e) => {
          this.rewatching = false;
          this.log.warn(`re-sync failed: ${(e as Error).message}; retrying in ${this.rewatchBackoff / 1000}s`);
          const d = this.rewatchBackoff;
          this.rewatchBackoff = Math.min(this.rewatchBackoff * 2, MAX_BACKOFF_MS);
          this.restartWatch(d, why);
        });
    }, delayMs);
  }

  private onEvents(events: WatchEvent[]): void {
    const own = this.own;
    if (!own) return;
    let dirty = false;
    for (const ev of events) {
      this.lastRevision = Math.max(this.lastRevision, ev.kv.modRevision);
      const le = this.registry.decodeEvent(ev);
      if (!le) continue;
      const key = le.kind === 'put' ? le.lease.key : le.key;
      if (key === own.key) {
        if (le.kind === 'delete') {
          this.log.warn(`own lease ${key} was deleted (expired or removed); re-acquiring`);
          this.reacquire();
        } else if (le.lease.publicIp !== this.cfg.publicIp) {
          this.log.error(`own lease ${key} now names ${le.lease.publicIp}; re-acquiring`);
          this.reacquire();
        }
        continue;
      }
      if (le.kind === 'put') {
        if (le.lease.publicIp === this.cfg.publicIp) continue;
        const prev = this.peers.get(key);
        this.peers.set(key, le.lease);
        this.log.info(`lease ${prev ? 'changed' : 'added'}: ${formatCidr(le.lease.subnet)} -> ${le.lease.publicIp} ${JSON.stringify(le.lease.backendData)} (rev ${ev.kv.modRevision})`);
        dirty = true;
      } else if (this.peers.delete(key)) {
        this.log.info(`lease removed: ${formatCidr(le.subnet)} (rev ${ev.kv.modRevision})`);
        dirty = true;
      }
    }
    if (dirty) this.scheduleSync('lease change');
  }

  /** Serialised, coalesced peer sync. */
  private scheduleSync(why: string): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    this.syncChain = this.syncChain
      .then(async () => {
        this.syncQueued = false;
        if (this.stopped) return;
        const backend = this.backend as Backend;
        const peers = [...this.peers.values()].filter((l) => l.backendType === backend.type);
        const skipped = this.peers.size - peers.length;
        if (skipped > 0) this.log.warn(`ignoring ${skipped} lease(s) of another backend type`);
        const { changed } = await backend.syncPeers(peers);
        this.log.info(`peers in sync (${why}): ${peers.length} peer(s), ${changed === 0 ? 'no changes' : `${changed} change(s)`}`);
      })
      .catch((e) => this.log.error(`peer sync failed: ${(e as Error).message}`));
  }

  /** Waits until queued syncs are done (tests). */
  async settled(): Promise<void> {
    await this.syncChain;
    if (this.reacquiring) await this.reacquiring;
    await this.syncChain;
  }

  private statsBusy = false;

  private async writeStats(): Promise<void> {
    if (this.statsBusy) return;
    this.statsBusy = true;
    try {
      // counters kept outside this process (the udp backend's native proxy): at most 1 s old
      const r = this.backend?.refreshStats?.();
      if (r) await Promise.race([r, new Promise((res) => setTimeout(res, 1000).unref())]);
      this.writeStatsNow();
    } finally {
      this.statsBusy = false;
    }
  }

  private writeStatsNow(): void {
    const h = this.loopDelay;
    // The histogram samples every LOOP_RES_MS; what exceeds that interval is the event-loop delay.
    const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - LOOP_RES_MS) * 100) / 100);
    const loop = h.count > 0 ? { mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), samples: h.count } : null;
    if (loop) this.loopDelayMaxMs = Math.max(this.loopDelayMaxMs, loop.max);
    h.reset();
    const b = this.backend?.stats() ?? {};
    const stats: Record<string, unknown> = {
      host: this.cfg.host,
      pid: process.pid,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      backend: this.backend?.type,
      publicIp: this.cfg.publicIp,
      subnet: this.own ? formatCidr(this.own.subnet) : null,
      lease: this.own ? { key: this.own.key, etcdLease: this.own.etcdLease, ttlSeconds: this.cfg.leaseTtlSeconds, renewals: this.renewals } : null,
      etcd: { reachable: this.etcdDownSince === 0, watching: this.watcher !== null, lastRevision: this.lastRevision },
      peers: [...this.peers.values()].map((l) => ({ subnet: formatCidr(l.subnet), publicIp: l.publicIp, backendType: l.backendType })),
      /** Event-loop delay over the last stats interval (ms beyond the sampling tick), and the worst since start. */
      eventLoopDelayMs: loop ? { ...loop, maxSinceStart: this.loopDelayMaxMs } : null,
      device: b,
    };
    if (this.backend?.type === 'udp') {
      stats.packets = { tunToUdp: b.tunToUdp, udpToTun: b.udpToTun, unknownSubnetDrops: b.unknownSubnetDrops };
      /** The process that moves the packets when it is not the agent (udp-proxy), else null. */
      stats.dataPath = b.dataPath;
      stats.dataPathPid = b.dataPathPid ?? null;
    }
    try {
      writeFileAtomic(this.cfg.statsFile, JSON.stringify(stats, null, 2) + '\n');
    } catch (e) {
      this.log.debug(`stats: ${(e as Error).message}`);
    }
  }

  /** Stops the control loop; the data plane (devices, routes, neighbours, FDB) is left in place. */
  async stop(signal = 'stop'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.log.info(`${signal}: stopping; kernel state is left in place so traffic keeps flowing`);
    for (const t of [this.renewTimer, this.rewatchTimer]) if (t) clearTimeout(t);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.watcher?.cancel();
    this.watcher = null;
    await this.syncChain.catch(() => undefined);
    this.statsBusy = false;
    await this.writeStats();
    await this.backend?.stop();
    this.loopDelay.disable();
    if (this.ownsEtcd) this.etcd.close();
    try {
      unlinkSync(this.cfg.pidFile);
    } catch {
      /* not there */
    }
    this.log.info('stopped');
  }
}
