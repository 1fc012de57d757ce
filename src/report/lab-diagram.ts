// A tree of the lab for a student: the underlay switch, each node's eth0, the flannel device,
// the bridge and the pods hanging off it by their veth pairs. Pure.
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { isOverlay, vxlanDevice } from '../plan/overlay.js';
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
    }
    nodes.push([`${host.name}  eth0 ${host.underlayIp}  ${host.underlayMac}`, ...branch(parts, '')]);
  }
  for (const node of lab.externals) nodes.push([`${node.name}  eth0 ${node.underlayIp}  (${node.role})`]);
  const gateway = lab.underlay.gateway ? `, hosts' default route via ${lab.underlay.gateway}` : '';
  return [`underlay ${lab.underlay.subnet} — bridge "${lab.underlay.bridge}" in ${lab.underlay.switchContainer}${gateway}`, ...branch(nodes, '')].join('\n');
}
