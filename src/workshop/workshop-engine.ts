// What the workshop commands do to labs: build an exercise's broken lab, check it (the lab must
// still be the one `start` built, with its faults — or a rebuild would pass for a fix), apply the
// reference solution, take it down, and the selftest that runs them all for an exercise author.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LabReferences } from '../lab/lab-references.js';
import { summarize, type CheckResult, type VerifyReport } from '../checks/run-checks.js';
import { inputError, interruptedError, OverlabError } from '../base/errors.js';
import { readLabFacts } from '../lab/etcd-leases.js';
import { withLabLock } from '../lab/lab-lock.js';
import { readCompletion } from '../lab/lab-files.js';
import { findLab, openLab } from '../lab/engine-labs.js';
import { downLab } from '../core/lab-down.js';
import { quietPhases, upLab, type PhaseRunner } from '../core/lab-up.js';
import { newRunId } from '../core/run-id.js';
import { verifyLab } from '../core/lab-verify.js';
import { unavailableNodes } from '../lab/node-availability.js';
import { pollUntil, realClock } from '../base/poll.js';
import { labUsesAgents } from '../plan/overlay.js';
import { resolveLab } from '../plan/resolve-lab.js';
import { LABEL_LAB } from '../plan/container-names.js';
import { inEndpoint } from '../probes/endpoint.js';
import { readFaultBook } from '../faults/fault-store.js';
import { fillPlaceholders } from './placeholders.js';
import type { Exercise, SolutionStep } from './exercise.js';
import { tolerated } from '../base/debug-log.js';

export interface BuiltLab {
  lab: ResolvedLab;
  /** The run id of the `up` that built it (its completion marker). */
  run: string;
  durationMs: number;
}

/** Build (or rebuild) the exercise's broken lab under `labName`. A lab of that name that this
 * exercise built goes first; one built from anything else is someone's own lab and is left alone
 * (unless `replaceOthers`: `reset` of the active exercise, whose lab the student rebuilt). */
export async function buildExerciseLab(
  runtime: ContainerRuntime,
  exercise: Exercise,
  labName: string,
  signal: AbortSignal,
  progress: PhaseRunner,
  options: { replaceOthers?: boolean } = {},
): Promise<BuiltLab> {
  // The run id the completion marker will carry, chosen before the build: `check` compares it.
  const run = newRunId();
  const outcome = await upLab(runtime, {
    name: labName,
    resolve: ({ taken }) => resolveLab({ ...exercise.lab, name: labName }, { takenSubnets: taken }),
    whenExisting: (existing) => {
      if (existing.summary.specFile !== exercise.file && !options.replaceOthers) {
        throw inputError(
          `a lab named ${labName} is up, built from ${existing.summary.specFile || 'another spec'}, not by this exercise`,
          `it is not removed for you: \`overlab down ${labName}\` if it may go`,
        );
      }
      return 'rebuild';
    },
    progress,
    run,
    signal,
  });
  return { lab: outcome.lab, run, durationMs: outcome.durationMs };
}

export async function removeExerciseLab(runtime: ContainerRuntime, labName: string, signal: AbortSignal): Promise<string[]> {
  return withLabLock(runtime, labName, signal, async () => (await downLab(runtime, labName)).removed);
}

export interface ExerciseCheck {
  exercise: number;
  lab: string;
  solved: boolean;
  /** One line: "solved: …" or "not yet: <the first failing check>: <why>". */
  line: string;
  /** The checks as `verify` reports them; the lab's integrity comes first when it failed. */
  report: VerifyReport;
}

const INTEGRITY = 'the lab is the one `workshop start` built, faults included';

function integrityFailure(lab: string, reason: string): CheckResult {
  return { name: INTEGRITY, kind: 'workshop', status: 'fail', seen: '-', reason, durationMs: 0, details: {} };
}

function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw interruptedError();
}

/** How long a lab run by agents may take to converge after a correct fix: an agent that waited for
 * etcd tries again within its backoff (at most 10 s), then takes its lease and its peers program
 * it (about a second). A lab programmed by overlab itself converges at once. */
export const AGENT_LAB_SETTLE_MS = 15_000;

export function settleTime(lab: ResolvedLab): number {
  return labUsesAgents(lab) ? AGENT_LAB_SETTLE_MS : 0;
}

export interface CheckOptions {
  onResult?: (r: CheckResult) => void;
  /** Give a fix the time the lab needs to converge (settleTime): the failing checks are asked
   * again, once a second, until they pass or that time is up. Default: one look. */
  settle?: boolean;
  /** Told once, before the waiting starts (a person should see why the answer takes a while). */
  onSettle?: (ms: number) => void;
}

/** Is the exercise solved on this lab? Never says so for a lab that is not up, not whole, rebuilt
 * since it was started, or whose faults were cleared instead of fixed. */
export async function checkExercise(
  runtime: ContainerRuntime,
  exercise: Exercise,
  expected: { lab: string; run: string },
  signal: AbortSignal,
  options: CheckOptions | ((r: CheckResult) => void) = {},
): Promise<ExerciseCheck> {
  const { onResult, settle = false, onSettle } = typeof options === 'function' ? { onResult: options } : options;
  const notYet = (reason: string): ExerciseCheck => ({
    exercise: exercise.id,
    lab: expected.lab,
    solved: false,
    line: `not yet: ${reason}`,
    report: summarize(expected.lab, [integrityFailure(expected.lab, reason)]),
  });
  const summary = await findLab(runtime, expected.lab);
  if (!summary) return notYet(`the exercise's lab ${expected.lab} is not up — \`overlab workshop reset\` builds it again`);
  const { model, state } = await openLab(runtime, summary);
  if (!model || state.status === 'incomplete' || state.status === 'building') return notYet(`the lab ${expected.lab} is not whole (${state.detail}) — \`overlab workshop reset\``);
  const marker = await readCompletion(runtime, model.underlay.switchContainer, { signal });
  if (marker?.run !== expected.run) {
    return notYet(`the lab ${expected.lab} was rebuilt since the exercise started, so its faults are gone, not fixed — \`overlab workshop reset\` brings the exercise back`);
  }
  const book = await readFaultBook(runtime, model.underlay.switchContainer, { signal });
  const wanted = (model.faults ?? []).length;
  const left = book.faults.filter((f) => f.source === 'exercise').length;
  if (left < wanted) {
    return notYet(`${wanted - left} of the exercise's faults ${wanted - left === 1 ? 'was' : 'were'} cleared with \`overlab fault clear\`, not fixed — \`overlab workshop reset\` brings the exercise back`);
  }
  let report = await verifyLab(runtime, model, model.checks, { signal, ...(onResult ? { onResult } : {}) });
  const settleMs = settle ? settleTime(model) : 0;
  if (settleMs > 0 && report.failed > 0) {
    // A correct fix may need the lab to converge (an agent's next try): ask the failing checks again.
    onSettle?.(settleMs);
    const deadline = Date.now() + settleMs;
    while (report.failed > 0 && Date.now() < deadline) {
      await realClock.sleep(1_000, signal);
      throwIfInterrupted(signal);
      const again = await verifyLab(runtime, model, model.checks, { signal, only: report.checks.filter((c) => c.status !== 'pass').map((c) => c.name) });
      const checks = report.checks.map((c) => again.checks.find((a) => a.name === c.name) ?? c);
      report = summarize(report.lab, checks);
    }
  }
  const failed = report.checks.find((c) => c.status !== 'pass');
  return {
    exercise: exercise.id,
    lab: expected.lab,
    solved: !failed,
    line: failed ? `not yet: ${failed.name}: ${failed.reason ?? failed.status}` : `solved: all ${report.checks.length} checks pass`,
    report,
  };
}

/** The solution's steps with the lab's own addresses filled in (placeholders left when it is not up). */
export function solutionCommands(exercise: Exercise, lab?: ResolvedLab, names?: LabReferences): { on: string; argv: string[]; text: string }[] {
  return exercise.solution.map((step) => {
    const argv = lab && names ? step.argv.map((w) => fillPlaceholders(w, lab, names)) : step.argv;
    return { on: step.on, argv, text: `overlab exec ${lab?.name ?? '<lab>'} ${step.on} -- ${argv.map(shellWord).join(' ')}` };
  });
}

/** A word as a person would type it in a shell (for display only; nothing here runs in one). */
function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./<>-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** Names for filling placeholders; the VTEP MACs the agents chose are read from etcd only when
 * a solution asks for one (etcd may be the thing that is down). */
export async function labNames(runtime: ContainerRuntime, lab: ResolvedLab, exercise?: Exercise): Promise<LabReferences> {
  const needsFacts = !exercise || exercise.solution.some((s) => s.argv.some((w) => w.includes('<mac:')));
  if (!needsFacts) return new LabReferences(lab);
  return new LabReferences(lab, await readLabFacts(runtime, lab, await unavailableNodes(runtime, lab)).catch(tolerated('workshop', `read the facts of ${lab.name} (no <mac:…> in solutions)`, { vtepMacs: {} })));
}

export interface SolveStepResult {
  on: string;
  argv: string[];
  exitCode: number;
  output: string;
}

/** Run the reference solution on the lab (argv execs, in order; the first failure stops it). */
export async function applySolution(runtime: ContainerRuntime, exercise: Exercise, lab: ResolvedLab, signal: AbortSignal, onStep?: (r: SolveStepResult) => void): Promise<SolveStepResult[]> {
  return withLabLock(runtime, lab.name, signal, async () => {
    const names = await labNames(runtime, lab, exercise);
    const results: SolveStepResult[] = [];
    for (const step of exercise.solution as SolutionStep[]) {
      const argv = step.argv.map((w) => fillPlaceholders(w, lab, names));
      const endpoint = names.endpoint(step.on);
      const r = await runtime.exec(endpoint.container, inEndpoint(endpoint, argv), { signal });
      const result = { on: step.on, argv, exitCode: r.exitCode, output: (r.stdout + r.stderr).trim() };
      results.push(result);
      onStep?.(result);
      if (r.exitCode !== 0) {
        throw new OverlabError('environment', `solution step ${results.length} (\`${argv.join(' ')}\` on ${step.on}) failed with exit ${r.exitCode}: ${result.output.split('\n').at(-1) ?? ''}`, 'is the lab in the state `workshop start` made? `overlab workshop reset`');
      }
    }
    return results;
  });
}

export interface SelftestStep {
  step: 'start' | 'check fails' | 'solve' | 'check passes' | 'reset' | 'check fails again' | 'stop leaves nothing';
  ok: boolean;
  detail: string;
  durationMs: number;
}

export interface SelftestResult {
  id: number;
  title: string;
  lab: string;
  ok: boolean;
  steps: SelftestStep[];
  durationMs: number;
}

/** How long after the solution the checks may take to pass (agents and etcd converging). */
export const SOLVED_WITHIN_MS = 45_000;

/** start → check must fail → solve → check must pass → reset → check must fail → stop leaves
 * nothing, on a lab of its own name (st<id>), so a student's exercise lab is never touched. */
export async function selftest(runtime: ContainerRuntime, exercise: Exercise, signal: AbortSignal): Promise<SelftestResult> {
  const labName = `st${exercise.id}`;
  const started = Date.now();
  const steps: SelftestStep[] = [];
  const step = async (name: SelftestStep['step'], body: () => Promise<{ ok: boolean; detail: string }>) => {
    const t = Date.now();
    try {
      const r = await body();
      steps.push({ step: name, ...r, durationMs: Date.now() - t });
      return r.ok;
    } catch (error) {
      if (signal.aborted) throw error;
      steps.push({ step: name, ok: false, detail: (error as Error).message.split('\n')[0]!, durationMs: Date.now() - t });
      return false;
    }
  };
  let built: BuiltLab | undefined;
  const check = (expectSolved: boolean) => async () => {
    const r = await checkExercise(runtime, exercise, { lab: labName, run: built!.run }, signal);
    return { ok: r.solved === expectSolved, detail: r.line };
  };
  // After the solution a control plane may still be converging (an agent started again takes its
  // lease, a restarted etcd is found by agents backing off): ask again until solved or the deadline.
  const solvedSoon = async () => {
    let last = { ok: false, detail: '' };
    await pollUntil(
      async () => {
        last = await check(true)();
        return last.ok;
      },
      { timeoutMs: SOLVED_WITHIN_MS, intervalMs: 1_000, signal },
    );
    return last;
  };
  try {
    const ok =
      (await step('start', async () => {
        built = await buildExerciseLab(runtime, exercise, labName, signal, quietPhases);
        return { ok: true, detail: `${labName} up in ${(built.durationMs / 1000).toFixed(1)} s` };
      })) &&
      (await step('check fails', check(false))) &&
      (await step('solve', async () => {
        const done = await applySolution(runtime, exercise, built!.lab, signal);
        return { ok: true, detail: `${done.length} command${done.length === 1 ? '' : 's'}` };
      })) &&
      (await step('check passes', solvedSoon)) &&
      (await step('reset', async () => {
        built = await buildExerciseLab(runtime, exercise, labName, signal, quietPhases);
        return { ok: true, detail: `rebuilt in ${(built.durationMs / 1000).toFixed(1)} s` };
      })) &&
      (await step('check fails again', check(false)));
    void ok;
  } finally {
    await step('stop leaves nothing', async () => {
      await removeExerciseLab(runtime, labName, signal);
      const left = await runtime.list({ [LABEL_LAB]: labName });
      return { ok: left.length === 0, detail: left.length ? `left: ${left.map((c) => c.name).join(', ')}` : 'no container of the lab is left' };
    });
  }
  return { id: exercise.id, title: exercise.title, lab: labName, ok: steps.length === 7 && steps.every((s) => s.ok), steps, durationMs: Date.now() - started };
}
