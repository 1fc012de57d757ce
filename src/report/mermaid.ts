// The lab as a Mermaid flowchart (renders in GitHub and GitLab Markdown): the underlay switch,
// external nodes, and per host its eth0, flannel devices, bridges and pods on their veth pairs.
// Pure.
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { isBgp, isOverlay, vxlanDevice } from '../plan/overlay.js';
import { vethLabel } from '../plan/cni-result.js';

/** Mermaid ids: letters, digits and "_" only. */
function id(...parts: string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

/** Mermaid label text: quotes become entities; <br/> is Mermaid's line break. */
function label(...lines: string[]): string {
  return `"${lines.map((l) => l.replace(/"/g, '#quot;')).join('<br/>')}"`;
}

export function renderMermaid(lab: ResolvedLab): string {
  const out: string[] = ['flowchart TB'];
  const segments = lab.underlay.segments;
  const sw = id('underlay', 'switch');
  /** The switch node a link plugs into: the one bridge, or its segment's. */
  const switchOf = (segment?: string) => (segment && segments ? id('segment', segment) : sw);
  if (segments) for (const s of segments) out.push(`  ${switchOf(s.name)}[${label(`segment ${s.name} · bridge ${s.bridge}`, s.subnet)}]`);
  else out.push(`  ${sw}[${label(`underlay switch (bridge ${lab.underlay.bridge})`, lab.underlay.subnet)}]`);
  for (const e of lab.externals) {
    const links = e.links ?? [{ iface: 'eth0', ip: e.underlayIp, port: e.name, segment: undefined }];
    out.push(`  ${id('node', e.name)}[${label(e.name, `${e.role} · ${links.map((l) => `${l.iface} ${l.ip}`).join(' · ')}`)}]`);
    for (const l of links) out.push(`  ${id('node', e.name)} ---|${label(`port ${l.port}`)}| ${switchOf(l.segment)}`);
  }
  for (const host of lab.hosts) {
    const h = (...parts: string[]) => id('host', host.name, ...parts);
    out.push(`  subgraph ${h()}[${label(host.name)}]`);
    out.push(`    ${h('eth0')}[${label(`eth0 ${host.underlayIp}`, host.underlayMac)}]`);
    for (const hn of host.networks) {
      const network = lab.networks.find((n) => n.name === hn.network)!;
      out.push(`    ${h(hn.bridge)}[${label(hn.bridge, `${hn.bridgeIp}/${hn.subnet.split('/')[1]} · bridge`)}]`);
      for (const pod of host.pods.filter((p) => p.network === hn.network)) {
        out.push(`    ${h('pod', pod.name)}([${label(pod.name, `${pod.ip}/${pod.prefixLen}`)}])`);
        out.push(`    ${h('pod', pod.name)} ---|${label(vethLabel(pod.hostVeth))}| ${h(hn.bridge)}`);
      }
      if (network.backend === 'vxlan') {
        const dev = vxlanDevice(network);
        out.push(`    ${h(dev)}[${label(dev, `VTEP · VNI ${network.vni} · UDP ${network.port}`)}]`);
        out.push(`    ${h(hn.bridge)} -.->|${label('routed')}| ${h(dev)}`);
        out.push(`    ${h(dev)} -.->|${label('VXLAN')}| ${h('eth0')}`);
      } else if (network.backend === 'udp') {
        out.push(`    ${h('flannel0')}[${label('flannel0', `TUN → agent · UDP ${network.port}`)}]`);
        out.push(`    ${h(hn.bridge)} -.->|${label('routed')}| ${h('flannel0')}`);
        out.push(`    ${h('flannel0')} -.->|${label('UDP')}| ${h('eth0')}`);
      } else {
        const how = isBgp(network) ? 'routes learned by BGP' : isOverlay(network) ? 'routed via the peer host' : network.nat ? 'routed, NAT' : 'routed';
        out.push(`    ${h(hn.bridge)} -.->|${label(how)}| ${h('eth0')}`);
      }
    }
    out.push('  end');
    out.push(`  ${h('eth0')} ---|${label(`port ${host.name}`)}| ${switchOf(host.links?.[0]?.segment)}`);
  }
  return out.join('\n') + '\n';
}
