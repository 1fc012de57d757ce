import type { AgentConfig } from '../config.js';
import type { Ip4Net } from '../ip4.js';
import type { CommandRunner } from '../kernel.js';
import type { BackendType, Lease, NetworkConfig } from '../lease.js';
import type { Logger } from '../log.js';

export interface BackendDeps {
  cfg: AgentConfig;
  net: NetworkConfig;
  runner: CommandRunner;
  log: Logger;
}

export interface Backend {
  readonly type: BackendType;
  /** Device name the backend owns (flannel.1, flannel0) or null (host-gw). */
  readonly device: string | null;
  /** Creates or reuses the device; returns the lease's BackendData (vxlan: VNI + VtepMAC). */
  prepare(): Promise<Record<string, unknown>>;
  /** Configures the device for this host's subnet (MTU, <subnet>.0/32, up, whole-network routes). */
  configure(subnet: Ip4Net): Promise<void>;
  /** Converges peer state to exactly these leases (other hosts' leases of the same backend type). */
  syncPeers(peers: readonly Lease[]): Promise<{ changed: number }>;
  /** Backend-specific counters for the stats file. */
  stats(): Record<string, unknown>;
  /** Optional: refreshes counters kept elsewhere (the udp backend's native proxy) before stats(). */
  refreshStats?(): Promise<void>;
  /** Stops userspace work. Never removes kernel state (traffic keeps flowing, like flannel). */
  stop(): Promise<void>;
}
