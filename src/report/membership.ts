import type { MembershipResult } from '../core/node-membership.js';
import type { Palette } from '../text/colour.js';

export function renderMembership(r: MembershipResult, colours: Palette): string {
  const subnets = r.host.networks.map((n) => `${n.network} ${n.subnet}`).join(', ');
  const head =
    r.change === 'add'
      ? `${colours.green('✓')} ${r.host.name} joined ${r.lab}${r.engine ? ` on engine ${r.engine.engine}${r.engine.chosen === 'in turn' ? ' (next in turn)' : ''}` : ''}: underlay ${r.host.underlayIp}, ${subnets}` +
        (r.host.pods.length ? `, pods ${r.host.pods.map((p) => `${p.name} ${p.ip}`).join(', ')}` : '')
      : `${colours.green('✓')} ${r.host.name} left ${r.lab} (${subnets})`;
  const lines = r.propagation.map(
    (p) => `  ${p.network}: ${p.ms} ms until the last of ${p.peers} peer(s) ${r.change === 'add' ? 'programmed' : 'dropped'} it (${p.measuredFrom})`,
  );
  return [head, ...lines].join('\n');
}
