// host-gw backend: no encapsulation; per peer `ip route replace <subnet> via <PublicIP> dev eth0`.
// Needs every host on one L2 segment.

import { formatNet, type Ip4Net } from '../../shared/ipv4.js';
import { readQuiet } from '../kernel.js';
import { actualPeerState, parseRoutes } from '../../shared/kernel-state.js';
import type { PeerLease } from '../lease-rules.js';
import { desiredPeerState } from '../../shared/peer-state.js';
import type { Backend, BackendDeps, SyncMode, SyncResult } from './types.js';
import { KernelPeerSync } from './kernel-sync.js';

export class HostGwBackend implements Backend {
  readonly type = 'host-gw' as const;
  readonly device = null;
  private subnet: Ip4Net | null = null;
  private peers = 0;
  private readonly kernel: KernelPeerSync;

  constructor(private readonly d: BackendDeps) {
    this.kernel = new KernelPeerSync(d.runner, d.log);
  }

  async prepare(): Promise<Record<string, unknown>> {
    return {};
  }

  async configure(subnet: Ip4Net): Promise<void> {
    this.subnet = subnet;
  }

  async syncPeers(peers: readonly PeerLease[], mode: SyncMode): Promise<SyncResult> {
    const { cfg, net, runner } = this.d;
    if (!this.subnet) throw new Error('host-gw: configure() before syncPeers()');
    const desired = desiredPeerState(
      { type: 'host-gw' },
      { subnet: formatNet(this.subnet), publicIp: cfg.publicIp, underlayIface: cfg.underlayIface },
      peers.map((p) => ({ subnet: formatNet(p.subnet), publicIp: p.publicIp })),
    );
    const dev = cfg.underlayIface;
    const result = await this.kernel.converge(desired, mode, async () => {
      const routes = await readQuiet(runner, ['ip', '-j', 'route', 'show', 'dev', dev]);
      // manage only routes with a gateway (ours); the underlay's own connected route is left alone
      return { state: actualPeerState({ routes: parseRoutes(routes, dev, net.network).filter((r) => r.via) }), processes: 1 };
    });
    this.peers = desired.routes.length;
    return result;
  }

  stats(): Record<string, unknown> {
    return { device: this.d.cfg.underlayIface, peers: this.peers };
  }

  async stop(): Promise<void> {
    /* kernel state stays */
  }
}
