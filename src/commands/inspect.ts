import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { requireRunningLab } from '../core/lab-registry.js';
import { readInterfaces, type InterfaceState } from '../probes/interfaces.js';
import { renderTable } from '../report/table.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { renderLabDiagram } from '../report/lab-diagram.js';

interface InspectResult {
  lab: ResolvedLab;
  interfaces: InterfaceState[];
}

export default class Inspect extends BaseCommand<InspectResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab'];
  static override summary = 'Show a lab\'s hosts, pods, interfaces, addresses and MACs as the kernel reports them.';
  static override args = { lab: Args.string({ description: 'Lab name.', required: true }) };
  static override flags = { tree: Flags.boolean({ description: 'Draw the lab as a tree (switch, hosts, bridges, pods) instead of the interface table.', default: false }) };
  private tree = false;

  protected async execute(): Promise<InspectResult> {
    const { args, flags } = await this.parse(Inspect);
    this.tree = flags.tree;
    const lab = await requireRunningLab(this.runtime, args.lab);
    const nodes = [...lab.hosts.map((h) => ({ name: h.name, container: h.container })), ...lab.externals.map((e) => ({ name: e.name, container: e.container }))];
    const interfaces = (await Promise.all(nodes.map((n) => readInterfaces(this.runtime, n.container, n.name)))).flat();
    return { lab, interfaces: interfaces.filter((i) => i.kind !== 'loopback') };
  }

  protected renderHuman(r: InspectResult): string {
    if (this.tree) return renderLabDiagram(r.lab);
    return [
      `lab ${r.lab.name}: underlay ${r.lab.underlay.subnet}` + (r.lab.underlay.gateway ? `, gateway ${r.lab.underlay.gateway}` : ''),
      '',
      renderTable(r.interfaces, [
        { header: 'NODE', value: (i) => (i.netns ? `${i.node}/${i.netns}` : i.node) },
        { header: 'IFACE', value: (i) => i.name },
        { header: 'KIND', value: (i) => i.kind },
        { header: 'STATE', value: (i) => i.state },
        { header: 'MAC', value: (i) => i.mac },
        { header: 'MTU', value: (i) => String(i.mtu) },
        { header: 'MASTER', value: (i) => i.master ?? '' },
        { header: 'ADDRESSES', value: (i) => i.addresses.join(' ') },
      ]),
    ].join('\n');
  }
}
