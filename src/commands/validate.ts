import { Args } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { loadLabSpec } from '../lab-loader/load.js';
import { renderValidateResult, validateSummary, type ValidateResult } from '../report/validate-summary.js';
import { specFileFor } from '../cli/bundled-labs.js';

// `overlab validate <spec> [--json]` usually never reaches this class: bin/run.js answers it
// without loading oclif (src/cli/validate-fast.ts). Help, unknown flags and odd forms come here.
export default class Validate extends BaseCommand<ValidateResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['spec'];
  static override summary = 'Check a lab spec without touching the system.';
  static override description =
    'Parses the YAML, checks it against the schema and the rules (names, CIDRs, references), and reports every problem at once. Exit 0 when valid, 2 with file:line:col errors otherwise.';
  static override examples = ['<%= config.bin %> validate labs/same-host.yaml'];
  static override args = { spec: Args.string({ description: 'Path to a lab spec (YAML), or the name of a bundled lab (`overlab labs`).', required: true }) };

  protected async execute(): Promise<ValidateResult> {
    const { args } = await this.parse(Validate);
    const file = specFileFor(args.spec);
    return validateSummary(file, await loadLabSpec(file, this.abort.signal));
  }

  protected renderHuman(r: ValidateResult): string {
    return renderValidateResult(r, this.colours);
  }
}
