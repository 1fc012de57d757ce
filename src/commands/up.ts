import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { listrProgress, rendererFromProcess } from '../cli/progress.js';
import { loadLabSpec } from '../lab-loader/load.js';
import { resolveLab } from '../plan/resolve-lab.js';
import { specFileFor } from '../cli/bundled-labs.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { refuseExisting, upLab } from '../core/lab-up.js';
import type { NodeRepair } from '../core/lab-repair.js';
import { takenSubnets } from '../lab/taken-subnets.js';
import { renderDryRun } from '../plan/dry-run.js';
import { renderLabDiagram } from '../report/lab-diagram.js';
import { tolerated } from '../base/debug-log.js';

export interface UpResult {
  lab: string;
  status: 'created' | 'unchanged' | 'repaired' | 'dry-run';
  /** A degraded lab repaired in place: what was done, node by node (status `repaired`). */
  repairs?: NodeRepair[];
  durationMs: number;
  resolved: ResolvedLab;
  script?: string;
}

export default class Up extends BaseCommand<UpResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['spec'];
  static override summary = 'Build a lab from its spec: containers, underlay, bridges, veth pairs, pods, routes.';
  static override description =
    'The switch starts first, then every node in parallel, each wired by one exec of argv commands (no shell reads any value). A failure or Ctrl-C in the middle removes everything this run made. A lab that is already up and whole from the same spec is left alone; one that is degraded (a node gone, stopped or restarted since it was wired, etcd emptied) is repaired in place — only its broken nodes are wired or made again, and what was done is said node by node; one only partly there or from another spec is reported (--recreate rebuilds it). One process at a time changes a lab: a second waits briefly, then says who holds it. --dry-run prints the exact commands instead.';
  static override examples = [
    '<%= config.bin %> up labs/same-host.yaml',
    '<%= config.bin %> up labs/host-gw.yaml --dry-run',
    '<%= config.bin %> up flannel-vxlan --engine a=unix:///var/run/docker.sock --engine b=ssh://me@10.0.0.2',
  ];
  static override args = { spec: Args.string({ description: 'Path to a lab spec (YAML), or the name of a bundled lab (`overlab labs`).', required: true }) };
  static override flags = {
    'dry-run': Flags.boolean({ description: 'Print the commands per container, as you could type them; change nothing.', default: false }),
    recreate: Flags.boolean({ description: 'If the lab is already up (whole or not), take it down first.', default: false }),
    image: Flags.string({ description: 'Host image to use (default: the spec\'s, else overlab/host:latest).' }),
    engine: Flags.string({
      description: 'NAME=ENDPOINT: an engine for this run (unix://, tcp://, ssh:// or a Docker context name), added to the spec\'s engines: (or replacing one of the same name). Two or more engines spread the lab, hosts dealt out in spec order.',
      multiple: true,
    }),
  };

  protected async execute(): Promise<UpResult> {
    const { args, flags } = await this.parse(Up);
    const spec = await loadLabSpec(specFileFor(args.spec));
    this.labInScope = spec.name;
    this.runtimeOverride = this.specRuntime(spec, flags.engine ?? []);
    const started = Date.now();
    const image = flags.image;
    const resolve = (taken: string[], current?: string) => resolveLab(spec, { takenSubnets: taken, ...(current ? { currentUnderlay: current } : {}), ...(image ? { image } : {}) });
    if (flags['dry-run']) {
      const taken = await takenSubnets(this.runtime, spec.name).catch(tolerated('cli', 'list the subnets in use (a dry run works without an engine)', [] as string[]));
      const lab = resolve(taken);
      return { lab: lab.name, status: 'dry-run', durationMs: Date.now() - started, resolved: lab, script: renderDryRun(lab) };
    }
    const refuse = refuseExisting(args.spec);
    const outcome = await upLab(this.runtime, {
      name: spec.name,
      resolve: ({ taken, current }) => resolve(taken, current),
      whenExisting: (existing, lab) => (flags.recreate && existing.kind !== 'same' ? 'rebuild' : refuse(existing, lab)),
      progress: listrProgress(rendererFromProcess(this.json)),
      signal: this.abort.signal,
    });
    return { lab: outcome.lab.name, status: outcome.status, ...(outcome.repairs ? { repairs: outcome.repairs } : {}), durationMs: Date.now() - started, resolved: outcome.lab };
  }

  protected renderHuman(r: UpResult): string {
    if (r.status === 'dry-run') return r.script ?? '';
    if (r.status === 'repaired') {
      const lines = (r.repairs ?? []).map((x) => `  ${x.node}: ${x.did}`);
      const head = `${this.colours.green('✓')} lab ${r.lab} repaired in place (${(r.durationMs / 1000).toFixed(1)} s)${lines.length ? ':' : ': it had healed by itself by the time up looked again'}`;
      return [head, ...lines, '', `next: overlab verify ${r.lab}   ·   overlab ls`].join('\n');
    }
    const head =
      r.status === 'unchanged'
        ? `${this.colours.yellow('•')} lab ${r.lab} is already up, whole and matches its spec; nothing to do`
        : `${this.colours.green('✓')} lab ${r.lab} is up (${(r.durationMs / 1000).toFixed(1)} s)`;
    return [head, renderLabDiagram(r.resolved), '', `next: overlab verify ${r.lab}   ·   overlab inspect ${r.lab}   ·   overlab down ${r.lab}`].join('\n');
  }
}
