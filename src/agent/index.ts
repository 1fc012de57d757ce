// Public API of the agent's pure parts, for the overlab CLI (static control plane, --dry-run,
// writing <prefix>/config, reading subnet.env). Everything here is deterministic and side-effect free,
// except the etcd client classes, which only act when called.

export * from './ip4.js';
export * from './lease.js';
export * from './peer-state.js';
export * from './subnet-env.js';
export { type AgentConfig, ConfigError, parseAgentConfig, validateAgentConfig } from './config.js';
export * from './packet.js';
export { decideTunPacket, decideUdpPacket, type Endpoint, type ForwardContext, type TunDecision, type UdpDecision } from './backend/udp-forward.js';
export { parseFdb, parseLink, parseNeighbours, parseRoutes, actualPeerState, type LinkInfo } from './kernel-state.js';
export type { EtcdClient, KeyValue, RangeResult, WatchEvent, Compare, TxnOp, TxnResult } from './etcd/types.js';
export { HttpEtcdClient } from './etcd/http.js';
export { MemoryEtcd } from './etcd/memory.js';
export { SubnetRegistry, type OwnLease, type AcquireRequest } from './registry.js';
