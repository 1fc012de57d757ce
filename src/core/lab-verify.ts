// Verify a running lab: find which of its nodes are running, read what only the running lab knows
// (the agents' leases), then run the checks — each as soon as the checks before it that could see
// its traffic (or whose traffic it could see) have finished (src/checks/check-plan.ts) — and
// report them in the spec's order.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { CheckSpec, PingSpec } from '../lab-spec/lab-spec.js';
import { reachesOf, runCheck, summarize, withKind, type CheckResult, type VerifyReport } from '../checks/run-checks.js';
import { inputError, interruptedError } from '../base/errors.js';
import { LabReferences } from '../lab/lab-references.js';
import { readLabFacts } from '../lab/etcd-leases.js';
import { unavailableNodes, type NodeAvailability } from '../lab/node-availability.js';
import type { NodeProblem } from '../lab/lab-health.js';
import { reapProbes } from '../probes/probe-reaper.js';
import { withLabLock } from '../lab/lab-lock.js';
import { planUnits, type PlannedUnit } from '../checks/check-plan.js';
import { SharedProbe } from '../checks/shared-probe.js';
import { runPing } from '../checks/kinds/ping.js';


export interface VerifyOptions {
  /** Only the checks with these names (all when empty). */
  only?: string[];
  signal: AbortSignal;
  /** Called for each result, in the spec's order. */
  onResult?: (result: CheckResult) => void;
  /** At most this many checks at once (default DEFAULT_CHECK_CONCURRENCY). */
  concurrency?: number;
  /** What the lab's running nodes lost, as measured (lab-health.ts): a check that needs a node
   * that restarted or lost its cable is an error saying so, never a fail drawn from it. */
  problems?: NodeProblem[];
}

export function selectChecks(checks: CheckSpec[], only: string[] | undefined): CheckSpec[] {
  if (!only || only.length === 0) return checks;
  const unknown = only.filter((name) => !checks.some((c) => c.name === name));
  if (unknown.length) {
    throw inputError(`no check named ${unknown.map((n) => `"${n}"`).join(', ')}`, `the checks are: ${checks.map((c) => `"${c.name}"`).join(', ')}`);
  }
  return checks.filter((c) => only.includes(c.name));
}

/** Nodes a check cannot rely on: those not running, and those whose wiring is gone (a restart, a
 * lost cable; all of them when the switch restarted). */
export function withProblems(lab: ResolvedLab, listed: NodeAvailability, problems: NodeProblem[]): NodeAvailability {
  const out = new Map(listed);
  const nodes = [...lab.hosts, ...lab.externals].map((n) => n.name);
  for (const p of problems) {
    const repair = { reason: `${p.detail} (\`overlab up\` on its spec repairs it)` };
    if (p.kind === 'switch-restarted') for (const n of nodes) if (!out.has(n)) out.set(n, repair);
    if ((p.kind === 'restarted' || p.kind === 'uncabled') && !out.has(p.node)) out.set(p.node, repair);
    if (p.kind === 'etcd-silent' && !out.has(p.node)) out.set(p.node, { reason: p.detail });
  }
  return out;
}

/** How many checks (or sets of checks sharing a probe) run at once at most: the machine's cores
 * are shared with the lab itself. */
export const DEFAULT_CHECK_CONCURRENCY = 8;

export async function verifyLab(runtime: ContainerRuntime, lab: ResolvedLab, checks: CheckSpec[], options: VerifyOptions): Promise<VerifyReport> {
  const selected = selectChecks(checks.map(withKind), options.only);
  // One verify of a lab at a time: its reap below would stop another verify's captures.
  return withLabLock(runtime, lab.name, options.signal, () => verifySelected(runtime, lab, selected, options), { scope: 'probes' });
}

async function verifySelected(runtime: ContainerRuntime, lab: ResolvedLab, selected: CheckSpec[], options: VerifyOptions): Promise<VerifyReport> {
  const unavailable = withProblems(lab, await unavailableNodes(runtime, lab), options.problems ?? []);
  const running = [...lab.hosts, ...lab.externals].filter((n) => !unavailable.has(n.name)).map((n) => n.container);
  // Probes a killed run left behind (by their PID files) must not outlive it into this one; the
  // leases are read meanwhile.
  const [, facts] = await Promise.all([reapProbes(runtime, running), readLabFacts(runtime, lab, unavailable)]);
  const names = new LabReferences(lab, facts);
  // Results are reported in the spec's order, each as soon as every check before it has one.
  const results: (CheckResult | undefined)[] = selected.map(() => undefined);
  let reported = 0;
  const report = () => {
    while (reported < results.length && results[reported] !== undefined) {
      const next = results[reported++]!;
      options.onResult?.(next);
    }
  };
  const runOne = async (i: number, probe?: SharedProbe) => {
    let arrived = false;
    const share = probe ? () => ((arrived = true), probe.arrive()) : undefined;
    try {
      results[i] = await runCheck(runtime, names, selected[i]!, options.signal, unavailable, share);
    } finally {
      if (probe && !arrived) probe.leave();
    }
    report();
  };
  const reaches = reachesOf(selected, names);
  const units = planUnits(reaches);
  await runUnits(units, options.concurrency ?? DEFAULT_CHECK_CONCURRENCY, options.signal, async (unit) => {
    // A shared unit's traffic is one ping, the same for each of its checks (its share key).
    const key = unit.shared ? reaches[unit.checks[0]!]!.shareKey : undefined;
    const ping = key !== undefined ? (JSON.parse(key) as PingSpec) : undefined;
    const probe = ping ? new SharedProbe(unit.checks.length, () => runPing({ runtime, lab, names }, ping, options.signal)) : undefined;
    await Promise.all(unit.checks.map((i) => runOne(i, probe)));
  });
  return summarize(lab.name, results as CheckResult[]);
}

/** Start every unit once the units it comes after have finished, at most `limit` at once (a
 * unit's checks start together); the first failure is thrown once every started unit has ended. */
async function runUnits(units: PlannedUnit[], limit: number, signal: AbortSignal, run: (unit: PlannedUnit) => Promise<void>): Promise<void> {
  const done = new Set<number>();
  const started = new Set<number>();
  let failure: { error: unknown } | undefined;
  await new Promise<void>((resolve) => {
    let active = 0;
    const next = () => {
      if (failure === undefined && signal.aborted) failure = { error: interruptedError() };
      for (let u = 0; u < units.length && active < limit && failure === undefined; u++) {
        if (started.has(u) || !units[u]!.after.every((a) => done.has(a))) continue;
        started.add(u);
        active++;
        run(units[u]!)
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => {
            active--;
            done.add(u);
            next();
          });
      }
      if (active === 0) resolve();
    };
    next();
  });
  if (failure) throw failure.error;
}
