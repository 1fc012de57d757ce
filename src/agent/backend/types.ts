import type { AgentConfig } from '../config.js';
import type { Ip4Net } from '../../shared/ipv4.js';
import type { CommandRunner } from '../kernel.js';
import type { BackendType, NetworkConfig } from '../../shared/flannel-lease.js';
import type { PeerLease } from '../lease-rules.js';
import type { Logger } from '../log.js';

export interface BackendDeps {
  cfg: AgentConfig;
  net: NetworkConfig;
  runner: CommandRunner;
  log: Logger;
}

/** full: read the kernel and diff; incremental: diff against what the last sync left. */
export type SyncMode = 'full' | 'incremental';

export interface SyncResult {
  /** Entries added, replaced or removed. */
  changed: number;
  /** Commands that failed. */
  failed: number;
  /** Processes started (reads and batches). */
  processes: number;
  /** The commands the kernel refused, with its words (e.g. host-gw across segments:
   * "Nexthop has invalid gateway"). */
  refused?: KernelRefusal[];
}

export interface KernelRefusal {
  command: string;
  error: string;
}

export interface Backend {
  readonly type: BackendType;
  /** Device name the backend owns (flannel.1, flannel0) or null (host-gw). */
  readonly device: string | null;
  /** Creates or reuses the device; returns the lease's BackendData (vxlan: VNI + VtepMAC). */
  prepare(): Promise<Record<string, unknown>>;
  /** Configures the device for this host's subnet (MTU, <subnet>.0/32, up, whole-network routes). */
  configure(subnet: Ip4Net): Promise<void>;
  /** Converges peer state to exactly these peers (accepted leases of other hosts). */
  syncPeers(peers: readonly PeerLease[], mode: SyncMode): Promise<SyncResult>;
  /** Backend-specific counters for the stats file. */
  stats(): Record<string, unknown>;
  /** Optional: refreshes counters kept elsewhere (the udp backend's native proxy) before stats(). */
  refreshStats?(): Promise<void>;
  /** Stops userspace work. Never removes kernel state (traffic keeps flowing, like flannel). */
  stop(): Promise<void>;
}
