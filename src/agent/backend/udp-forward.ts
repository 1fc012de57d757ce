// The udp backend's per-packet decisions, PURE (flannel's proxy.c in TypeScript):
//   TUN -> UDP: find the owner of the destination subnet; unknown subnet inside the network gets
//               an ICMP destination-net-unreachable written back into the TUN.
//   UDP -> TUN: sanity-check, decrement TTL (drop at TTL <= 1, answering time-exceeded), fix the
//               header checksum, write into the TUN.

import { type Ip4Net, netContains } from '../../shared/ipv4.js';
import { SubnetTable, buildNetUnreachable, buildTimeExceeded, decrementTtl, ipv4Dst, isIcmpError, isIpv4 } from '../packet.js';

export interface Endpoint {
  address: string;
  port: number;
}

export type TunDecision =
  | { action: 'send'; to: Endpoint }
  | { action: 'reply'; packet: Uint8Array; reason: 'unknown-subnet' }
  | { action: 'drop'; reason: 'malformed' | 'unknown-subnet' | 'outside-network' | 'local' };

export interface ForwardContext {
  network: Ip4Net;
  /** This host's lease subnet. */
  self: Ip4Net;
  /** `<subnet>.0`, the source of ICMP errors the agent generates. */
  selfAddr: number;
  table: SubnetTable<Endpoint>;
}

export function decideTunPacket(ctx: ForwardContext, pkt: Uint8Array): TunDecision {
  if (!isIpv4(pkt)) return { action: 'drop', reason: 'malformed' };
  const dst = ipv4Dst(pkt);
  if (!netContains(ctx.network, dst)) return { action: 'drop', reason: 'outside-network' };
  if (netContains(ctx.self, dst)) return { action: 'drop', reason: 'local' };
  const to = ctx.table.lookup(dst);
  if (to) return { action: 'send', to };
  if (isIcmpError(pkt)) return { action: 'drop', reason: 'unknown-subnet' };
  return { action: 'reply', packet: buildNetUnreachable(pkt, ctx.selfAddr), reason: 'unknown-subnet' };
}

export type UdpDecision =
  | { action: 'write' }
  | { action: 'reply'; packet: Uint8Array; reason: 'ttl' }
  | { action: 'drop'; reason: 'malformed' | 'ttl' | 'not-ours' };

/** Mutates `pkt` (TTL, checksum) when the decision is 'write'. */
export function decideUdpPacket(ctx: ForwardContext, pkt: Uint8Array): UdpDecision {
  if (!isIpv4(pkt)) return { action: 'drop', reason: 'malformed' };
  if (!netContains(ctx.network, ipv4Dst(pkt))) return { action: 'drop', reason: 'not-ours' };
  if (!decrementTtl(pkt)) {
    if (isIcmpError(pkt)) return { action: 'drop', reason: 'ttl' };
    return { action: 'reply', packet: buildTimeExceeded(pkt, ctx.selfAddr), reason: 'ttl' };
  }
  return { action: 'write' };
}
