// Verify a running lab: find which of its nodes are running, read what only the running lab knows
// (the agents' leases), then run the checks group by group (today: one at a time) and summarise.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { CheckSpec } from '../spec/model.js';
import { planChecks, runCheck, summarize, withKind, type CheckResult, type NodeAvailability, type VerifyReport } from '../checks/run-checks.js';
import { inputError, interruptedError } from './errors.js';
import { LabNames } from '../checks/lab-names.js';
import { readLabFacts } from './lab-facts.js';
import { LABEL_LAB, LABEL_NODE } from '../plan/naming.js';
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

/** Every node of the lab that is not running, with a sentence saying so (one engine listing). */
export async function unavailableNodes(runtime: ContainerRuntime, lab: ResolvedLab): Promise<NodeAvailability> {
  const listed = await runtime.list({ [LABEL_LAB]: lab.name });
  const state = new Map(listed.map((c) => [c.labels[LABEL_NODE] ?? '', c.state]));
  const out = new Map<string, string>();
  for (const node of [...lab.hosts, ...lab.externals]) {
    const s = state.get(node.name);
    if (s === undefined) out.set(node.name, `${node.name} (container ${node.container}) is gone from the lab`);
    else if (s !== 'running') out.set(node.name, `${node.name} (container ${node.container}) is ${s}, not running`);
  }
  return out;
}

export async function verifyLab(runtime: ContainerRuntime, lab: ResolvedLab, checks: CheckSpec[], options: VerifyOptions): Promise<VerifyReport> {
  const results: CheckResult[] = [];
  const selected = selectChecks(checks.map(withKind), options.only);
  const unavailable = await unavailableNodes(runtime, lab);
  // Probes a killed run left behind (by their PID files) must not outlive it into this one.
  await reapProbes(runtime, [...lab.hosts, ...lab.externals].filter((n) => !unavailable.has(n.name)).map((n) => n.container));
  const names = new LabNames(lab, await readLabFacts(runtime, lab, unavailable));
  for (const group of planChecks(selected)) {
    for (const check of group) {
      if (options.signal.aborted) throw interruptedError();
      const result = await runCheck(runtime, names, check, options.signal, unavailable);
      results.push(result);
      options.onResult?.(result);
    }
  }
  return summarize(lab.name, results);
}
