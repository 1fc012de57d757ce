import { BaseCommand } from '../cli/base-command.js';
import type { ArgCompletion } from '../cli/completion.js';
import { runDoctor, type Finding } from '../core/doctor.js';
import { renderTable } from '../text/table.js';

export default class Doctor extends BaseCommand<Finding[]> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = [];
  static override summary = 'Check the engine, the host image, capabilities and kernel features (veth, bridge, TUN, VXLAN).';
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json'];
  static override description =
    'Exit 0 when everything a lab needs works, 3 otherwise; each failure says how to fix it. Kernel features only some fault kinds need (tc qdiscs such as netem, iptables statistic, ebtables) are listed with a dash when missing and do not fail doctor.';

  protected async execute(): Promise<Finding[]> {
    await this.parse(Doctor);
    const findings = await runDoctor(this.runtime);
    this.resultExitCode = findings.every((f) => f.ok || f.optional) ? 0 : 3;
    return findings;
  }

  protected renderHuman(findings: Finding[]): string {
    return renderTable(findings, [
      { header: '', value: (f) => (f.ok ? this.colours.green('✓') : f.optional ? this.colours.yellow('–') : this.colours.red('✗')) },
      { header: 'CHECK', value: (f) => f.check },
      { header: 'DETAIL', value: (f) => f.detail, maxWidth: 80 },
      { header: 'FIX', value: (f) => f.fix ?? '' },
    ]);
  }
}
