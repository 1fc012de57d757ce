import { BaseCommand } from '../cli/base-command.js';
import { listLabStates } from '../lab/engine-labs.js';
import type { LabState, LabStatus } from '../lab/lab-state.js';
import { renderTable } from '../text/table.js';
import type { ArgCompletion } from '../cli/completion.js';

interface LsRow {
  lab: string;
  /** complete, degraded (a node missing or stopped), building (an `up` holds it), incomplete. */
  status: LabStatus;
  detail: string;
  missing: string[];
  stopped: LabState['stopped'];
  extra: string[];
  /** What running nodes lost since they were wired: a restart, a cable, etcd's data. */
  problems: LabState['problems'];
  heldBy?: LabState['heldBy'];
  nodes: number;
  running: number;
  underlay: string;
  spec: string;
  /** The engines the lab runs on, primary first (its name, or the command's engine's address). */
  engines: string[];
  /** Engines of the lab that do not answer (the lab is degraded; what is on them is unknown). */
  lostEngines?: { engine: string; endpoint: string; why: string }[];
}

export default class Ls extends BaseCommand<LsRow[]> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = [];
  static override summary = 'List the labs on this engine and whether each is whole.';
  static override examples = ['<%= config.bin %> ls', '<%= config.bin %> ls --json'];
  static override description =
    'STATUS: complete (built to the end, every node running and wired as built), degraded (a node is missing or stopped, restarted since it was wired — its cable, pods and routes gone — or etcd lost its data; `overlab up <spec>` repairs it in place; or, across engines, an engine of the lab does not answer: it is named, marked "(lost)" under ENGINE and in lostEngines with --json, and the lab is complete again once it answers), building (another overlab process is building it), incomplete (an `up` did not finish). Measured from what is there: each container\'s start time against the one recorded when it was wired, each node\'s cable in the switch, etcd\'s network config.';

  protected async execute(): Promise<LsRow[]> {
    await this.parse(Ls);
    return (await listLabStates(this.runtime)).map(({ summary, state, model }) => ({
      lab: summary.name,
      status: state.status,
      detail: state.detail,
      missing: state.missing,
      stopped: state.stopped,
      extra: state.extra,
      problems: state.problems,
      ...(state.heldBy ? { heldBy: state.heldBy } : {}),
      nodes: summary.nodes.length,
      running: summary.running,
      underlay: summary.underlay,
      spec: summary.specFile,
      engines: model?.engines?.length ? model.engines.map((e) => e.name) : [this.runtime.endpoint],
      ...(state.lostEngines ? { lostEngines: state.lostEngines } : {}),
    }));
  }

  private status(r: LsRow): string {
    const c = this.colours;
    switch (r.status) {
      case 'complete':
        return c.green('complete') + (r.heldBy ? ` (changing: pid ${r.heldBy.pid})` : '');
      case 'degraded':
        return `${c.yellow('degraded')}: ${r.detail}`;
      case 'building':
        return `${c.yellow('building')}: ${r.detail}`;
      default:
        return `${c.red('incomplete')}: ${r.detail}`;
    }
  }

  protected renderHuman(rows: LsRow[]): string {
    if (rows.length === 0) return 'no labs are up (start one with `overlab up labs/same-host.yaml`)';
    return renderTable(rows, [
      { header: 'LAB', value: (r) => r.lab },
      { header: 'CONTAINERS', value: (r) => `${r.running}/${r.nodes} running` },
      { header: 'UNDERLAY', value: (r) => r.underlay },
      { header: 'ENGINE', value: (r) => r.engines.map((e) => (r.lostEngines?.some((l) => l.engine === e) ? `${e} (lost)` : e)).join(', '), maxWidth: 30 },
      { header: 'SPEC', value: (r) => r.spec, maxWidth: 40 },
      { header: 'STATUS', value: (r) => this.status(r) },
    ]);
  }
}
