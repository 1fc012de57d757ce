// VXLAN backend: the kernel encapsulates; the agent only programs flannel.<VNI>, and per peer a
// permanent neighbour (<subnet>.0 -> VtepMAC), an FDB entry (VtepMAC -> PublicIP) and a route.

import { formatNet, formatIp, netAddr, type Ip4Net, parseIp, netContains } from '../../shared/ipv4.js';
import { mustRun, readQuiet } from '../kernel.js';
import { actualPeerState, parseFdb, parseNeighbours, parseRoutes, type LinkInfo } from '../../shared/kernel-state.js';
import { configure, deviceCommands, readLink } from '../links.js';
import type { PeerLease } from '../lease-rules.js';
import { desiredLocalState, desiredPeerState, linkAddArgv } from '../../shared/peer-state.js';
import type { Backend, BackendDeps, SyncMode, SyncResult } from './types.js';
import { KernelPeerSync } from './kernel-sync.js';

export class VxlanBackend implements Backend {
  readonly type = 'vxlan' as const;
  readonly device: string;
  private subnet: Ip4Net | null = null;
  private mac = '';
  private peers = 0;
  private readonly kernel: KernelPeerSync;
  /** The device as prepare() left it, for the configure() that follows. */
  private prepared: LinkInfo | null = null;

  constructor(private readonly d: BackendDeps) {
    this.device = `flannel.${d.net.backend.vni}`;
    this.kernel = new KernelPeerSync(d.runner, d.log);
  }

  private readLink(): Promise<LinkInfo | null> {
    return readLink(this.d.runner, this.device);
  }

  async prepare(): Promise<Record<string, unknown>> {
    const { cfg, net, runner, log } = this.d;
    let link = await this.readLink();
    if (link) {
      const v = link.vxlan;
      const ok =
        link.kind === 'vxlan' &&
        v !== undefined &&
        v.id === net.backend.vni &&
        v.local === cfg.publicIp &&
        v.port === net.backend.port &&
        (v.link === undefined || v.link === cfg.underlayIface) &&
        !v.learning;
      if (ok) {
        log.info(`reusing ${this.device} (VTEP MAC ${link.mac}, VNI ${net.backend.vni}, local ${cfg.publicIp}, dstport ${net.backend.port})`);
      } else {
        log.warn(`${this.device} exists with different settings (${JSON.stringify(v ?? link.kind)}); recreating it`);
        await mustRun(runner, ['ip', 'link', 'del', this.device]);
        link = null;
      }
    }
    if (!link) {
      const local = desiredLocalState(
        { type: 'vxlan', vni: net.backend.vni, port: net.backend.port },
        { subnet: '0.0.0.0/32', publicIp: cfg.publicIp, underlayIface: cfg.underlayIface },
        { network: formatNet(net.network), underlayMtu: cfg.underlayMtu },
      );
      const argv = linkAddArgv(local) as string[];
      await mustRun(runner, argv);
      log.info(`created: ${argv.join(' ')}`);
      link = await this.readLink();
      if (!link) throw new Error(`${this.device} did not appear after ip link add`);
    }
    this.mac = link.mac;
    this.prepared = link;
    return { VNI: net.backend.vni, VtepMAC: this.mac };
  }

  async configure(subnet: Ip4Net): Promise<void> {
    const { cfg, net, runner, log } = this.d;
    this.subnet = subnet;
    // right after prepare() the device is as prepare() read it; later (a new subnet) read it again
    const link = this.prepared ?? (await this.readLink());
    this.prepared = null;
    if (!link) throw new Error(`${this.device} disappeared`);
    const address = `${formatIp(netAddr(subnet, 0))}/32`;
    await configure(runner, log, deviceCommands(link, { mtu: cfg.underlayMtu - 50, address, isManaged: (ip) => netContains(net.network, parseIp(ip)), up: true }));
  }

  async syncPeers(peers: readonly PeerLease[], mode: SyncMode): Promise<SyncResult> {
    const { cfg, net, runner } = this.d;
    if (!this.subnet) throw new Error('vxlan: configure() before syncPeers()');
    const desired = desiredPeerState(
      { type: 'vxlan', vni: net.backend.vni, port: net.backend.port },
      { subnet: formatNet(this.subnet), publicIp: cfg.publicIp, underlayIface: cfg.underlayIface },
      peers.map((p) => ({ subnet: formatNet(p.subnet), publicIp: p.publicIp, ...(p.vtepMac ? { vtepMac: p.vtepMac } : {}) })),
    );
    const dev = this.device;
    const result = await this.kernel.converge(desired, mode, async () => {
      const [routes, neigh, fdb] = await Promise.all([
        readQuiet(runner, ['ip', '-j', 'route', 'show', 'dev', dev]),
        readQuiet(runner, ['ip', '-j', 'neigh', 'show', 'dev', dev]),
        readQuiet(runner, ['bridge', '-j', 'fdb', 'show', 'dev', dev]),
      ]);
      const state = actualPeerState({
        routes: parseRoutes(routes, dev, net.network),
        neighbours: parseNeighbours(neigh, dev, net.network),
        fdb: parseFdb(fdb, dev),
      });
      return { state, processes: 3 };
    });
    this.peers = desired.routes.length;
    return result;
  }

  stats(): Record<string, unknown> {
    return { device: this.device, vtepMac: this.mac, peers: this.peers };
  }

  async stop(): Promise<void> {
    /* kernel state stays */
  }
}
