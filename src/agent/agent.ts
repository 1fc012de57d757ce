// The agent: flanneld's control loop, composed of units with one job each —
//   lease-keeper.ts  this host's lease: acquire, renew, rewrite when changed, re-acquire
//   lease-watch.ts   the other leases: list, watch, re-list when the watch breaks
//   lease-book.ts    what was seen, judged by lease-rules.ts: peers to program, leases refused
//   peer-sync.ts     the kernel in step with the peers (coalesced; backends diff and batch)
//   stats-writer.ts  the stats file (format: agent-stats.ts)
// Start: network config, backend device, lease, device/bridge/masquerade, subnet.env, then the
// leases of the other hosts. etcd outages never touch the data plane.

import { readFileSync, unlinkSync } from 'node:fs';
import type { AgentConfig } from './config.js';
import { HttpEtcdClient } from './etcd/http.js';
import type { EtcdClient, KeyValue, WatchEvent } from './etcd/types.js';
import { writeFileAtomic } from './files.js';
import { type Ip4Net, formatNet, parseNet } from '../shared/ipv4.js';
import { type CommandRunner, ExecRunner } from './kernel.js';
import type { NetworkConfig } from '../shared/flannel-lease.js';
import { LeaseBook } from './lease-book.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { PeerLease } from './lease-rules.js';
import { LeaseWatch } from './lease-watch.js';
import { readLink } from './links.js';
import { dropped, FileLogger, type Logger } from './log.js';
import { mtuFor } from '../shared/peer-state.js';
import { PeerSync } from './peer-sync.js';
import { ensureBridge, ensureIpForward, ensureMasquerade } from './pod-side.js';
import { type OwnLease, SubnetRegistry } from './lease-store.js';
import { retryForever } from './retry.js';
import { type StatsBody, StatsWriter } from './stats-writer.js';
import { StatusServer } from './status-server.js';
import { leaseSubnetOf, parseSubnetEnv, renderSubnetEnv, subnetEnvFor } from '../shared/subnet-env.js';
import { underlayNet } from './underlay.js';
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

/** The units, once the network config and the backend are known. */
interface Running {
  net: NetworkConfig;
  backend: Backend;
  keeper: LeaseKeeper;
  book: LeaseBook | null;
  watch: LeaseWatch;
  sync: PeerSync | null;
}

export class Agent {
  readonly log: Logger;
  private readonly etcd: EtcdClient;
  private readonly ownsEtcd: boolean;
  private readonly runner: CommandRunner;
  private readonly registry: SubnetRegistry;
  private readonly stats: StatsWriter;
  private readonly status: StatusServer | null;
  private r: Running | null = null;
  private stopped = false;

  constructor(
    readonly cfg: AgentConfig,
    private readonly deps: AgentDeps = {},
  ) {
    this.log = deps.log ?? new FileLogger(cfg.logFile);
    this.ownsEtcd = !deps.etcd;
    this.etcd = deps.etcd ?? new HttpEtcdClient(cfg.etcdEndpoints);
    this.runner = deps.runner ?? new ExecRunner();
    this.registry = new SubnetRegistry(this.etcd, cfg.prefix, this.log);
    this.stats = new StatsWriter(cfg.statsFile, cfg.statsIntervalMs, this.log, () => this.statsBody(), () => this.r?.backend.refreshStats?.());
    this.status = cfg.statusPort === undefined ? null : new StatusServer(cfg.publicIp, cfg.statusPort, () => JSON.stringify(this.statsBody()), this.log);
  }

  get ownLease(): OwnLease | null {
    return this.r?.keeper.own ?? null;
  }

  get peerLeases(): readonly PeerLease[] {
    return this.r?.book?.peers ?? [];
  }

  async start(): Promise<void> {
    const { cfg, log } = this;
    log.info(`overlab agent starting: host ${cfg.host}, public IP ${cfg.publicIp}, etcd ${cfg.etcdEndpoints.join(',')}, prefix ${cfg.prefix}, pid ${process.pid}, node ${process.version}`);
    writeFileAtomic(cfg.pidFile, `${process.pid}\n`);
    this.stats.enable();
    // A host whose container restarted has no underlay until it is wired again: the agent stops
    // here (its supervisor starts it again, at once when the host has been wired), rather than
    // run on without the address its listener and its lease are about. The interface alone is not
    // enough: wiring makes it first and gives it its address a moment later, and a listener started
    // in between fails (EADDRNOTAVAIL) and is never there, while the agent runs on as if ready.
    const wired = await readLink(this.runner, cfg.underlayIface);
    if (!wired) {
      throw new Error(`the underlay interface ${cfg.underlayIface} is not there (the host is not wired, or its container restarted since it was)`);
    }
    if (!wired.addresses.some((a) => a.ip === cfg.publicIp)) {
      throw new Error(`the underlay interface ${cfg.underlayIface} does not carry ${cfg.publicIp} yet (the host is being wired)`);
    }
    await this.status?.start();
    if (!this.deps.skipSysctl) ensureIpForward(log);

    const net = await retryForever('reading the network config', () => this.registry.getNetworkConfig(), log, () => this.stopped);
    log.info(`network config: Network ${formatNet(net.network)}, SubnetLen ${net.subnetLen}, Backend ${net.backend.type}${net.backend.type === 'vxlan' ? ` VNI ${net.backend.vni}` : ''}${net.backend.port ? ` port ${net.backend.port}` : ''}`);
    const underlay = await underlayNet(cfg, this.runner, log);
    const backend = createBackend({ cfg, net, runner: this.runner, log }, this.deps.tunFd);
    const backendData = await backend.prepare();

    const keeper = new LeaseKeeper(
      { registry: this.registry, etcd: this.etcd, cfg, net, backendType: backend.type, backendData, log },
      { onEtcdBack: (since) => this.onEtcdBack(since), onSubnetChanged: (own) => this.onSubnetChanged(own) },
    );
    const watch = new LeaseWatch(this.etcd, cfg.prefix, log, {
      onSnapshot: (kvs, revision, why) => this.onSnapshot(kvs, revision, why),
      onHistoryLost: () => this.r?.keeper.historyLost(),
      onEvents: (events) => this.onEvents(events),
    });
    const r: Running = { net, backend, keeper, watch, book: null, sync: null };
    this.r = r;

    const preferred = this.previousSubnet(net);
    if (preferred) log.info(`previous subnet from ${cfg.subnetEnvFile}: ${formatNet(preferred)}`);
    const own = await keeper.acquire(preferred);
    await this.applyOwn(own);
    const otherSegments = (cfg.otherSegmentCidrs ?? []).map((c) => parseNet(c, false));
    const book = new LeaseBook({ prefix: cfg.prefix, net, underlay, ...(otherSegments.length ? { otherSegments } : {}), self: { key: own.key, subnet: own.subnet, publicIp: cfg.publicIp } }, log);
    r.book = book;
    r.sync = new PeerSync(backend, () => book.peers, log);

    await watch.start(own.listing);
    await r.sync.settled();
    keeper.startRenewing();
    await this.stats.write();
    this.stats.start();
    log.info(`agent ready: subnet ${formatNet(own.subnet)}, ${book.peers.length} peer lease(s), ${book.rejected.length} refused`);
  }

  private previousSubnet(net: NetworkConfig): Ip4Net | null {
    try {
      const env = parseSubnetEnv(readFileSync(this.cfg.subnetEnvFile, 'utf8'));
      if (!env || env.network !== formatNet(net.network)) return null;
      return leaseSubnetOf(env);
    } catch {
      return null;
    }
  }

  /** Device, bridge, masquerade and subnet.env for this host's subnet. */
  private async applyOwn(own: OwnLease): Promise<void> {
    const { cfg, log } = this;
    const { net, backend } = this.r as Running;
    // three independent pieces of kernel state: set them side by side
    await Promise.all([
      backend.configure(own.subnet),
      ensureBridge(this.runner, log, cfg.bridge, own.subnet, net.network),
      cfg.ipMasq ? ensureMasquerade(this.runner, log, net.network) : undefined,
    ]);
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

  private onSnapshot(kvs: KeyValue[], revision: number, why: string): void {
    const r = this.r;
    if (!r?.book || !r.sync) return;
    const own = r.keeper.own as OwnLease;
    r.book.replaceAll(kvs);
    r.keeper.observe(r.book.get(own.key), revision);
    r.sync.request('full', why === 'start' ? 'initial list' : `re-list: ${why}`);
  }

  private onEvents(events: WatchEvent[]): void {
    const r = this.r;
    if (!r?.book || !r.sync) return;
    const own = r.keeper.own as OwnLease;
    r.book.apply(events);
    const mine = events.filter((e) => e.kv.key === own.key).at(-1);
    if (mine) r.keeper.observe(r.book.get(own.key), mine.kv.modRevision);
    if (events.some((e) => e.kv.key !== own.key)) r.sync.request('incremental', 'lease change');
  }

  private onEtcdBack(downSince: number): void {
    const watch = this.r?.watch;
    if (watch && watch.startedAt < downSince) watch.restart(0, 'etcd came back');
  }

  private async onSubnetChanged(own: OwnLease): Promise<void> {
    const r = this.r as Running;
    await this.applyOwn(own);
    r.book?.setSelf({ key: own.key, subnet: own.subnet, publicIp: this.cfg.publicIp });
    r.sync?.request('full', 'subnet changed');
  }

  /** Waits until queued work (peer syncs, own-lease fixes) is done (tests). */
  async settled(): Promise<void> {
    const r = this.r;
    if (!r) return;
    for (let i = 0; i < 3; i++) {
      await r.keeper.settled();
      await r.sync?.settled();
    }
  }

  private statsBody(): StatsBody {
    const r = this.r;
    const own = r?.keeper.own ?? null;
    const device = r?.backend.stats() ?? {};
    const body: StatsBody = {
      host: this.cfg.host,
      backend: r?.backend.type ?? null,
      publicIp: this.cfg.publicIp,
      subnet: own ? formatNet(own.subnet) : null,
      lease: own && r ? { key: own.key, etcdLease: own.etcdLease, ttlSeconds: this.cfg.leaseTtlSeconds, renewals: r.keeper.renewals, rewrites: r.keeper.rewrites } : null,
      etcd: { reachable: (r?.keeper.etcdDownSince ?? 0) === 0, watching: r?.watch.watching ?? false, lastRevision: r?.watch.lastRevision ?? 0 },
      peers: (r?.book?.peers ?? []).map((l) => ({ subnet: formatNet(l.subnet), publicIp: l.publicIp, backendType: l.backendType })),
      rejectedLeases: [...(r?.book?.rejected ?? [])],
      peerSync: r?.sync?.stats() ?? { syncs: 0, fullSyncs: 0, changes: 0, failures: 0, processes: 0, lastDurationMs: null, lastAt: null, inSync: false },
      device,
    };
    if (r?.backend.type === 'udp') {
      body.packets = { tunToUdp: Number(device.tunToUdp ?? 0), udpToTun: Number(device.udpToTun ?? 0), unknownSubnetDrops: Number(device.unknownSubnetDrops ?? 0) };
      body.dataPath = device.dataPath === 'native' ? 'native' : 'node';
      body.dataPathPid = typeof device.dataPathPid === 'number' ? device.dataPathPid : null;
    }
    return body;
  }

  /** Stops the control loop; the data plane (devices, routes, neighbours, FDB) is left in place. */
  async stop(signal = 'stop'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.log.info(`${signal}: stopping; kernel state is left in place so traffic keeps flowing`);
    const r = this.r;
    r?.keeper.stop();
    r?.watch.stop();
    await r?.sync?.stop().catch(dropped(this.log, 'stop the peer sync'));
    await this.stats.stop();
    await this.status?.stop();
    await r?.backend.stop();
    this.runner.close?.();
    if (this.ownsEtcd) this.etcd.close();
    try {
      unlinkSync(this.cfg.pidFile);
    } catch {
      /* not there */
    }
    this.log.info('stopped');
  }
}
