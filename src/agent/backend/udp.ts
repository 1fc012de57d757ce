// udp backend: TUN flannel0 + userspace encapsulation on UDP 8285 (bare IP packet as payload).
// Every packet crosses kernel -> userspace -> kernel on both hosts: that is why it is slow.
// Two data paths (config "udpDataPath"):
//   native  (default when the helper exists) the udp-proxy child (native/udp-proxy.c, flannel's
//           proxy.c) gets the TUN as fd 3, binds the port and forwards every packet; the agent
//           feeds it the subnet table over its stdin and reads its counters (udp-proxy.ts).
//   node    the agent forwards in Node (udp-forward.ts decides, udp-socket.ts/tun.ts move bytes).

import dgram from 'node:dgram';
import { formatNet, formatIp, netAddr, netContains, parseIp, type Ip4Net } from '../../shared/ipv4.js';
import { configure, deviceCommands, readLink } from '../links.js';
import type { PeerLease } from '../lease-rules.js';
import { UDP_TUN_NAME, desiredLocalState, desiredPeerState, routeArgs } from '../../shared/peer-state.js';
import { SubnetTable } from '../packet.js';
import { type TunDevice, findHelper, findTunOpen, openTun, tunDevice } from '../tun.js';
import type { Backend, BackendDeps, SyncResult } from './types.js';
import { ensureAcceptLocal } from '../pod-side.js';
import { type Endpoint, type ForwardContext, decideTunPacket, decideUdpPacket } from './udp-forward.js';
import { FAILED, QUEUED, fastUdp } from './udp-socket.js';
import { PROXY_COUNTERS, type ProxyCounters, UdpProxy } from './udp-proxy.js';

export type UdpDataPath = 'native' | 'node';

export interface UdpCounters {
  tunToUdp: number;
  udpToTun: number;
  tunToUdpBytes: number;
  udpToTunBytes: number;
  unknownSubnetDrops: number;
  netUnreachableSent: number;
  ttlDrops: number;
  malformedDrops: number;
  otherDrops: number;
  sendErrors: number;
  tunWriteErrors: number;
}

export class UdpBackend implements Backend {
  readonly type = 'udp' as const;
  readonly device = UDP_TUN_NAME;
  private tun: TunDevice | null = null;
  private sock: dgram.Socket | null = null;
  private ctx: ForwardContext | null = null;
  private readonly table = new SubnetTable<Endpoint>();
  private dataPath: UdpDataPath = 'node';
  private proxyPath: string | null = null;
  private proxy: UdpProxy | null = null;
  /** Counters of proxies that exited (crash + respawn): added to the running proxy's. */
  private readonly proxyBase: ProxyCounters = Object.fromEntries(PROXY_COUNTERS.map((k) => [k, 0])) as ProxyCounters;
  private proxyRestarts = 0;
  private respawnTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly counters: UdpCounters = {
    tunToUdp: 0,
    udpToTun: 0,
    tunToUdpBytes: 0,
    udpToTunBytes: 0,
    unknownSubnetDrops: 0,
    netUnreachableSent: 0,
    ttlDrops: 0,
    malformedDrops: 0,
    otherDrops: 0,
    sendErrors: 0,
    tunWriteErrors: 0,
  };

  constructor(
    private readonly d: BackendDeps,
    /** A TUN descriptor already attached (agent started under `tun-open flannel0 -- …`). */
    private readonly inheritedFd?: number,
  ) {}

  async prepare(): Promise<Record<string, unknown>> {
    const { cfg, log } = this.d;
    let fd: number;
    if (this.inheritedFd !== undefined) {
      fd = this.inheritedFd;
      log.info(`using inherited TUN descriptor ${fd} for ${UDP_TUN_NAME}`);
    } else {
      const helper = findTunOpen(cfg.tunOpen);
      // EBUSY: a previous agent still holds flannel0 (exiting); wait for it, up to 10 s
      for (let attempt = 0; ; attempt++) {
        try {
          fd = openTun(UDP_TUN_NAME, helper);
          break;
        } catch (e) {
          if (!/busy/i.test((e as Error).message) || attempt >= 20) throw e;
          if (attempt === 0) log.warn(`${UDP_TUN_NAME} is still attached to another process; waiting for it to go away`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      log.info(`attached TUN ${UDP_TUN_NAME} (fd ${fd}) with ${helper}`);
    }
    this.tun = tunDevice(UDP_TUN_NAME, fd, cfg.tunIo);
    this.chooseDataPath();
    return {}; // flannel's udp backend publishes no BackendData
  }

  async configure(subnet: Ip4Net): Promise<void> {
    const { cfg, net, runner, log } = this.d;
    const local = desiredLocalState(
      { type: 'udp', port: net.backend.port },
      { subnet: formatNet(subnet), publicIp: cfg.publicIp, underlayIface: cfg.underlayIface },
      { network: formatNet(net.network), underlayMtu: cfg.underlayMtu },
    );
    const dev = local.device;
    if (!dev) throw new Error('udp: no device in local state');
    const link = await readLink(runner, UDP_TUN_NAME);
    if (!link) throw new Error(`${UDP_TUN_NAME} is missing after attaching the TUN`);
    ensureAcceptLocal(log, UDP_TUN_NAME);
    await configure(runner, log, [
      ...deviceCommands(link, { mtu: dev.mtu, address: dev.address, isManaged: (ip) => netContains(net.network, parseIp(ip)), up: true }),
      ...local.routes.map((r) => ['ip', 'route', 'replace', ...routeArgs(r)]),
    ]);
    this.ctx = { network: net.network, self: subnet, selfAddr: netAddr(subnet, 0), table: this.table };
    if (this.proxy) await this.proxy.command(`net ${formatNet(net.network)} own ${formatNet(subnet)}`);
    else if (!this.sock && !this.respawnTimer) await this.startForwarding();
  }

  private chooseDataPath(): void {
    const { cfg, log } = this.d;
    if (cfg.udpDataPath === 'node') {
      this.dataPath = 'node';
      return;
    }
    this.proxyPath = findHelper('udp-proxy', cfg.udpProxy);
    if (this.proxyPath) {
      this.dataPath = 'native';
      return;
    }
    this.dataPath = 'node';
    log.warn(`udp: the udp-proxy helper was not found${cfg.udpProxy ? ` at ${cfg.udpProxy}` : ' next to main.js or in /opt/overlab/bin'}; forwarding in Node (slower)`);
  }

  private async startForwarding(): Promise<void> {
    if (this.dataPath === 'native') {
      try {
        await this.startProxy();
        return;
      } catch (e) {
        this.d.log.error(`udp: cannot start the native data path (${(e as Error).message}); forwarding in Node instead`);
        this.dataPath = 'node';
      }
    }
    await this.startNodeForwarding();
  }

  /** Spawns udp-proxy with the TUN as its fd 3 and feeds it the network and the current table. */
  private async startProxy(): Promise<void> {
    const { cfg, net, log } = this.d;
    const tun = this.tun;
    const path = this.proxyPath;
    if (!tun || !path) throw new Error('udp: prepare() first');
    let started: UdpProxy | null = null;
    const proxy = await UdpProxy.start({
      path,
      tunFd: tun.fd,
      bindIp: cfg.publicIp,
      port: net.backend.port,
      log,
      onExit: (code, signal) => {
        if (started) this.onProxyExit(started, code, signal);
      },
    });
    started = proxy;
    this.proxy = proxy;
    await this.feedProxy(proxy);
    log.info(`udp: forwarding ${UDP_TUN_NAME} <-> ${cfg.publicIp}:${net.backend.port} in ${path} (pid ${String(proxy.pid)})`);
  }

  private async feedProxy(proxy: UdpProxy): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) throw new Error('udp: configure() first');
    await proxy.command(`net ${formatNet(ctx.network)} own ${formatNet(ctx.self)}`);
    await proxy.command('clear');
    await Promise.all(this.table.entries().map((e) => proxy.command(`add ${formatNet(e.subnet)} ${e.value.address} ${e.value.port}`)));
  }

  private lastProxyStats: ProxyCounters | null = null;

  private onProxyExit(proxy: UdpProxy, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.proxy !== proxy || this.stopped) return;
    this.proxy = null;
    // keep what it counted (up to its last stats reply) so the counters never go backwards
    if (this.lastProxyStats) for (const k of PROXY_COUNTERS) this.proxyBase[k] += this.lastProxyStats[k];
    this.lastProxyStats = null;
    this.d.log.error(`udp: udp-proxy exited unexpectedly (${signal ?? `code ${String(code)}`}); restarting it in 1 s`);
    this.scheduleRespawn();
  }

  private scheduleRespawn(): void {
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = null;
      if (this.stopped) return;
      this.proxyRestarts++;
      this.startProxy().catch((e) => {
        this.d.log.error(`udp: restarting udp-proxy failed: ${(e as Error).message}; retrying in 1 s`);
        if (!this.stopped) this.scheduleRespawn();
      });
    }, 1000);
  }

  /** Reads the proxy's counters (called before the stats file is written). */
  async refreshStats(): Promise<void> {
    const p = this.proxy;
    if (!p || !p.alive) return;
    try {
      const s = await p.stats();
      if (this.proxy === p) this.lastProxyStats = s;
    } catch (e) {
      this.d.log.debug(`udp: proxy stats: ${(e as Error).message}`);
    }
  }

  private async startNodeForwarding(): Promise<void> {
    const { cfg, net, log } = this.d;
    const tun = this.tun;
    if (!tun) throw new Error('udp: prepare() first');
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.sock = sock;
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: cfg.publicIp, port: net.backend.port, exclusive: true }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    try {
      sock.setRecvBufferSize(4 * 1024 * 1024);
      sock.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      /* best effort */
    }
    log.info(`udp: forwarding ${UDP_TUN_NAME} <-> ${cfg.publicIp}:${net.backend.port} (tun io: ${tun.mode})`);
    const c = this.counters;
    sock.on('error', (e) => log.error(`udp socket: ${e.message}`));
    // Hot path: no allocation beyond the Buffer Node hands us for a received datagram; counters
    // are plain increments (exact whenever stats() reads them).
    const onDatagram = (msg: Buffer): void => {
      const ctx = this.ctx;
      if (!ctx) return;
      const dec = decideUdpPacket(ctx, msg);
      if (dec.action === 'write') {
        if (tun.write(msg)) {
          c.udpToTun++;
          c.udpToTunBytes += msg.length;
        } else c.tunWriteErrors++;
      } else if (dec.action === 'reply') {
        c.ttlDrops++;
        tun.write(dec.packet);
      } else if (dec.reason === 'malformed') c.malformedDrops++;
      else if (dec.reason === 'ttl') c.ttlDrops++;
      else c.otherDrops++;
    };
    const udp = fastUdp(
      sock,
      onDatagram,
      (e) => log.error(`udp socket: ${e.message}`),
      () => c.sendErrors++,
    );
    if (!udp.raw) log.warn('udp: raw udp_wrap handle unavailable; using dgram.Socket#send (slower)');
    tun.start(
      (buf, len) => {
        const ctx = this.ctx;
        if (!ctx) return false;
        // a view of the TUN read buffer: valid until we return, unless the send queues it
        const pkt = buf.subarray(0, len);
        const dec = decideTunPacket(ctx, pkt);
        if (dec.action === 'send') {
          c.tunToUdp++;
          c.tunToUdpBytes += len;
          const r = udp.send(pkt, dec.to.port, dec.to.address);
          if (r === FAILED) c.sendErrors++;
          return r === QUEUED;
        }
        if (dec.action === 'reply') {
          c.unknownSubnetDrops++;
          if (tun.write(dec.packet)) c.netUnreachableSent++;
        } else if (dec.reason === 'unknown-subnet') c.unknownSubnetDrops++;
        else if (dec.reason === 'malformed') c.malformedDrops++;
        else c.otherDrops++;
        return false;
      },
      (e) => log.error(`TUN read: ${e.message}`),
    );
  }

  async syncPeers(peers: readonly PeerLease[]): Promise<SyncResult> {
    const { cfg, net, log } = this.d;
    const self = this.ctx?.self;
    if (!self) throw new Error('udp: configure() before syncPeers()');
    const desired = desiredPeerState(
      { type: 'udp', port: net.backend.port },
      { subnet: formatNet(self), publicIp: cfg.publicIp, underlayIface: cfg.underlayIface },
      peers.map((p) => ({ subnet: formatNet(p.subnet), publicIp: p.publicIp })),
    );
    const before = new Map(this.table.entries().map((e) => [formatNet(e.subnet), `${e.value.address}:${e.value.port}`]));
    const after = new Map(desired.forwarding.map((f) => [f.subnet, `${f.endpoint}:${f.port}`]));
    let changed = 0;
    const cmds: string[] = [];
    for (const [sub, ep] of before) {
      if (!after.has(sub)) {
        this.table.delete(parseCidrLoose(sub));
        cmds.push(`del ${sub}`);
        log.info(`udp: forget ${sub} (was ${ep})`);
        changed++;
      }
    }
    for (const f of desired.forwarding) {
      const prev = before.get(f.subnet);
      if (prev !== `${f.endpoint}:${f.port}`) {
        this.table.set(parseCidrLoose(f.subnet), { address: f.endpoint, port: f.port });
        cmds.push(`add ${f.subnet} ${f.endpoint} ${f.port}`);
        log.info(`udp: forward ${f.subnet} -> ${f.endpoint}:${f.port}${prev ? ` (was ${prev})` : ''}`);
        changed++;
      }
    }
    // the proxy's table follows the Map (a respawned proxy gets the whole Map in feedProxy)
    const proxy = this.proxy;
    if (proxy && cmds.length > 0) await Promise.all(cmds.map((c) => proxy.command(c)));
    return { changed, failed: 0, processes: 0 };
  }

  stats(): Record<string, unknown> {
    const native = this.dataPath === 'native';
    let counters: Record<string, number> = this.counters as unknown as Record<string, number>;
    if (native) {
      const s = this.lastProxyStats;
      counters = Object.fromEntries(PROXY_COUNTERS.map((k) => [k, this.proxyBase[k] + (s ? s[k] : 0)]));
    }
    return {
      device: UDP_TUN_NAME,
      dataPath: this.dataPath,
      /** The process that forwards the packets: the udp-proxy child (native), null when it is the agent itself. */
      dataPathPid: native ? (this.proxy?.pid ?? null) : null,
      ...(native ? { proxy: this.proxyPath, proxyRestarts: this.proxyRestarts } : { tunIo: this.tun?.mode }),
      peers: this.table.size,
      forwarding: this.table.entries().map((e) => ({ subnet: formatNet(e.subnet), endpoint: `${e.value.address}:${e.value.port}` })),
      selfAddr: this.ctx ? formatIp(this.ctx.selfAddr) : undefined,
      ...counters,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.respawnTimer) clearTimeout(this.respawnTimer);
    this.respawnTimer = null;
    // EOF on its stdin: the proxy exits, closing its TUN descriptor and the port
    await this.proxy?.stop();
    this.proxy = null;
    const net = this.d.net.network;
    // threadpool mode: one datagram to <network>.1 (routed into flannel0) wakes the blocked read
    const wake = (): void => {
      try {
        this.sock?.send(Buffer.from([0]), 9, formatIp(netAddr(net, 1)));
      } catch {
        /* best effort */
      }
    };
    await this.tun?.close(wake);
    this.tun = null;
    this.sock?.close();
    this.sock = null;
  }
}

function parseCidrLoose(s: string): Ip4Net {
  const [a, l] = s.split('/');
  return { ip: parseIp(a as string), prefixLen: Number(l) };
}
