// Decide every address the spec left open. Pure: what is already taken on the engine comes in
// as an argument, so the same inputs always give the same lab.
import { placeNodes, resolveEngines, resolveStitch } from './engine-placement.js';
import { cidrContains, cidrsOverlap, intToIp, ipToInt, parseCidr } from '../shared/ipv4.js';
import type { LabSpec } from '../lab-spec/lab-spec.js';
import { inputError } from '../base/errors.js';
import { containerName, hostVethName, switchContainerName, UNDERLAY_BRIDGE } from './container-names.js';
import { resolveServices } from './resolve-services.js';
import { layOutSegments, macForIp, type RoutedUnderlay } from './routed-underlay.js';
import { allocateBlocks, blockGateway, type HostBlocks } from './ipam-blocks.js';
import type {
  ResolvedExternal,
  ResolvedHost,
  ResolvedHostNetwork,
  ResolvedLab,
  ResolvedNetwork,
  ResolvedPod,
} from './resolved-lab.js';

export const DEFAULT_IMAGE = 'overlab/host:latest';

/** A MAC or interface name the plan cannot know: on a CNI host the kernel and the bridge plugin
 * choose them, and `up` fills them in from the plugin's result (src/plan/cni-result.ts). */
export const KERNEL_CHOOSES = '';

export { macForIp };

function cidrString(network: number, prefix: number): string {
  return `${intToIp(network)}/${prefix}`;
}

function mustParse(cidr: string) {
  const parsed = parseCidr(cidr);
  if (!parsed) throw inputError(`invalid CIDR ${cidr}`);
  return parsed;
}

/** The candidates overlab picks an underlay from: 192.168.50.0/24 … 192.168.254.0/24. */
export function chooseUnderlaySubnet(taken: string[]): string {
  for (let third = 50; third <= 254; third++) {
    const candidate = `192.168.${third}.0/24`;
    if (!taken.some((cidr) => cidrsOverlap(candidate, cidr))) return candidate;
  }
  throw inputError(
    'no free underlay subnet in 192.168.50.0/24 … 192.168.254.0/24',
    'set underlay.subnet in the spec to a range nothing else on this machine uses',
  );
}

/** The i-th subnet of a network (i from 0). Subnet 0 is skipped by callers, as flannel does. */
export function nthSubnet(networkCidr: string, subnetLen: number, index: number): string {
  const { network, prefix } = mustParse(networkCidr);
  const count = 2 ** (subnetLen - prefix);
  if (index >= count) throw inputError(`${networkCidr} has only ${count} subnets of /${subnetLen}`);
  return cidrString((network + index * 2 ** (32 - subnetLen)) >>> 0, subnetLen);
}

function addressIn(cidr: string, offset: number): string {
  const { network } = mustParse(cidr);
  return intToIp((network + offset) >>> 0);
}

function usableOffsets(cidr: string): { first: number; last: number } {
  const { prefix } = mustParse(cidr);
  return { first: 1, last: 2 ** (32 - prefix) - 2 };
}

class AddressPool {
  private readonly used = new Set<number>();
  private readonly base: number;
  constructor(
    private readonly cidr: string,
    private readonly what: string,
  ) {
    this.base = mustParse(cidr).network;
  }
  reserve(ip: string): void {
    this.used.add(ipToInt(ip));
  }
  private offsets(): { first: number; last: number } {
    return usableOffsets(this.cidr);
  }
  nextFromBottom(start = 1): string {
    const { last } = this.offsets();
    for (let offset = start; offset <= last; offset++) {
      const candidate = (this.base + offset) >>> 0;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return intToIp(candidate);
      }
    }
    throw inputError(`${this.cidr} has no free address left for ${this.what}`, 'use a larger subnet');
  }
  nextFromTop(): string {
    const { first, last } = this.offsets();
    for (let offset = last; offset >= first; offset--) {
      const candidate = (this.base + offset) >>> 0;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return intToIp(candidate);
      }
    }
    throw inputError(`${this.cidr} has no free address left for ${this.what}`, 'use a larger subnet');
  }
}

export interface ResolveOptions {
  /** CIDRs already in use on this engine/machine (Docker networks, other labs' underlays, routes). */
  takenSubnets: string[];
  /** The underlay of this lab as it is up now: kept while nothing else takes it, so that `up` of
   * a lab that is up finds it unchanged even after a lower subnet has become free. */
  currentUnderlay?: string;
  image?: string;
  /** Add an etcd node (labs whose overlay uses the etcd control plane). */
  withEtcd?: boolean;
}

export function needsEtcd(spec: LabSpec): boolean {
  return spec.networks.some((n) => n.controlPlane === 'etcd' && n.backend !== 'none');
}

export function resolveLab(spec: LabSpec, options: ResolveOptions): ResolvedLab {
  const networks: ResolvedNetwork[] = spec.networks.map((n) => ({ ...n }));
  const podCidrs = networks.map((n) => n.cidr);
  const taken = [...options.takenSubnets, ...podCidrs];
  const routed = spec.underlay.segments ? layOutRouted(spec, taken, options) : undefined;
  const current = options.currentUnderlay;
  const keepCurrent = current !== undefined && !current.includes(',') && !taken.some((cidr) => cidrsOverlap(current, cidr));
  const underlaySubnet = routed ? routed.segments[0]!.subnet : (spec.underlay.subnet ?? (keepCurrent ? current : chooseUnderlaySubnet(taken)));
  const underlayPrefix = mustParse(underlaySubnet).prefix;
  const underlayPool = new AddressPool(underlaySubnet, 'the underlay');
  for (const node of [...spec.hosts, ...spec.externals]) if (node.underlayIp) underlayPool.reserve(node.underlayIp);

  // Routers take the low addresses (a gateway is usually .1), hosts follow, other nodes and
  // etcd take addresses from the top so adding a host never renumbers them.
  const externalIps = new Map<string, string>();
  for (const node of spec.externals) {
    if (node.role === 'router') externalIps.set(node.name, node.underlayIp ?? underlayPool.nextFromBottom());
  }
  const hostIps = new Map<string, string>();
  for (const host of spec.hosts) hostIps.set(host.name, host.underlayIp ?? underlayPool.nextFromBottom(2));
  for (const node of spec.externals) {
    if (node.role !== 'router') externalIps.set(node.name, node.underlayIp ?? underlayPool.nextFromTop());
  }
  if (routed) {
    for (const node of [...spec.hosts, ...spec.externals]) (hostIps.has(node.name) ? hostIps : externalIps).set(node.name, routed.links.get(node.name)![0]!.ip);
  }

  // Per network, hosts without a fixed subnet take the next free one, starting at index 1.
  const hostSubnets = new Map<string, Map<string, string>>();
  const blocks = new Map<string, HostBlocks>();
  for (const network of networks.filter((n) => n.backend === 'bgp')) {
    const requests = spec.hosts.map((h) => ({ host: h.name, pods: h.pods.filter((p) => p.network === network.name).map((p) => ({ name: p.name, ...(p.ip ? { ip: p.ip } : {}) })) }));
    for (const b of allocateBlocks(network.cidr, network.blockSize!, requests)) blocks.set(b.host, b);
    hostSubnets.set(network.name, new Map([...blocks].map(([host, b]) => [host, b.blocks[0]!])));
  }
  for (const network of networks.filter((n) => n.backend !== 'bgp')) {
    const fixed = new Set(spec.hosts.map((h) => h.subnets[network.name]).filter((s): s is string => !!s));
    const assigned = new Map<string, string>();
    let index = 1;
    for (const host of spec.hosts) {
      let subnet = host.subnets[network.name];
      while (!subnet) {
        const candidate = nthSubnet(network.cidr, network.subnetLen, index++);
        if (![...fixed].some((f) => cidrsOverlap(f, candidate))) subnet = candidate;
      }
      assigned.set(host.name, subnet);
    }
    hostSubnets.set(network.name, assigned);
  }

  const hosts: ResolvedHost[] = spec.hosts.map((host) => {
    const underlayIp = hostIps.get(host.name)!;
    const podAttach = host.podAttach ?? networks[0]?.podAttach ?? 'ip';
    const cni = podAttach === 'cni';
    const hostNetworks: ResolvedHostNetwork[] = networks.map((network) => {
      const subnet = hostSubnets.get(network.name)!.get(host.name)!;
      const bridgeIp = addressIn(subnet, 1);
      const held = network.backend === 'bgp' ? { blocks: blocks.get(host.name)!.blocks } : {};
      return { network: network.name, subnet, bridge: network.bridge, bridgeIp, bridgeMac: cni ? KERNEL_CHOOSES : macForIp(bridgeIp), ...held };
    });
    const pools = new Map(
      hostNetworks.map((hn) => {
        const pool = new AddressPool(hn.subnet, `the pods of ${host.name}`);
        pool.reserve(hn.bridgeIp);
        for (const pod of host.pods) if (pod.network === hn.network && pod.ip) pool.reserve(pod.ip);
        return [hn.network, pool] as const;
      }),
    );
    const pods: ResolvedPod[] = host.pods.map((pod) => {
      const hostNetwork = hostNetworks.find((hn) => hn.network === pod.network)!;
      if (hostNetwork.blocks) return blockPod(host.name, pod.name, pod.network, blocks.get(host.name)!);
      const ip = pod.ip ?? pools.get(pod.network)!.nextFromBottom(2);
      return {
        name: pod.name,
        host: host.name,
        network: pod.network,
        ip,
        prefixLen: mustParse(hostNetwork.subnet).prefix,
        mac: cni ? KERNEL_CHOOSES : macForIp(ip),
        gateway: hostNetwork.bridgeIp,
        hostVeth: cni ? KERNEL_CHOOSES : hostVethName(pod.name),
        ...(pod.serve?.length ? { serve: pod.serve } : {}),
      };
    });
    return {
      name: host.name,
      container: containerName(spec.name, host.name),
      underlayIp,
      underlayMac: macForIp(underlayIp),
      networks: hostNetworks,
      pods,
      podAttach,
      ...(routed ? { links: routed.links.get(host.name)! } : {}),
    };
  });

  const externals: ResolvedExternal[] = spec.externals.map((node) => {
    const underlayIp = externalIps.get(node.name)!;
    const links = routed?.links.get(node.name);
    const routes = routed?.routes.get(node.name);
    return {
      name: node.name,
      role: node.role,
      container: containerName(spec.name, node.name),
      underlayIp,
      underlayMac: macForIp(underlayIp),
      ...(links ? { links } : {}),
      ...(routes?.length ? { routes } : {}),
    };
  });
  if (options.withEtcd ?? needsEtcd(spec)) {
    const etcdLink = routed?.links.get('etcd')?.[0];
    const underlayIp = etcdLink?.ip ?? underlayPool.nextFromTop();
    externals.push({
      name: 'etcd',
      role: 'etcd',
      container: containerName(spec.name, 'etcd'),
      underlayIp,
      underlayMac: macForIp(underlayIp),
      ...(etcdLink ? { links: [etcdLink] } : {}),
    });
  }

  const gateway = spec.underlay.gateway ? externalIps.get(spec.underlay.gateway) : undefined;
  // Several engines: each node knows its own (one engine is the lab as it always was).
  const placed = placeNodes(spec);
  if (placed.size) {
    for (const node of [...hosts, ...externals]) node.engine = placed.get(node.name)!;
  }
  return {
    name: spec.name,
    ...(spec.description ? { description: spec.description } : {}),
    specFile: spec.file,
    image: spec.image ?? options.image ?? DEFAULT_IMAGE,
    underlay: {
      subnet: underlaySubnet,
      prefixLen: underlayPrefix,
      mtu: spec.underlay.mtu,
      ...(gateway ? { gateway } : {}),
      switchContainer: switchContainerName(spec.name),
      bridge: routed ? routed.segments[0]!.bridge : UNDERLAY_BRIDGE,
      ...(routed ? { segments: routed.segments } : {}),
    },
    networks,
    hosts,
    externals,
    checks: spec.checks,
    ...(spec.faults?.length ? { faults: spec.faults } : {}),
    ...(spec.services ? { services: resolveServices(spec.services) } : {}),
    ...(spec.engines?.length ? { engines: resolveEngines(spec.name, spec.engines), stitch: resolveStitch(spec) } : {}),
  };
}

/** A routed underlay's layout: the spec's segments; every host, node and etcd placed on theirs.
 * A lab that is up keeps the subnets it has while nothing else takes them. */
function layOutRouted(spec: LabSpec, taken: string[], options: ResolveOptions): RoutedUnderlay {
  const segments = spec.underlay.segments!;
  const first = segments[0]!.name;
  const current = options.currentUnderlay?.split(',') ?? [];
  const members = [
    ...spec.hosts.map((h) => ({ name: h.name, role: 'host' as const, segments: [h.segment ?? first], ...(h.underlayIp ? { ip: h.underlayIp } : {}) })),
    ...spec.externals.map((e) => ({ name: e.name, role: e.role, segments: e.segments ?? [first], ...(e.underlayIp ? { ip: e.underlayIp } : {}) })),
    ...((options.withEtcd ?? needsEtcd(spec)) ? [{ name: 'etcd', role: 'etcd' as const, segments: [first] }] : []),
  ];
  const kept = segments.map((s, i) => s.subnet ?? (current[i] !== undefined && !taken.some((c) => cidrsOverlap(c, current[i]!)) ? current[i] : undefined));
  return layOutSegments(
    segments.map((s, i) => ({ ...s, ...(kept[i] ? { subnet: kept[i] } : {}) })),
    members,
    taken,
    chooseUnderlaySubnet,
  );
}

/** A pod of a bgp network: its address in one of its host's blocks, that block's gateway. */
function blockPod(host: string, pod: string, network: string, held: HostBlocks): ResolvedPod {
  const placed = held.pods.find((p) => p.name === pod)!;
  return {
    name: pod,
    host,
    network,
    ip: placed.ip,
    prefixLen: mustParse(placed.block).prefix,
    mac: macForIp(placed.ip),
    gateway: blockGateway(placed.block),
    hostVeth: hostVethName(pod),
  };
}

/** The subnets a lab's underlay takes: one, or each segment's (the engine label lists them, comma-separated). */
export function underlaySubnets(lab: Pick<ResolvedLab, 'underlay'>): string[] {
  return lab.underlay.segments ? lab.underlay.segments.map((s) => s.subnet) : [lab.underlay.subnet];
}

/** A host joining a running lab: the next free underlay address and, per network, the first
 * subnet no host holds; pods numbered from .2 as at `up`. Pure. */
export function allocateJoiningHost(lab: ResolvedLab, name: string, podNames: string[], segment?: string): ResolvedHost {
  const podAttach = lab.networks[0]?.podAttach ?? 'ip';
  const cni = podAttach === 'cni';
  const segments = lab.underlay.segments;
  const place = segments ? (segments.find((s) => s.name === (segment ?? segments[0]!.name)) ?? null) : undefined;
  if (place === null) throw inputError(`lab ${lab.name} has no segment "${segment}"`, `its segments: ${segments!.map((s) => s.name).join(', ')}`);
  if (segment !== undefined && !segments) throw inputError(`lab ${lab.name} has one underlay, no segments: --segment does not apply`);
  const pool = new AddressPool(place ? place.subnet : lab.underlay.subnet, place ? `segment ${place.name}` : 'the underlay');
  for (const node of [...lab.hosts, ...lab.externals]) for (const ip of [node.underlayIp, ...(node.links ?? []).map((l) => l.ip)]) if (!place || cidrContains(place.subnet, ip)) pool.reserve(ip);
  const underlayIp = pool.nextFromBottom(2);
  const links = place ? [{ segment: place.name, iface: 'eth0', ip: underlayIp, mac: macForIp(underlayIp), port: name }] : undefined;
  const bgp = lab.networks.find((n) => n.backend === 'bgp');
  if (bgp) {
    const taken = lab.hosts.flatMap((h) => h.networks.find((n) => n.network === bgp.name)?.blocks ?? []);
    const [held] = allocateBlocks(bgp.cidr, bgp.blockSize!, [{ host: name, pods: podNames.map((p) => ({ name: p })) }], taken);
    const bridgeIp = blockGateway(held!.blocks[0]!);
    return {
      name,
      container: containerName(lab.name, name),
      underlayIp,
      underlayMac: macForIp(underlayIp),
      networks: [{ network: bgp.name, subnet: held!.blocks[0]!, bridge: bgp.bridge, bridgeIp, bridgeMac: macForIp(bridgeIp), blocks: held!.blocks }],
      pods: podNames.map((p) => blockPod(name, p, bgp.name, held!)),
      podAttach,
      ...(links ? { links } : {}),
    };
  }
  const networks: ResolvedHostNetwork[] = lab.networks.map((network) => {
    const held = lab.hosts.map((h) => h.networks.find((n) => n.network === network.name)!.subnet);
    let index = 1;
    let subnet = nthSubnet(network.cidr, network.subnetLen, index);
    while (held.some((s) => cidrsOverlap(s, subnet))) subnet = nthSubnet(network.cidr, network.subnetLen, ++index);
    const bridgeIp = addressIn(subnet, 1);
    return { network: network.name, subnet, bridge: network.bridge, bridgeIp, bridgeMac: cni ? KERNEL_CHOOSES : macForIp(bridgeIp) };
  });
  const first = networks[0]!;
  const podPool = new AddressPool(first.subnet, `the pods of ${name}`);
  podPool.reserve(first.bridgeIp);
  const pods: ResolvedPod[] = podNames.map((pod) => {
    const ip = podPool.nextFromBottom(2);
    return {
      name: pod,
      host: name,
      network: first.network,
      ip,
      prefixLen: mustParse(first.subnet).prefix,
      mac: cni ? KERNEL_CHOOSES : macForIp(ip),
      gateway: first.bridgeIp,
      hostVeth: cni ? KERNEL_CHOOSES : hostVethName(pod),
    };
  });
  return { name, container: containerName(lab.name, name), underlayIp, underlayMac: macForIp(underlayIp), networks, pods, podAttach, ...(links ? { links } : {}) };
}
