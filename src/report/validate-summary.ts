// What `overlab validate` reports for a valid spec, shared by the oclif command and the fast
// start-up path (src/cli/validate-fast.ts).
import type { LabSpec } from '../lab-spec/lab-spec.js';
import type { Palette } from '../text/colour.js';

export interface ValidateResult {
  file: string;
  lab: string;
  hosts: number;
  pods: number;
  nodes: number;
  checks: number;
}

export function validateSummary(file: string, spec: LabSpec): ValidateResult {
  return {
    file,
    lab: spec.name,
    hosts: spec.hosts.length,
    pods: spec.hosts.reduce((n, h) => n + h.pods.length, 0),
    nodes: spec.externals.length,
    checks: spec.checks.length,
  };
}

export function renderValidateResult(r: ValidateResult, colours: Palette): string {
  return `${colours.green('✓')} ${r.file} is a valid lab "${r.lab}": ${r.hosts} hosts, ${r.pods} pods, ${r.nodes} other nodes, ${r.checks} checks`;
}
