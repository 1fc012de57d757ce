// Verify a running lab: run its checks in order and summarise.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { CheckSpec } from '../spec/model.js';
import { runCheck, summarize, type CheckResult, type VerifyReport } from '../checks/run-checks.js';
import { inputError, interruptedError } from './errors.js';
import { LabNames } from '../checks/lab-names.js';
import { readLabFacts } from './lab-facts.js';
import { reapProbes } from '../probes/probe-reaper.js';

export interface VerifyOptions {
  /** Only the checks with these names (all when empty). */
  only?: string[];
  signal: AbortSignal;
  onResult?: (result: CheckResult) => void;
}

export function selectChecks(checks: CheckSpec[], only: string[] | undefined): CheckSpec[] {
  if (!only || only.length === 0) return checks;
  const unknown = only.filter((name) => !checks.some((c) => c.name === name));
  if (unknown.length) {
    throw inputError(`no check named ${unknown.map((n) => `"${n}"`).join(', ')}`, `the checks are: ${checks.map((c) => `"${c.name}"`).join(', ')}`);
  }
  return checks.filter((c) => only.includes(c.name));
}

export async function verifyLab(runtime: ContainerRuntime, lab: ResolvedLab, checks: CheckSpec[], options: VerifyOptions): Promise<VerifyReport> {
  const results: CheckResult[] = [];
  const selected = selectChecks(checks, options.only);
  // Probes a killed run left behind (by their PID files) must not outlive it into this one.
  await reapProbes(runtime, [...lab.hosts, ...lab.externals].map((n) => n.container));
  const names = new LabNames(lab, await readLabFacts(runtime, lab));
  for (const check of selected) {
    if (options.signal.aborted) throw interruptedError();
    const result = await runCheck(runtime, names, check, options.signal);
    results.push(result);
    options.onResult?.(result);
  }
  return summarize(lab.name, results);
}
