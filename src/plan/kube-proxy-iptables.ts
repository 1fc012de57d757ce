// kube-proxy's iptables mode, as text: the `iptables-restore --noflush --counters` input its
// syncProxyRules writes (pkg/proxy/iptables/proxier.go), and the jump rules it first puts in the
// built-in chains with `iptables -I`. The same chains, hashed names, comments, `statistic`
// probabilities (printed %0.10f), REJECT for a Service without endpoints, and the same large-
// cluster mode. Services are written in the order given (kube-proxy walks a Go map: its order is
// arbitrary, which is why its own tests sort both sides before comparing). Pure.
import {
  endpointString,
  iptablesEndpointChain,
  iptablesServiceChains,
  servicePortNameString,
} from './kube-proxy-names.js';
import {
  categorizeEndpoints,
  externalPolicyLocal,
  internalPolicyLocal,
  LARGE_CLUSTER_ENDPOINTS,
  serviceExternallyAccessible,
  totalEndpoints,
  usesClusterEndpoints,
  usesLocalEndpoints,
  type ProxierSettings,
  type ProxyEndpoint,
  type ProxyServicePort,
} from './kube-proxy-model.js';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

/** The nfacct counters kube-proxy counts with (pkg/proxy/metrics). */
export const NFACCT_INVALID_DROPPED = 'ct_state_invalid_dropped_pkts';
export const NFACCT_LOCALHOST_NODEPORTS = 'localhost_nps_accepted_pkts';

/** The wait flags kube-proxy passes iptables and iptables-restore (iptables ≥ 1.6.2). */
export const IPTABLES_WAIT = ['-w', '5', '-W', '100000'];

/** kube-proxy's restore invocation; the rules come on stdin. */
export const IPTABLES_RESTORE_ARGV = ['iptables-restore', ...IPTABLES_WAIT, '--noflush', '--counters'];

/** The probability of endpoint i of n: 1/(n−i), printed as kube-proxy prints it. */
export function probability(remaining: number): string {
  return (1 / remaining).toFixed(10);
}

/** The probability each endpoint is chosen with, from the chain's own per-rule probabilities:
 * rule i fires with p_i among what reached it, so endpoint i gets p_i × Π_{j<i} (1 − p_j). The
 * last rule has no statistic match (p = 1). */
export function endpointProbabilities(ruleProbabilities: number[]): number[] {
  let remaining = 1;
  return ruleProbabilities.map((p) => {
    const share = remaining * p;
    remaining *= 1 - p;
    return share;
  });
}

interface JumpChain {
  table: 'filter' | 'nat';
  dst: string;
  src: string;
  comment: string;
  extra: string[];
}

const CT_NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

/** iptablesJumpChains, then iptablesKubeletJumpChains, in kube-proxy's order. */
const JUMP_CHAINS: JumpChain[] = [
  { table: 'filter', dst: KUBE_EXTERNAL_SERVICES, src: 'INPUT', comment: 'kubernetes externally-visible service portals', extra: CT_NEW },
  { table: 'filter', dst: KUBE_EXTERNAL_SERVICES, src: 'FORWARD', comment: 'kubernetes externally-visible service portals', extra: CT_NEW },
  { table: 'filter', dst: KUBE_NODEPORTS, src: 'INPUT', comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', dst: KUBE_SERVICES, src: 'FORWARD', comment: 'kubernetes service portals', extra: CT_NEW },
  { table: 'filter', dst: KUBE_SERVICES, src: 'OUTPUT', comment: 'kubernetes service portals', extra: CT_NEW },
  { table: 'filter', dst: KUBE_FORWARD, src: 'FORWARD', comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', dst: KUBE_PROXY_FIREWALL, src: 'INPUT', comment: 'kubernetes load balancer firewall', extra: CT_NEW },
  { table: 'filter', dst: KUBE_PROXY_FIREWALL, src: 'OUTPUT', comment: 'kubernetes load balancer firewall', extra: CT_NEW },
  { table: 'filter', dst: KUBE_PROXY_FIREWALL, src: 'FORWARD', comment: 'kubernetes load balancer firewall', extra: CT_NEW },
  { table: 'nat', dst: KUBE_SERVICES, src: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', dst: KUBE_SERVICES, src: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', dst: KUBE_POSTROUTING, src: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
  { table: 'filter', dst: KUBE_FIREWALL, src: 'INPUT', comment: '', extra: [] },
  { table: 'filter', dst: KUBE_FIREWALL, src: 'OUTPUT', comment: '', extra: [] },
];

export interface JumpRule {
  table: 'filter' | 'nat';
  chain: string;
  /** The rule's words after the chain, as argv. */
  args: string[];
}

/** The rules kube-proxy prepends (`iptables -I`, each once) so the built-in chains reach its own;
 * applied in this order they end up in kube-proxy's order. Its chains must exist first. */
export function iptablesJumpRules(): JumpRule[] {
  return JUMP_CHAINS.map((j) => ({
    table: j.table,
    chain: j.src,
    args: [...j.extra, ...(j.comment ? ['-m', 'comment', '--comment', j.comment] : []), '-j', j.dst],
  }));
}

/** The chains the jump rules need before the restore runs (kube-proxy's EnsureChain). */
export function iptablesJumpTargets(): { table: 'filter' | 'nat'; chain: string }[] {
  const seen = new Set<string>();
  const out: { table: 'filter' | 'nat'; chain: string }[] = [];
  for (const j of JUMP_CHAINS) {
    if (seen.has(`${j.table}/${j.dst}`)) continue;
    seen.add(`${j.table}/${j.dst}`);
    out.push({ table: j.table, chain: j.dst });
  }
  return out;
}

/** `iptables` argv, with kube-proxy's wait flags, for one jump rule. */
export function jumpRuleArgv(rule: JumpRule): string[] {
  return ['iptables', ...IPTABLES_WAIT, '-t', rule.table, '-I', rule.chain, ...rule.args];
}

/** One line of restore input: words joined by spaces, as kube-proxy's LineBuffer writes them. */
class Lines {
  readonly lines: string[] = [];
  write(...words: (string | string[])[]): void {
    this.lines.push(words.flat().join(' '));
  }
}

const chainLine = (chain: string) => `:${chain} - [0:0]`;
const quoted = (text: string) => `"${text}"`;

/** The restore text kube-proxy writes for these Service ports on this node (a full sync).
 * `staleChains`: Service chains the node still holds that this sync no longer uses; kube-proxy
 * flushes and deletes them (a chain line, then `-X`). */
export function iptablesRestoreText(settings: ProxierSettings, services: ProxyServicePort[], staleChains: readonly string[] = []): string {
  const filterChains = new Lines();
  const filterRules = new Lines();
  const natChains = new Lines();
  const natRules = new Lines();
  const mark = settings.masqueradeMark;

  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) filterChains.write(chainLine(c));
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) natChains.write(chainLine(c));

  natRules.write('-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  natRules.write('-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  natRules.write('-A', KUBE_POSTROUTING, '-m', 'comment', '--comment', quoted('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE', settings.randomFully ? ['--random-fully'] : []);
  natRules.write('-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);

  if (settings.localhostNodePorts) {
    filterChains.write(chainLine(KUBE_FIREWALL));
    filterRules.write(
      '-A', KUBE_FIREWALL, '-m', 'comment', '--comment', quoted('block incoming localnet connections'),
      '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP',
    );
  }

  const largeCluster = totalEndpoints(services) > LARGE_CLUSTER_ENDPOINTS;
  const comment = (text: string) => (largeCluster ? [] : ['-m', 'comment', '--comment', text]);
  const ifNotLocal = settings.clusterCIDR ? ['!', '-s', settings.clusterCIDR] : undefined;
  const ifLocal = settings.clusterCIDR ? ['-s', settings.clusterCIDR] : undefined;

  for (const svc of services) {
    const protocol = svc.protocol;
    const name = servicePortNameString(svc.name);
    const chains = iptablesServiceChains(svc.name, protocol);
    const { cluster, local, reachable, hasAny } = categorizeEndpoints(svc, settings.nodeName);
    const usesClusterChain = cluster.length > 0 && usesClusterEndpoints(svc);
    const usesLocalChain = local.length > 0 && usesLocalEndpoints(svc);

    let internalChain = chains.cluster;
    let hasInternal = hasAny;
    if (internalPolicyLocal(svc)) {
      internalChain = chains.local;
      if (local.length === 0) hasInternal = false;
    }
    let externalPolicyChain = chains.cluster;
    let hasExternal = hasAny;
    if (externalPolicyLocal(svc)) {
      externalPolicyChain = chains.local;
      if (local.length === 0) hasExternal = false;
    }
    const externalChain = chains.external;
    const usesExternalChain = hasAny && serviceExternallyAccessible(svc);
    const lbIPs = svc.loadBalancerIPs ?? [];
    const usesFirewallChain = hasAny && lbIPs.length > 0 && (svc.loadBalancerSourceRanges?.length ?? 0) > 0;
    const lbChain = usesFirewallChain ? chains.firewall : externalChain;

    let internalTarget = '';
    let internalFilterComment = '';
    let externalTarget = '';
    let externalFilterComment = '';
    if (!hasAny) {
      internalTarget = 'REJECT';
      internalFilterComment = quoted(`${name} has no endpoints`);
      externalTarget = 'REJECT';
      externalFilterComment = internalFilterComment;
    } else {
      if (!hasInternal) {
        internalTarget = 'DROP';
        internalFilterComment = quoted(`${name} has no local endpoints`);
      }
      if (!hasExternal) {
        externalTarget = 'DROP';
        externalFilterComment = quoted(`${name} has no local endpoints`);
      }
    }

    const match = (ip: string, port: number) => ['-m', protocol, '-p', protocol, '-d', ip, '--dport', String(port)];

    if (hasInternal) {
      natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', quoted(`${name} cluster IP`), match(svc.clusterIP, svc.port), '-j', internalChain);
    } else {
      filterRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', internalFilterComment, match(svc.clusterIP, svc.port), '-j', internalTarget);
    }

    for (const externalIP of svc.externalIPs ?? []) {
      if (hasAny) natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', quoted(`${name} external IP`), match(externalIP, svc.port), '-j', externalChain);
      if (!hasExternal) filterRules.write('-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, match(externalIP, svc.port), '-j', externalTarget);
    }

    for (const lbIP of lbIPs) {
      if (hasAny) natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', quoted(`${name} loadbalancer IP`), match(lbIP, svc.port), '-j', lbChain);
      if (usesFirewallChain) {
        filterRules.write('-A', KUBE_PROXY_FIREWALL, '-m', 'comment', '--comment', quoted(`${name} traffic not accepted by ${chains.firewall}`), match(lbIP, svc.port), '-j', 'DROP');
      }
    }
    if (!hasExternal) {
      for (const lbIP of lbIPs) {
        filterRules.write('-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, match(lbIP, svc.port), '-j', externalTarget);
      }
    }

    const nodePort = svc.nodePort ?? 0;
    if (nodePort !== 0) {
      if (hasAny) {
        if (settings.localhostNodePorts && settings.nfacctCounters) {
          natRules.write(
            '-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', name, '-m', protocol, '-p', protocol, '-d', '127.0.0.0/8', '--dport', String(nodePort),
            '-m', 'nfacct', '--nfacct-name', NFACCT_LOCALHOST_NODEPORTS, '-j', externalChain,
          );
        }
        natRules.write('-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', name, '-m', protocol, '-p', protocol, '--dport', String(nodePort), '-j', externalChain);
      }
      if (!hasExternal) {
        filterRules.write(
          '-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, '-m', 'addrtype', '--dst-type', 'LOCAL',
          '-m', protocol, '-p', protocol, '--dport', String(nodePort), '-j', externalTarget,
        );
      }
    }

    if (svc.healthCheckNodePort && externalPolicyLocal(svc)) {
      filterRules.write(
        '-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', quoted(`${name} health check node port`), '-m', 'tcp', '-p', 'tcp',
        '--dport', String(svc.healthCheckNodePort), '-j', 'ACCEPT',
      );
    }

    if (hasInternal) {
      const args = ['-m', 'comment', '--comment', quoted(`${name} cluster IP`), ...match(svc.clusterIP, svc.port)];
      if (settings.masqueradeAll) natRules.write('-A', internalChain, args, '-j', KUBE_MARK_MASQ);
      else if (ifNotLocal) natRules.write('-A', internalChain, args, ifNotLocal, '-j', KUBE_MARK_MASQ);
    }

    if (usesExternalChain) {
      natChains.write(chainLine(externalChain));
      if (!externalPolicyLocal(svc)) {
        natRules.write('-A', externalChain, '-m', 'comment', '--comment', quoted(`masquerade traffic for ${name} external destinations`), '-j', KUBE_MARK_MASQ);
      } else {
        if (ifLocal) natRules.write('-A', externalChain, '-m', 'comment', '--comment', quoted(`pod traffic for ${name} external destinations`), ifLocal, '-j', chains.cluster);
        natRules.write('-A', externalChain, '-m', 'comment', '--comment', quoted(`masquerade LOCAL traffic for ${name} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', KUBE_MARK_MASQ);
        natRules.write('-A', externalChain, '-m', 'comment', '--comment', quoted(`route LOCAL traffic for ${name} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', chains.cluster);
      }
      if (hasExternal) natRules.write('-A', externalChain, '-j', externalPolicyChain);
    }

    if (usesFirewallChain) {
      natChains.write(chainLine(chains.firewall));
      const args = ['-A', chains.firewall, '-m', 'comment', '--comment', quoted(`${name} loadbalancer IP`)];
      let allowFromNode = false;
      for (const cidr of svc.loadBalancerSourceRanges ?? []) {
        const range = cidr.trim();
        natRules.write(args, '-s', range, '-j', externalChain);
        if (cidrHasAddress(range, settings.nodeIP)) allowFromNode = true;
      }
      if (allowFromNode) for (const lbIP of lbIPs) natRules.write(args, '-s', lbIP, '-j', externalChain);
      natRules.write('-A', chains.firewall, '-m', 'comment', '--comment', quoted(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`));
    }

    if (usesClusterChain) {
      natChains.write(chainLine(chains.cluster));
      writeServiceToEndpointRules(natRules, svc, chains.cluster, cluster, comment);
    }
    if (usesLocalChain) {
      natChains.write(chainLine(chains.local));
      writeServiceToEndpointRules(natRules, svc, chains.local, local, comment);
    }

    for (const ep of reachable) {
      const chain = iptablesEndpointChain(svc.name, protocol, ep.ip, ep.port);
      natChains.write(chainLine(chain));
      const args = ['-A', chain, ...comment(name)];
      natRules.write(args, '-s', ep.ip, '-j', KUBE_MARK_MASQ);
      const affinity = svc.affinitySeconds !== undefined ? ['-m', 'recent', '--name', chain, '--set'] : [];
      natRules.write(args, affinity, '-m', protocol, '-p', protocol, '-j', 'DNAT', '--to-destination', endpointString(ep.ip, ep.port));
    }
  }

  const written = new Set(natChains.lines.map((l) => l.slice(1).split(' ')[0]!));
  for (const chain of staleChains) {
    if (written.has(chain) || !isServiceChainName(chain)) continue;
    natChains.write(chainLine(chain));
    natRules.write('-X', chain);
  }

  const destinations = ['-m', 'addrtype', '--dst-type', 'LOCAL', ...(settings.localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8'])];
  natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', quoted('kubernetes service nodeports; NOTE: this must be the last rule in this chain'), destinations, '-j', KUBE_NODEPORTS);

  if (!settings.conntrackTCPLiberal) {
    filterRules.write('-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID', settings.nfacctCounters ? ['-m', 'nfacct', '--nfacct-name', NFACCT_INVALID_DROPPED] : [], '-j', 'DROP');
  }
  filterRules.write('-A', KUBE_FORWARD, '-m', 'comment', '--comment', quoted('kubernetes forwarding rules'), '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT');
  filterRules.write('-A', KUBE_FORWARD, '-m', 'comment', '--comment', quoted('kubernetes forwarding conntrack rule'), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');

  return ['*filter', ...filterChains.lines, ...filterRules.lines, 'COMMIT', '*nat', ...natChains.lines, ...natRules.lines, 'COMMIT', ''].join('\n');
}

function writeServiceToEndpointRules(
  natRules: Lines,
  svc: ProxyServicePort,
  svcChain: string,
  endpoints: ProxyEndpoint[],
  comment: (text: string) => string[],
): void {
  const name = servicePortNameString(svc.name);
  if (svc.affinitySeconds !== undefined) {
    for (const ep of endpoints) {
      const epChain = iptablesEndpointChain(svc.name, svc.protocol, ep.ip, ep.port);
      natRules.write('-A', svcChain, comment(quoted(`${name} -> ${endpointString(ep.ip, ep.port)}`)), '-m', 'recent', '--name', epChain, '--rcheck', '--seconds', String(svc.affinitySeconds), '--reap', '-j', epChain);
    }
  }
  endpoints.forEach((ep, i) => {
    const epChain = iptablesEndpointChain(svc.name, svc.protocol, ep.ip, ep.port);
    const statistic = i < endpoints.length - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(endpoints.length - i)] : [];
    natRules.write('-A', svcChain, comment(quoted(`${name} -> ${endpointString(ep.ip, ep.port)}`)), statistic, '-j', epChain);
  });
}

/** kube-proxy's own per-Service chains (the ones a sync may find stale and delete). */
export function isServiceChainName(chain: string): boolean {
  return /^KUBE-(SVC|SVL|EXT|FW|SEP)-[A-Z2-7]{16}$/.test(chain);
}

function cidrHasAddress(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? 32);
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  if (!base || !/^\d+\.\d+\.\d+\.\d+$/.test(base) || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((toInt(base) & mask) >>> 0) === ((toInt(ip) & mask) >>> 0);
}
