import type { ResolvedLab } from '../plan/resolved-lab.js';

/** A few lines that tell a student where everything is. */
export function labSummaryLines(lab: ResolvedLab): string[] {
  const lines = [`  underlay ${lab.underlay.subnet}` + (lab.underlay.gateway ? ` (gateway ${lab.underlay.gateway})` : '')];
  for (const host of lab.hosts) {
    const subnets = host.networks.map((n) => `${n.bridge} ${n.bridgeIp}/${n.subnet.split('/')[1]}`).join(', ');
    const pods = host.pods.map((p) => `${p.name} ${p.ip}`).join(', ');
    lines.push(`  ${host.name} ${host.underlayIp}  ${subnets}${pods ? `  pods: ${pods}` : ''}`);
  }
  for (const node of lab.externals) lines.push(`  ${node.name} ${node.underlayIp} (${node.role})`);
  return lines;
}
