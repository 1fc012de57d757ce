import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { loadLabSpec } from '../spec/load.js';

interface ValidateResult {
  file: string;
  lab: string;
  hosts: number;
  pods: number;
  nodes: number;
  checks: number;
}

export default class Validate extends BaseCommand<ValidateResult> {
  static override summary = 'Check a lab spec without touching the system.';
  static override description = 'Parses the YAML, checks it against the schema and the rules (names, CIDRs, references). Exit 0 when valid, 2 with file:line:col errors otherwise.';
  static override examples = ['<%= config.bin %> validate labs/same-host.yaml'];
  static override args = { spec: Args.string({ description: 'Path to a lab spec (YAML).', required: true }) };

  protected async execute(): Promise<ValidateResult> {
    const { args } = await this.parse(Validate);
    const spec = await loadLabSpec(args.spec, this.abort.signal);
    return {
      file: args.spec,
      lab: spec.name,
      hosts: spec.hosts.length,
      pods: spec.hosts.reduce((n, h) => n + h.pods.length, 0),
      nodes: spec.externals.length,
      checks: spec.checks.length,
    };
  }

  protected renderHuman(r: ValidateResult): string {
    return `${this.colours.green('✓')} ${r.file} is a valid lab "${r.lab}": ${r.hosts} hosts, ${r.pods} pods, ${r.nodes} other nodes, ${r.checks} checks`;
  }
}
