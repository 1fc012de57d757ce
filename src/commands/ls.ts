import { BaseCommand } from '../cli/base-command.js';
import { listLabs } from '../core/lab-registry.js';
import { renderTable } from '../report/table.js';

interface LsRow {
  lab: string;
  nodes: number;
  running: number;
  underlay: string;
  spec: string;
}

export default class Ls extends BaseCommand<LsRow[]> {
  static override summary = 'List the labs that are up on this engine.';

  protected async execute(): Promise<LsRow[]> {
    await this.parse(Ls);
    return (await listLabs(this.runtime)).map((l) => ({
      lab: l.name,
      nodes: l.nodes.length,
      running: l.running,
      underlay: l.underlay,
      spec: l.specFile,
    }));
  }

  protected renderHuman(rows: LsRow[]): string {
    if (rows.length === 0) return 'no labs are up (start one with `overlab up labs/same-host.yaml`)';
    return renderTable(rows, [
      { header: 'LAB', value: (r) => r.lab },
      { header: 'CONTAINERS', value: (r) => `${r.running}/${r.nodes} running` },
      { header: 'UNDERLAY', value: (r) => r.underlay },
      { header: 'SPEC', value: (r) => r.spec },
    ]);
  }
}
