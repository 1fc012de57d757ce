// The agent's stats file (/run/overlab/agent-stats.json): the one definition of its format. The
// agent writes it (stats-writer.ts); the overlab CLI reads it (waiting for agents, verify) with
// parseAgentStats. Pure and dependency-free, so both sides import this file.

/** Why a lease read from etcd was not programmed (see lease-rules.ts). */
export type LeaseRejectionCode =
  /** The key is not `<prefix>/subnets/<a.b.c.d>-<len>` in flannel's canonical form. */
  | 'key'
  /** The value is not a JSON object. */
  | 'value'
  /** The subnet is not a SubnetLen subnet of Network. */
  | 'subnet'
  /** The subnet overlaps this host's subnet or another accepted lease. */
  | 'overlap'
  /** PublicIP is not an underlay address (or not an IPv4 unicast address at all). */
  | 'public-ip'
  /** PublicIP is this host's own address: a stale lease of this host. */
  | 'own-ip'
  /** BackendType differs from the network's backend. */
  | 'backend-type'
  /** BackendData.VNI differs from the network's VNI. */
  | 'vni'
  /** BackendData.VtepMAC is missing or not a unicast MAC address. */
  | 'vtep-mac';

export interface RejectedLeaseStats {
  /** The etcd key as read (untrusted text; JSON-escaped when printed). */
  key: string;
  code: LeaseRejectionCode;
  /** One sentence for a person, e.g. `PublicIP "8.8.8.8" is outside the underlay 192.168.50.0/24`. */
  reason: string;
  /** The etcd mod revision of the rejected value. */
  modRevision: number;
}

export interface PeerStats {
  subnet: string;
  publicIp: string;
  backendType: string;
}

export interface OwnLeaseStats {
  key: string;
  /** The etcd lease id (int64 as a decimal string). */
  etcdLease: string;
  ttlSeconds: number;
  renewals: number;
  /** How often the agent rewrote its own lease after finding it changed, unreadable or gone. */
  rewrites: number;
}

export interface PeerSyncStats {
  /** Syncs run (each reads or diffs kernel state once and applies one batch). */
  syncs: number;
  fullSyncs: number;
  /** Kernel entries added, replaced or removed over all syncs. */
  changes: number;
  /** Kernel commands that failed over all syncs. */
  failures: number;
  /** Processes (`ip`, `bridge`) started over all syncs. */
  processes: number;
  lastDurationMs: number | null;
  lastAt: string | null;
  /** True when the last sync applied everything it wanted and no other sync is queued. */
  inSync: boolean;
  /** The commands the kernel refused in the last sync, with its own words, e.g.
   * `{"command":"ip route replace 10.244.3.0/24 via 192.168.60.2 dev eth0","error":"Error: Nexthop has invalid gateway."}`. */
  refused?: { command: string; error: string }[];
}

export interface EventLoopDelayStats {
  mean: number;
  p50: number;
  p99: number;
  max: number;
  samples: number;
  maxSinceStart: number;
}

export interface AgentStats {
  host: string;
  pid: number;
  startedAt: string;
  updatedAt: string;
  backend: string | null;
  publicIp: string;
  /** This host's lease subnet, e.g. "10.244.1.0/24"; null until acquired. */
  subnet: string | null;
  lease: OwnLeaseStats | null;
  etcd: { reachable: boolean; watching: boolean; lastRevision: number };
  /** The peer leases the agent accepted and programs. */
  peers: PeerStats[];
  /** The leases it refused, each with its reason (also logged once). */
  rejectedLeases: RejectedLeaseStats[];
  peerSync: PeerSyncStats;
  /** Event-loop delay since the previous write (ms beyond the sampling tick), and the worst since start. */
  eventLoopDelayMs: EventLoopDelayStats | null;
  /** Backend-specific counters. */
  device: Record<string, unknown>;
  /** udp only: the packets moved each way, and drops for subnets nobody leases. */
  packets?: { tunToUdp: number; udpToTun: number; unknownSubnetDrops: number };
  /** udp only: who moves the packets. */
  dataPath?: 'native' | 'node';
  /** udp only: the pid of the process that moves the packets when it is not the agent (udp-proxy), else null. */
  dataPathPid?: number | null;
}

/**
 * Reads a stats file's text. Tolerant of older agents (missing fields stay missing), strict about
 * the shape: anything that is not a JSON object gives null.
 */
export function parseAgentStats(text: string): Partial<AgentStats> | null {
  if (text.trim() === '') return null;
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return null;
  return j as Partial<AgentStats>;
}
