// kube-proxy's nftables mode (pkg/proxy/nftables/proxier.go), as the `nft -f` text of a full
// sync: table `ip kube-proxy`, the `service-ips` verdict map keyed `ip daddr . meta l4proto .
// th dport`, per-Service chains choosing an endpoint with `numgen random mod N vmap`, `dnat to` in
// the endpoint chains, REJECT through `no-endpoint-services` for a Service without endpoints. The
// text is the object list kube-proxy's own tests compare (table, sets, maps, chains, rules,
// elements), which `nft -f` loads as one transaction. IPv4 only. Pure.
import { endpointString, nftEndpointChainBase, nftServiceChainBase, servicePortNameString } from './kube-proxy-names.js';
import {
  categorizeEndpoints,
  externalPolicyLocal,
  internalPolicyLocal,
  serviceExternallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
  type ProxierSettings,
  type ProxyEndpoint,
  type ProxyServicePort,
} from './kube-proxy-model.js';

export const NFT_TABLE = 'kube-proxy';
export const NFT_SERVICE_IPS = 'service-ips';
export const NFT_SERVICE_NODEPORTS = 'service-nodeports';
export const NFT_NO_ENDPOINT_SERVICES = 'no-endpoint-services';
export const NFT_NO_ENDPOINT_NODEPORTS = 'no-endpoint-nodeports';
export const NFT_REJECT_CHAIN = 'reject-chain';
export const NFT_MARK_MASQ = 'mark-for-masquerade';

/** kube-proxy loads its transaction through `nft -f -`; the text comes on stdin. */
export const NFT_LOAD_ARGV = ['nft', '-f', '-'];

const T = `ip ${NFT_TABLE}`;

export interface NftChains {
  service: string;
  local: string;
  external: string;
  firewall: string;
}

export function nftServiceChains(svc: ProxyServicePort): NftChains {
  const base = nftServiceChainBase(svc.name, svc.protocol);
  return { service: `service-${base}`, local: `local-${base}`, external: `external-${base}`, firewall: `firewall-${base}` };
}

export function nftEndpointChain(svc: ProxyServicePort, ep: ProxyEndpoint): string {
  return `endpoint-${nftEndpointChainBase(svc.name, svc.protocol, ep.ip, ep.port)}`;
}

function nftAffinitySet(svc: ProxyServicePort, ep: ProxyEndpoint): string {
  return `affinity-${nftEndpointChainBase(svc.name, svc.protocol, ep.ip, ep.port)}`;
}

/** The setup every sync starts from (setupNFTables): base chains, jump chains, sets and maps. */
function baseObjects(settings: ProxierSettings, out: NftText): void {
  const mark = settings.masqueradeMark;
  out.table.push(`add table ${T} { comment "rules for kube-proxy" ; }`);
  out.sets.push(
    `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
  );
  out.maps.push(
    `add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${T} ${NFT_NO_ENDPOINT_NODEPORTS} { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${T} ${NFT_NO_ENDPOINT_SERVICES} { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${T} ${NFT_SERVICE_IPS} { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${T} ${NFT_SERVICE_NODEPORTS} { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
  );
  out.chains.push(
    `add chain ${T} cluster-ips-check`,
    `add chain ${T} filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }`,
    `add chain ${T} filter-output-pre-dnat { type filter hook output priority -110 ; }`,
    `add chain ${T} filter-forward { type filter hook forward priority 0 ; }`,
    `add chain ${T} filter-input { type filter hook input priority 0 ; }`,
    `add chain ${T} filter-output { type filter hook output priority 0 ; }`,
    `add chain ${T} firewall-check`,
    `add chain ${T} ${NFT_MARK_MASQ}`,
    `add chain ${T} masquerading`,
    `add chain ${T} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${T} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    `add chain ${T} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ${T} nodeport-endpoints-check`,
    `add chain ${T} ${NFT_REJECT_CHAIN} { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
    `add chain ${T} services`,
    `add chain ${T} service-endpoints-check`,
  );
  const cidrs = settings.serviceCIDRs.join(', ');
  out.rules.push(
    `add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    ...(cidrs ? [`add rule ${T} cluster-ips-check ip daddr { ${cidrs} } drop comment "Drop traffic to unallocated ClusterIPs"`] : []),
    `add rule ${T} filter-prerouting-pre-dnat ct state new jump firewall-check`,
    `add rule ${T} filter-forward ct state new jump service-endpoints-check`,
    `add rule ${T} filter-forward ct state new jump cluster-ips-check`,
    `add rule ${T} filter-input ct state new jump nodeport-endpoints-check`,
    `add rule ${T} filter-input ct state new jump service-endpoints-check`,
    `add rule ${T} filter-output ct state new jump service-endpoints-check`,
    `add rule ${T} filter-output-pre-dnat ct state new jump firewall-check`,
    `add rule ${T} filter-output ct state new jump cluster-ips-check`,
    `add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`,
    `add rule ${T} ${NFT_MARK_MASQ} mark set mark or ${mark}`,
    `add rule ${T} masquerading mark and ${mark} == 0 return`,
    `add rule ${T} masquerading mark set mark xor ${mark}`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add rule ${T} nat-output jump services`,
    `add rule ${T} nat-postrouting jump masquerading`,
    `add rule ${T} nat-prerouting jump services`,
    `add rule ${T} nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @${NFT_NO_ENDPOINT_NODEPORTS}`,
    `add rule ${T} ${NFT_REJECT_CHAIN} reject`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @${NFT_SERVICE_IPS}`,
    `add rule ${T} services ip daddr @nodeport-ips meta l4proto . th dport vmap @${NFT_SERVICE_NODEPORTS}`,
    `add rule ${T} service-endpoints-check ip daddr . meta l4proto . th dport vmap @${NFT_NO_ENDPOINT_SERVICES}`,
  );
  for (const ip of settings.nodePortIPs) out.elements.push(`add element ${T} nodeport-ips { ${ip} }`);
}

/** The objects of one transaction, kept by kind so they load in an order nft accepts. */
interface NftText {
  table: string[];
  sets: string[];
  maps: string[];
  chains: string[];
  rules: string[];
  elements: string[];
}

/** The `nft -f` text kube-proxy's full sync amounts to for these Service ports on this node. */
export function nftablesRulesText(settings: ProxierSettings, services: ProxyServicePort[]): string {
  const out: NftText = { table: [], sets: [], maps: [], chains: [], rules: [], elements: [] };
  baseObjects(settings, out);
  const rule = (chain: string, text: string) => out.rules.push(`add rule ${T} ${chain} ${text}`);
  const chain = (name: string) => out.chains.push(`add chain ${T} ${name}`);
  const element = (map: string, key: string, value?: string, comment?: string) =>
    out.elements.push(`add element ${T} ${map} { ${key}${comment !== undefined ? ` comment "${comment}"` : ''}${value !== undefined ? ` : ${value}` : ''} }`);
  const ifLocal = settings.clusterCIDR ? `ip saddr ${settings.clusterCIDR}` : undefined;
  const ifNotLocal = settings.clusterCIDR ? `ip saddr != ${settings.clusterCIDR}` : undefined;

  for (const svc of services) {
    const protocol = svc.protocol;
    const name = servicePortNameString(svc.name);
    const chains = nftServiceChains(svc);
    const { cluster, local, reachable, hasAny } = categorizeEndpoints(svc, settings.nodeName);

    for (const ep of reachable) chain(nftEndpointChain(svc, ep));
    const usesClusterChain = cluster.length > 0 && usesClusterEndpoints(svc);
    if (usesClusterChain) chain(chains.service);
    const usesLocalChain = local.length > 0 && usesLocalEndpoints(svc);
    if (usesLocalChain) chain(chains.local);

    let internalChain = chains.service;
    let hasInternal = hasAny;
    if (internalPolicyLocal(svc)) {
      internalChain = chains.local;
      if (local.length === 0) hasInternal = false;
    }
    let externalPolicyChain = chains.service;
    let hasExternal = hasAny;
    if (externalPolicyLocal(svc)) {
      externalPolicyChain = chains.local;
      if (local.length === 0) hasExternal = false;
    }
    const usesExternalChain = hasAny && serviceExternallyAccessible(svc);
    if (usesExternalChain) chain(chains.external);

    let internalVerdict = '';
    let externalVerdict = '';
    if (!hasAny) {
      internalVerdict = `goto ${NFT_REJECT_CHAIN}`;
      externalVerdict = `goto ${NFT_REJECT_CHAIN}`;
    } else {
      if (!hasInternal) internalVerdict = 'drop';
      if (!hasExternal) externalVerdict = 'drop';
    }

    const key = (ip: string, port: number) => `${ip} . ${protocol} . ${port}`;
    element('cluster-ips', svc.clusterIP);
    if (hasInternal) element(NFT_SERVICE_IPS, key(svc.clusterIP, svc.port), `goto ${internalChain}`);
    else element(NFT_NO_ENDPOINT_SERVICES, key(svc.clusterIP, svc.port), internalVerdict, name);

    for (const externalIP of svc.externalIPs ?? []) {
      if (hasAny) element(NFT_SERVICE_IPS, key(externalIP, svc.port), `goto ${chains.external}`);
      if (!hasExternal) element(NFT_NO_ENDPOINT_SERVICES, key(externalIP, svc.port), externalVerdict, name);
    }

    const lbIPs = svc.loadBalancerIPs ?? [];
    const usesFirewallChain = lbIPs.length > 0 && (svc.loadBalancerSourceRanges?.length ?? 0) > 0;
    if (usesFirewallChain) chain(chains.firewall);
    for (const lbIP of lbIPs) {
      if (hasAny) element(NFT_SERVICE_IPS, key(lbIP, svc.port), `goto ${chains.external}`);
      if (usesFirewallChain) element('firewall-ips', key(lbIP, svc.port), `goto ${chains.firewall}`);
    }
    if (!hasExternal) for (const lbIP of lbIPs) element(NFT_NO_ENDPOINT_SERVICES, key(lbIP, svc.port), externalVerdict, name);

    const nodePort = svc.nodePort ?? 0;
    if (nodePort !== 0) {
      if (hasAny) element(NFT_SERVICE_NODEPORTS, `${protocol} . ${nodePort}`, `goto ${chains.external}`);
      if (!hasExternal) element(NFT_NO_ENDPOINT_NODEPORTS, `${protocol} . ${nodePort}`, externalVerdict, name);
    }

    if (hasInternal) {
      if (settings.masqueradeAll) rule(internalChain, `ip daddr ${svc.clusterIP} jump ${NFT_MARK_MASQ}`);
      else if (ifNotLocal) rule(internalChain, `ip daddr ${svc.clusterIP} ${ifNotLocal} jump ${NFT_MARK_MASQ}`);
    }

    if (usesExternalChain) {
      if (!externalPolicyLocal(svc)) {
        rule(chains.external, `jump ${NFT_MARK_MASQ}`);
      } else {
        if (ifLocal) rule(chains.external, `${ifLocal} goto ${chains.service} comment "short-circuit pod traffic"`);
        rule(chains.external, `fib saddr type local jump ${NFT_MARK_MASQ} comment "masquerade local traffic"`);
        rule(chains.external, `fib saddr type local goto ${chains.service} comment "short-circuit local traffic"`);
      }
      if (hasExternal) rule(chains.external, `goto ${externalPolicyChain}`);
    }

    if (usesFirewallChain) {
      const sources = (svc.loadBalancerSourceRanges ?? []).map((s) => s.trim());
      rule(chains.firewall, `ip saddr != { ${sources.join(', ')} } drop`);
    }

    if (svc.affinitySeconds !== undefined) {
      for (const ep of reachable) {
        out.sets.push(`add set ${T} ${nftAffinitySet(svc, ep)} { type ipv4_addr ; flags dynamic,timeout ; timeout ${svc.affinitySeconds}s ; }`);
      }
    }

    if (usesClusterChain) writeServiceToEndpointRules(rule, svc, chains.service, cluster);
    if (usesLocalChain) writeServiceToEndpointRules(rule, svc, chains.local, local);

    for (const ep of reachable) {
      const epChain = nftEndpointChain(svc, ep);
      rule(epChain, `ip saddr ${ep.ip} jump ${NFT_MARK_MASQ}`);
      if (svc.affinitySeconds !== undefined) rule(epChain, `update @${nftAffinitySet(svc, ep)} { ip saddr }`);
      rule(epChain, `meta l4proto ${protocol} dnat to ${endpointString(ep.ip, ep.port)}`);
    }
  }

  return [...out.table, ...out.sets, ...out.maps, ...out.chains, ...out.rules, ...out.elements, ''].join('\n');
}

function writeServiceToEndpointRules(
  rule: (chain: string, text: string) => void,
  svc: ProxyServicePort,
  svcChain: string,
  endpoints: ProxyEndpoint[],
): void {
  if (svc.affinitySeconds !== undefined) {
    for (const ep of endpoints) rule(svcChain, `ip saddr @${nftAffinitySet(svc, ep)} goto ${nftEndpointChain(svc, ep)}`);
  }
  const choices = endpoints.map((ep, i) => `${i} : goto ${nftEndpointChain(svc, ep)}`).join(' , ');
  rule(svcChain, `numgen random mod ${endpoints.length} vmap { ${choices} }`);
}
