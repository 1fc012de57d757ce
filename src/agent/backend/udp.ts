// udp backend: TUN flannel0 + userspace encapsulation on UDP 8285 (bare IP packet as payload).
// Every packet crosses kernel -> agent -> kernel on both hosts: that is why it is slow.

import dgram from 'node:dgram';
import { formatCidr, formatIp, netAddr, netContains, parseIp, type Ip4Net } from '../ip4.js';
import { mustRun, readQuiet } from '../kernel.js';
import { parseLink } from '../kernel-state.js';
import type { Lease } from '../lease.js';
import { UDP_TUN_NAME, desiredLocalState, desiredPeerState, routeArgs } from '../peer-state.js';
import { SubnetTable } from '../packet.js';
import { type TunDevice, findTunOpen, openTun, tunDevice } from '../tun.js';
import type { Backend, BackendDeps } from './types.js';
import { ensureAddress } from './kernel-sync.js';
import { ensureAcceptLocal } from '../pod-side.js';
import { type Endpoint, type ForwardContext, decideTunPacket, decideUdpPacket } from './udp-forward.js';
import { FAILED, QUEUED, fastUdp } from './udp-socket.js';

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
    return {}; // flannel's udp backend publishes no BackendData
  }

  async configure(subnet: Ip4Net): Promise<void> {
    const { cfg, net, runner, log } = this.d;
    const local = desiredLocalState(
      { type: 'udp', port: net.backend.port },
      { subnet: formatCidr(subnet), publicIp: cfg.publicIp, underlayIface: cfg.underlayIface },
      { network: formatCidr(net.network), underlayMtu: cfg.underlayMtu },
    );
    const dev = local.device;
    if (!dev) throw new Error('udp: no device in local state');
    const link = parseLink(await readQuiet(runner, ['ip', '-j', '-d', 'link', 'show', 'dev', UDP_TUN_NAME]), await readQuiet(runner, ['ip', '-j', 'addr', 'show', 'dev', UDP_TUN_NAME]));
    if (!link) throw new Error(`${UDP_TUN_NAME} is missing after attaching the TUN`);
    if (link.mtu !== dev.mtu) {
      await mustRun(runner, ['ip', 'link', 'set', UDP_TUN_NAME, 'mtu', String(dev.mtu)]);
      log.info(`configured: ip link set ${UDP_TUN_NAME} mtu ${dev.mtu}`);
    }
    await ensureAddress(runner, log, UDP_TUN_NAME, link.addresses, dev.address, (ip) => netContains(net.network, parseIp(ip)));
    if (!link.up) {
      await mustRun(runner, ['ip', 'link', 'set', UDP_TUN_NAME, 'up']);
      log.info(`configured: ip link set ${UDP_TUN_NAME} up`);
    }
    ensureAcceptLocal(log, UDP_TUN_NAME);
    for (const r of local.routes) {
      const argv = ['ip', 'route', 'replace', ...routeArgs(r)];
      await mustRun(runner, argv);
      log.info(`configured: ${argv.join(' ')}`);
    }
    this.ctx = { network: net.network, self: subnet, selfAddr: netAddr(subnet, 0), table: this.table };
    if (!this.sock) await this.startForwarding();
  }

  private async startForwarding(): Promise<void> {
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

  async syncPeers(peers: readonly Lease[]): Promise<{ changed: number }> {
    const { cfg, net, log } = this.d;
    const self = this.ctx?.self;
    if (!self) throw new Error('udp: configure() before syncPeers()');
    const desired = desiredPeerState(
      { type: 'udp', port: net.backend.port },
      { subnet: formatCidr(self), publicIp: cfg.publicIp, underlayIface: cfg.underlayIface },
      peers.map((p) => ({ subnet: formatCidr(p.subnet), publicIp: p.publicIp })),
    );
    const before = new Map(this.table.entries().map((e) => [formatCidr(e.subnet), `${e.value.address}:${e.value.port}`]));
    const after = new Map(desired.forwarding.map((f) => [f.subnet, `${f.endpoint}:${f.port}`]));
    let changed = 0;
    for (const [sub, ep] of before) {
      if (!after.has(sub)) {
        this.table.delete(parseCidrLoose(sub));
        log.info(`udp: forget ${sub} (was ${ep})`);
        changed++;
      }
    }
    for (const f of desired.forwarding) {
      const prev = before.get(f.subnet);
      if (prev !== `${f.endpoint}:${f.port}`) {
        this.table.set(parseCidrLoose(f.subnet), { address: f.endpoint, port: f.port });
        log.info(`udp: forward ${f.subnet} -> ${f.endpoint}:${f.port}${prev ? ` (was ${prev})` : ''}`);
        changed++;
      }
    }
    return { changed };
  }

  stats(): Record<string, unknown> {
    return {
      device: UDP_TUN_NAME,
      tunIo: this.tun?.mode,
      peers: this.table.size,
      forwarding: this.table.entries().map((e) => ({ subnet: formatCidr(e.subnet), endpoint: `${e.value.address}:${e.value.port}` })),
      selfAddr: this.ctx ? formatIp(this.ctx.selfAddr) : undefined,
      ...this.counters,
    };
  }

  async stop(): Promise<void> {
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
