// A tree of the lab for a student: the underlay switch, each node's eth0, the flannel device,
// the bridge and the pods hanging off it by their veth pairs. Pure.
import type { ResolvedLab, ResolvedLink } from '../plan/resolved-lab.js';
import { isBgp, isOverlay, vxlanDevice } from '../plan/overlay.js';
import { bgpNetwork, birdConfigOf } from '../plan/bgp-plan.js';
import { macLabel, vethLabel } from '../plan/cni-result.js';

function branch(items: string[][], indent: string): string[] {
  const lines: string[] = [];
  items.forEach((item, i) => {
    const last = i === items.length - 1;
    const [head, ...children] = item;
    lines.push(`${indent}${last ? '└── ' : '├── '}${head}`);
    for (const child of children) lines.push(`${indent}${last ? '    ' : '│   '}${child}`);
  });
  return lines;
}

export function renderLabDiagram(lab: ResolvedLab): string {
  const nodes: string[][] = [];
  for (const host of lab.hosts) {
    const parts: string[][] = [];
    for (const hn of host.networks) {
      const network = lab.networks.find((n) => n.name === hn.network)!;
      const prefix = hn.subnet.split('/')[1];
      const pods = host.pods
        .filter((p) => p.network === hn.network)
        .map((p) => [`${vethLabel(p.hostVeth)} ══ ${p.name}:eth0 ${p.ip}/${p.prefixLen}  ${macLabel(p.mac)}`]);
      parts.push([`${hn.bridge} ${hn.bridgeIp}/${prefix} (bridge, the pods' gateway)`, ...branch(pods, '')]);
      if (isOverlay(network)) {
        const via = network.controlPlane === 'etcd' ? 'agent + etcd' : 'static';
        if (network.backend === 'vxlan') parts.push([`${vxlanDevice(network)} VTEP, VNI ${network.vni}, UDP ${network.port} (${via})`]);
        if (network.backend === 'udp') parts.push([`flannel0 TUN → agent → UDP ${network.port} (${via})`]);
        if (network.backend === 'host-gw') parts.push([`routes: other hosts' subnets via their eth0 (${via})`]);
      }
      if (isBgp(network)) parts.push([`BIRD: announces ${(hn.blocks ?? [hn.subnet]).join(', ')} (${bgpPeering(lab, host.name)})`]);
    }
    nodes.push([`${host.name}  ${linkText(host)}  ${host.underlayMac}`, ...branch(parts, '')]);
  }
  for (const node of lab.externals) {
    const bird = node.role === 'router' && bgpNetwork(lab) ? [`BIRD: learns every block (${bgpPeering(lab, node.name)})`] : [];
    nodes.push([`${node.name}  ${linkText(node)}  (${node.role})`, ...branch(bird.map((b) => [b]), '')]);
  }
  const segments = lab.underlay.segments;
  if (segments) {
    const list = segments.map((s) => `${s.name} ${s.subnet}${s.gatewayNode ? ` (gateway ${s.gatewayNode})` : ''}`).join(', ');
    return [`routed underlay in ${lab.underlay.switchContainer}: one bridge per segment — ${list}`, ...branch(nodes, '')].join('\n');
  }
  const gateway = lab.underlay.gateway ? `, hosts' default route via ${lab.underlay.gateway}` : '';
  return [`underlay ${lab.underlay.subnet} — bridge "${lab.underlay.bridge}" in ${lab.underlay.switchContainer}${gateway}`, ...branch(nodes, '')].join('\n');
}

/** `eth0 192.168.50.2`, or on a routed underlay every link with its segment. */
function linkText(node: { underlayIp: string; links?: ResolvedLink[] }): string {
  if (!node.links) return `eth0 ${node.underlayIp}`;
  return node.links.map((l) => `${l.iface} ${l.ip} (${l.segment})`).join(', ');
}

/** Who a BGP node has sessions with, in a few words. */
function bgpPeering(lab: ResolvedLab, node: string): string {
  const config = birdConfigOf(lab, node);
  if (!config) return '';
  const as = `AS ${config.as}`;
  const reflects = config.clusterId ? ', reflector' : '';
  return `${as}${reflects}, sessions with ${config.peers.map((p) => p.node).join(', ') || 'nobody'}`;
}
