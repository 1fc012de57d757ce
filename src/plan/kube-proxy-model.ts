// What kube-proxy knows when it writes a node's rules: the Service ports (with their endpoints)
// and its own settings. The same input drives the iptables and the nftables layout, as the same
// Service and EndpointSlice objects drive both proxiers. Pure.
import { endpointString, type Protocol, type ServicePortName } from './kube-proxy-names.js';

export type TrafficPolicy = 'Cluster' | 'Local';

export interface ProxyEndpoint {
  ip: string;
  /** The port the endpoint listens on (the Service port's targetPort, resolved). */
  port: number;
  /** The node the endpoint's pod runs on (an endpoint on this proxier's node is "local"). */
  nodeName?: string;
  ready: boolean;
}

export interface ProxyServicePort {
  name: ServicePortName;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 or absent: no NodePort. */
  nodePort?: number;
  externalIPs?: string[];
  /** The load-balancer ingress IPs (status.loadBalancer.ingress). */
  loadBalancerIPs?: string[];
  loadBalancerSourceRanges?: string[];
  externalTrafficPolicy?: TrafficPolicy;
  internalTrafficPolicy?: TrafficPolicy;
  /** sessionAffinity: ClientIP with this timeout; absent: no affinity. */
  affinitySeconds?: number;
  /** Honoured only with externalTrafficPolicy Local, as kube-proxy does. */
  healthCheckNodePort?: number;
  endpoints: ProxyEndpoint[];
}

export interface ProxierSettings {
  nodeName: string;
  nodeIP: string;
  /** The local-traffic detector's CIDR (--cluster-cidr); absent: not implemented. */
  clusterCIDR?: string;
  masqueradeAll: boolean;
  /** "0x4000" for --masquerade-bit 14. */
  masqueradeMark: string;
  /** iptables: NodePorts on 127.0.0.0/8 (--iptables-localhost-nodeports). */
  localhostNodePorts: boolean;
  /** iptables: MASQUERADE --random-fully (when the iptables binary supports it). */
  randomFully: boolean;
  /** iptables: the nfacct counters kube-proxy could create (none when the kernel has no nfacct). */
  nfacctCounters: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal set: no DROP of INVALID packets. */
  conntrackTCPLiberal: boolean;
  /** nftables: the Service CIDRs (unallocated ClusterIPs are dropped). */
  serviceCIDRs: string[];
  /** nftables: the addresses that accept NodePort traffic (--nodeport-addresses primary). */
  nodePortIPs: string[];
}

export const MASQUERADE_MARK = '0x4000';

/** kube-proxy switches to "large cluster mode" (no comments on endpoint rules) above this. */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

export function serviceExternallyAccessible(svc: ProxyServicePort): boolean {
  return (svc.nodePort ?? 0) !== 0 || (svc.externalIPs?.length ?? 0) > 0 || (svc.loadBalancerIPs?.length ?? 0) > 0;
}

const externalPolicyLocal = (svc: ProxyServicePort) => serviceExternallyAccessible(svc) && svc.externalTrafficPolicy === 'Local';
const internalPolicyLocal = (svc: ProxyServicePort) => svc.internalTrafficPolicy === 'Local';

export function usesClusterEndpoints(svc: ProxyServicePort): boolean {
  return !internalPolicyLocal(svc) || (serviceExternallyAccessible(svc) && !externalPolicyLocal(svc));
}

export function usesLocalEndpoints(svc: ProxyServicePort): boolean {
  return internalPolicyLocal(svc) || externalPolicyLocal(svc);
}

export { externalPolicyLocal, internalPolicyLocal };

/** kube-proxy keeps a Service's endpoints sorted by their "ip:port" text. */
export function sortedEndpoints(endpoints: ProxyEndpoint[]): ProxyEndpoint[] {
  const key = (e: ProxyEndpoint) => endpointString(e.ip, e.port);
  return [...endpoints].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export interface EndpointCategories {
  cluster: ProxyEndpoint[];
  local: ProxyEndpoint[];
  /** Every endpoint this node may route to, given the Service's policies. */
  reachable: ProxyEndpoint[];
  /** Any ready endpoint anywhere in the cluster. */
  hasAny: boolean;
}

/** kube-proxy's CategorizeEndpoints, for ready endpoints (no topology hints, no terminating ones). */
export function categorizeEndpoints(svc: ProxyServicePort, nodeName: string): EndpointCategories {
  const endpoints = sortedEndpoints(svc.endpoints);
  const ready = endpoints.filter((e) => e.ready);
  const cluster = usesClusterEndpoints(svc) ? ready : [];
  const hasAny = ready.length > 0;
  if (!usesLocalEndpoints(svc)) return { cluster, local: [], reachable: cluster, hasAny };
  const local = ready.filter((e) => e.nodeName === nodeName);
  if (!usesClusterEndpoints(svc)) return { cluster, local, reachable: local, hasAny };
  const seen = new Set<string>();
  const reachable = sortedEndpoints([...cluster, ...local].filter((e) => {
    const key = endpointString(e.ip, e.port);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }));
  return { cluster, local, reachable, hasAny };
}

export function totalEndpoints(services: ProxyServicePort[]): number {
  return services.reduce((sum, svc) => sum + svc.endpoints.length, 0);
}
