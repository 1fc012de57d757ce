// Verify a running lab: find which of its nodes are running, read what only the running lab knows
// (the agents' leases), then run the checks group by group — the checks of a group together
// (src/checks/check-plan.ts says which may) — and summarise, in the spec's order.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { CheckSpec } from '../spec/model.js';
import { planChecks, runCheck, summarize, withKind, type CheckResult, type NodeAvailability, type VerifyReport } from '../checks/run-checks.js';
import { inputError, interruptedError } from './errors.js';
import { LabNames } from '../checks/lab-names.js';
import { readLabFacts } from './lab-facts.js';
import { LABEL_LAB, LABEL_NODE } from '../plan/naming.js';
import { reapProbes } from '../probes/probe-reaper.js';
import { eachLimited } from './each-limited.js';

export interface VerifyOptions {
  /** Only the checks with these names (all when empty). */
  only?: string[];
  signal: AbortSignal;
  /** Called for each result, in the spec's order. */
  onResult?: (result: CheckResult) => void;
  /** At most this many checks of one group at once (default DEFAULT_CHECK_CONCURRENCY). */
  concurrency?: number;
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

/** How many checks of one group run at once at most (the machine's cores are shared with the
 * lab itself; a group is usually a handful of pings and kernel reads). */
export const DEFAULT_CHECK_CONCURRENCY = 8;

export async function verifyLab(runtime: ContainerRuntime, lab: ResolvedLab, checks: CheckSpec[], options: VerifyOptions): Promise<VerifyReport> {
  const selected = selectChecks(checks.map(withKind), options.only);
  const unavailable = await unavailableNodes(runtime, lab);
  // Probes a killed run left behind (by their PID files) must not outlive it into this one.
  await reapProbes(runtime, [...lab.hosts, ...lab.externals].filter((n) => !unavailable.has(n.name)).map((n) => n.container));
  const names = new LabNames(lab, await readLabFacts(runtime, lab, unavailable));
  // Results are reported in the spec's order, each as soon as every check before it has one.
  const results: (CheckResult | undefined)[] = selected.map(() => undefined);
  const position = new Map(selected.map((c, i) => [c, i]));
  let reported = 0;
  const report = () => {
    while (reported < results.length && results[reported] !== undefined) {
      const next = results[reported++]!;
      options.onResult?.(next);
    }
  };
  for (const group of planChecks(selected, names)) {
    await eachLimited(group, options.concurrency ?? DEFAULT_CHECK_CONCURRENCY, async (check) => {
      if (options.signal.aborted) throw interruptedError();
      results[position.get(check)!] = await runCheck(runtime, names, check, options.signal, unavailable);
      report();
    });
  }
  return summarize(lab.name, results as CheckResult[]);
}
