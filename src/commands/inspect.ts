import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { requireLab } from '../lab/engine-labs.js';
import type { LabState } from '../lab/lab-state.js';
import { readInterfaces, type InterfaceState } from '../core/lab-interfaces.js';
import { renderTable } from '../text/table.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { renderLabDiagram } from '../report/lab-diagram.js';
import { renderMermaid } from '../report/mermaid.js';
import { readFaultBook } from '../faults/fault-store.js';
import { viewOf, type FaultView } from '../report/fault-table.js';
import { readBirdConfigs } from '../core/bird-configs.js';
import { BIRD_CONFIG_FILE } from '../plan/bgp-plan.js';
import { terminalSafe } from '../text/terminal-text.js';
import { tolerated } from '../base/debug-log.js';
import { nodeEngines } from '../plan/node-engines.js';

interface InspectResult {
  lab: ResolvedLab;
  /** A lab across several engines: the engine each node runs on (the lab's own model says it). */
  engines?: { node: string; engine: string }[];
  /** complete or degraded (which nodes are missing or stopped; their interfaces are not read). */
  state: LabState;
  interfaces: InterfaceState[];
  /** The lab's active faults (an exercise's hidden). */
  faults: FaultView[];
  /** With --bird: each BGP node's BIRD configuration as it is in the node (/etc/bird/bird.conf). */
  bird?: { node: string; config: string }[];
}

export default class Inspect extends BaseCommand<InspectResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab'];
  static override summary = 'Show a lab\'s state, hosts, pods, interfaces, addresses and MACs as the kernel reports them.';
  static override description =
    'Read live from the kernels of the lab\'s containers (ip -j addr/link, bridge link), not from what was meant: a node that is missing or stopped is left out, and active faults are listed with what they changed. On a lab across several engines, the engine of each node (an ENGINE column; engines in --json). --tree draws the lab (switch, hosts, bridges, pods); --mermaid prints the same as a Mermaid flowchart.';
  static override examples = ['<%= config.bin %> inspect flannel-vxlan', '<%= config.bin %> inspect host-gw --tree', '<%= config.bin %> inspect k8s-cni0 --mermaid > lab.md'];
  static override args = { lab: Args.string({ description: 'Lab name.', required: true }) };
  static override flags = {
    tree: Flags.boolean({ description: 'Draw the lab as a tree (switch, hosts, bridges, pods) instead of the interface table.', default: false }),
    mermaid: Flags.boolean({ description: 'Print the topology as a Mermaid flowchart (renders in GitHub/GitLab Markdown).', default: false, exclusive: ['tree'] }),
    bird: Flags.boolean({ description: 'Print the BIRD configuration of every BGP node (backend: bgp), as it is in the node: /etc/bird/bird.conf.', default: false, exclusive: ['tree', 'mermaid'] }),
    node: Flags.string({ description: 'With --bird: only this node\'s.', dependsOn: ['bird'] }),
  };
  private tree = false;
  private mermaid = false;
  private bird = false;

  protected async execute(): Promise<InspectResult> {
    const { args, flags } = await this.parse(Inspect);
    this.tree = flags.tree;
    this.mermaid = flags.mermaid;
    this.bird = flags.bird;
    const { model: lab, state, summary } = await requireLab(this.runtime, args.lab, { acceptDegraded: true });
    if (flags.bird) return { lab, state, interfaces: [], faults: [], bird: await readBirdConfigs(this.runtime, lab, flags.node) };
    const running = new Set(summary.containers.filter((c) => c.state === 'running').map((c) => c.name));
    const nodes = [...lab.hosts.map((h) => ({ name: h.name, container: h.container })), ...lab.externals.map((e) => ({ name: e.name, container: e.container }))].filter((n) =>
      running.has(n.container),
    );
    const [interfaces, book] = await Promise.all([
      Promise.all(nodes.map((n) => readInterfaces(this.runtime, n.container, n.name))).then((all) => all.flat()),
      readFaultBook(this.runtime, lab.underlay.switchContainer).catch(tolerated('cli', `read the fault record of ${lab.name}`)),
    ]);
    return {
      lab,
      state,
      ...(lab.engines ? { engines: nodeEngines(lab) } : {}),
      interfaces: interfaces.filter((i) => i.kind !== 'loopback'),
      faults: (book?.faults ?? []).map((f) => viewOf(f, false)),
    };
  }

  protected renderHuman(r: InspectResult): string {
    if (this.mermaid) return renderMermaid(r.lab);
    if (this.bird) return (r.bird ?? []).map((b) => `${this.colours.bold(`== ${b.node}: ${BIRD_CONFIG_FILE}`)}\n${b.config.split('\n').map(terminalSafe).join('\n')}`).join('\n');
    const status = r.state.status === 'complete' ? this.colours.green('complete') : `${this.colours.yellow(r.state.status)}: ${r.state.detail}`;
    const faults = r.faults.length
      ? [
          `${this.colours.yellow(`faults: ${r.faults.length} active`)} (\`overlab fault ls ${r.lab.name}\` says what each changed, \`overlab fault clear\` mends it)`,
          ...r.faults.map((f) => `  fault ${f.id}  ${f.hidden ? 'hidden' : f.kind}  ${f.summary}`),
        ]
      : [];
    const engines = r.lab.engines ? [`engines: ${r.lab.engines.map((e, k) => `${e.name}${k === 0 ? ' (primary)' : ''}${e.address ? ` at ${e.address}` : ''}`).join(', ')}`] : [];
    if (this.tree) return [`status: ${status}`, ...engines, ...faults, renderLabDiagram(r.lab)].join('\n');
    const engineOf = new Map((r.engines ?? []).map((e) => [e.node, e.engine]));
    return [
      `lab ${r.lab.name}: underlay ${r.lab.underlay.subnet}` + (r.lab.underlay.gateway ? `, gateway ${r.lab.underlay.gateway}` : ''),
      `status: ${status}`,
      ...engines,
      ...faults,
      '',
      renderTable(r.interfaces, [
        { header: 'NODE', value: (i) => (i.netns ? `${i.node}/${i.netns}` : i.node) },
        ...(r.engines ? [{ header: 'ENGINE', value: (i: InterfaceState) => engineOf.get(i.node) ?? '' }] : []),
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
