// Where kube-proxy's rules turn a packet for a Service into a packet for a pod, from what the
// node's kernel holds (its iptables-save -c or its nft table, read by the trace's snapshot):
// which Service the destination is, which endpoint a walk follows (one of N, each with the
// probability the rules give it), whether the packet is marked for masquerade on the way out
// (from outside the cluster CIDR, a pod reaching itself, or a NodePort), or whether the Service
// has no endpoints and the rules refuse it. Pure.
import { cidrContains } from '../shared/ipv4.js';
import type { NamespaceState } from './kernel-snapshot.js';
import { frontendFor, programmedFromIptables, programmedFromNftJson, type ProgrammedEndpoint, type ProgrammedRules, type ProgrammedService, type RefusedFrontend } from './programmed-services.js';

const cache = new WeakMap<NamespaceState, ProgrammedRules | null>();

/** The Services a namespace's kernel holds (none: undefined). */
export function programmedIn(state: NamespaceState): ProgrammedRules | undefined {
  let rules = cache.get(state);
  if (rules === undefined) {
    rules = null;
    if (state.nft && state.nft.startsWith('{')) {
      try {
        rules = programmedFromNftJson(state.nft);
      } catch {
        rules = null;
      }
    }
    if (!rules && /KUBE-SERVICES/.test(state.iptables)) rules = programmedFromIptables(state.iptables);
    if (rules && rules.services.length === 0 && rules.refused.length === 0) rules = null;
    cache.set(state, rules);
  }
  return rules ?? undefined;
}

export interface PacketToTranslate {
  src: string;
  dst: string;
  proto: 'icmp' | 'udp' | 'tcp';
  dstPort?: number;
}

export type ServiceStep =
  | {
      kind: 'dnat';
      /** The namespace whose rules translated it. */
      ns: string;
      mode: 'iptables' | 'nftables';
      service: ProgrammedService;
      via: 'address' | 'nodePort';
      /** The endpoint this walk follows, its place among them, and its share of new flows. */
      endpoint: ProgrammedEndpoint;
      index: number;
      of: number;
      /** Marked by KUBE-MARK-MASQ (or mark-for-masquerade) and masqueraded as it leaves the node
       * (false when marked but KUBE-POSTROUTING has no MASQUERADE rule). */
      masquerade: boolean;
      /** Why the rules mark it, when they do. */
      why?: string;
    }
  | { kind: 'refused'; ns: string; mode: 'iptables' | 'nftables'; refused: RefusedFrontend };

/** What the rules in `ns` do to a new flow; `choice` picks the endpoint a walk follows. */
export function translate(state: NamespaceState, ns: string, packet: PacketToTranslate, localAddresses: string[], clusterCIDR: string | undefined, choice = 0): ServiceStep | undefined {
  if (packet.proto === 'icmp' || packet.dstPort === undefined) return undefined;
  const rules = programmedIn(state);
  if (!rules) return undefined;
  const front = frontendFor(rules, packet.dst, packet.dstPort, packet.proto, localAddresses);
  if (!front) return undefined;
  if (front.kind === 'refused') return { kind: 'refused', ns, mode: rules.mode, refused: front.refused };
  const endpoints = front.service.endpoints;
  if (endpoints.length === 0) return undefined;
  const index = Math.min(Math.max(0, choice), endpoints.length - 1);
  const endpoint = endpoints[index]!;
  const endpointIp = endpoint.destination.split(':')[0]!;
  let why: string | undefined;
  const iptables = rules.mode === 'iptables';
  if (front.via === 'nodePort') why = `it came in through a NodePort: traffic from outside is masqueraded (${iptables ? 'KUBE-EXT-… → KUBE-MARK-MASQ' : 'external-… → mark-for-masquerade'})`;
  else if (endpointIp === packet.src) why = `the pod reaches itself (hairpin: ${iptables ? 'KUBE-SEP-…' : 'endpoint-…'} marks a flow from its own address)`;
  else if (clusterCIDR && !cidrContains(clusterCIDR, packet.src)) why = `its source ${packet.src} is outside the cluster CIDR ${clusterCIDR}`;
  // The mark does something only where KUBE-POSTROUTING still masquerades what carries it.
  const snat = !iptables || /^(?:\[\d+:\d+\] )?-A KUBE-POSTROUTING\b.*-j MASQUERADE\b/m.test(state.iptables);
  return { kind: 'dnat', ns, mode: rules.mode, service: front.service, via: front.via, endpoint, index, of: endpoints.length, masquerade: why !== undefined && snat, ...(why ? { why } : {}) };
}
