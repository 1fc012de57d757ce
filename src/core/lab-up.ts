// The one way a lab comes up, for `up`, `run`, `workshop start|reset` (and, for its rollback,
// `node add`): under the lab's lock, the underlay chosen holding the engine-wide choice until the
// switch has started, the lab resolved from that choice, what is already there measured and
// decided on (keep it, rebuild it, or refuse), then the phases (src/core/up-phases.ts) run with
// progress shown by whoever asked (the CLI hands in listr2) — and on any failure or Ctrl-C every
// container this run made removed, found by its run id, never another run's.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LABEL_LAB, LABEL_RUN } from '../plan/container-names.js';
import { OverlabError } from '../base/errors.js';
import { withLabLock } from '../lab/lab-lock.js';
import { withUnderlayChoice, type UnderlayChoice } from '../lab/underlay-choice.js';
import { downLab } from './lab-down.js';
import { existingLab, existingLabError, type ExistingLab } from './existing-lab.js';
import { upPhases, type UpHooks, type UpPhase } from './up-phases.js';
import { newRunId } from './run-id.js';
import { debugLog } from '../base/debug-log.js';
import { RoutedRuntime } from '../runtime/routed-runtime.js';
import { planRepair, repairPhases, type NodeRepair } from './lab-repair.js';

/** Runs the phases in order and shows them (the CLI's listr2 progress, src/cli/progress.ts); the
 * orchestration stays here, the presentation is handed in. */
export type PhaseRunner = (phases: UpPhase[], signal: AbortSignal) => Promise<void>;

/** The phases one after the other, showing nothing. */
export const quietPhases: PhaseRunner = async (phases, signal) => {
  for (const phase of phases) await phase.run(signal);
};

/** What to do with a lab of this name that is already on the engine: leave it as it is, take it
 * down and build it again, or (a degraded lab from the same spec) repair it in place. To refuse,
 * throw (the error the caller's user should read). */
export type UpDecision = 'keep' | 'rebuild' | 'repair';

export interface UpRequest {
  /** The lab's name: its lock, and the label on its containers. */
  name: string;
  /** The lab to build, resolved from the underlay choice (the subnets others use, the lab's
   * current underlay): called holding the lab's lock and the choice. */
  resolve(choice: Pick<UnderlayChoice, 'taken' | 'current'>): ResolvedLab;
  /** Called when a lab of this name is there (anything but `absent`). Default: the same lab whole
   * is kept; anything else is refused with `existingLabError` (`up` without --recreate). */
  whenExisting?(existing: Exclude<ExistingLab, { kind: 'absent' }>, lab: ResolvedLab): UpDecision;
  /** Shows the phases; default: nothing shown. */
  progress?: PhaseRunner;
  /** This run's id (labels, the completion marker); default a fresh one. */
  run?: string;
  signal: AbortSignal;
}

export interface UpOutcome {
  lab: ResolvedLab;
  /** `created`: built by this run; `unchanged`: the lab that was there was kept; `repaired`: a
   * degraded lab was repaired in place (`repairs` says what was done, node by node). */
  status: 'created' | 'unchanged' | 'repaired';
  repairs?: NodeRepair[];
  /** This run's id (its containers' label, the completion marker), when it built the lab. */
  run?: string;
  durationMs: number;
}

/** The spec's argument as `up` was given it, for the way out in `existingLabError`. */
export function refuseExisting(specArgument: string): NonNullable<UpRequest['whenExisting']> {
  return (existing, lab) => {
    if (existing.kind === 'same') return 'keep';
    if (existing.kind === 'degraded' && !planRepair(existing.model, existing.state).refused) return 'repair';
    throw existingLabError(lab, existing, specArgument);
  };
}

/** Bring the lab up the one way; `afterwards` runs still holding the lab's lock (`run` verifies
 * there, then takes the lab down). */
export async function upLab<T = UpOutcome>(runtime: ContainerRuntime, request: UpRequest, afterwards?: (outcome: UpOutcome) => Promise<T>): Promise<T> {
  const { name, signal } = request;
  const started = Date.now();
  return withLabLock(runtime, name, signal, async () => {
    // The underlay is chosen holding the engine-wide choice until this lab's switch has started:
    // a lab built at the same time (here or by another process) never gets the same one.
    const outcome = await withUnderlayChoice(runtime, name, signal, async (choice): Promise<UpOutcome> => {
      const lab = request.resolve(choice);
      const existing = await existingLab(runtime, lab);
      if (existing.kind !== 'absent') {
        const decision = (request.whenExisting ?? refuseExisting(lab.name))(existing, lab);
        if (decision === 'keep') return { lab, status: 'unchanged', durationMs: Date.now() - started };
        if (decision === 'repair' && existing.kind === 'degraded') {
          await choice.release(); // its underlay is the one it has
          const run = request.run ?? newRunId();
          const { phases, done } = repairPhases(runtime, existing.model, planRepair(existing.model, existing.state), run);
          await withRunRollback(runtime, lab.name, run, signal, () => (request.progress ?? quietPhases)(phases, signal));
          return { lab: existing.model, status: 'repaired', run, repairs: done, durationMs: Date.now() - started };
        }
        await downLab(runtime, lab.name);
      }
      const run = request.run ?? newRunId();
      await upWithRollback(runtime, lab, signal, request.progress ?? quietPhases, run, { switchStarted: choice.release });
      return { lab, status: 'created', run, durationMs: Date.now() - started };
    });
    return afterwards ? afterwards(outcome) : (outcome as T);
  });
}

export interface RollbackResult {
  removed: string[];
  /** False when an engine could not be asked (hung, gone): something may be left. */
  clean: boolean;
  /** A lab spread over engines: the engines that could not be asked, and how they are reached. */
  unreached: { engine: string; endpoint: string }[];
}

/** Remove every container of the lab (after `run` verified it). Never throws. */
export async function rollbackLab(runtime: ContainerRuntime, lab: string): Promise<string[]> {
  try {
    return (await downLab(runtime, lab)).removed;
  } catch (error) {
    debugLog('core', `remove the containers of ${lab}`, error);
    return [];
  }
}

/** One engine's share of the rollback. Never throws. */
async function rollbackOn(runtime: ContainerRuntime, lab: string, run: string): Promise<{ removed: string[]; clean: boolean }> {
  const removed: string[] = [];
  try {
    // Twice: a create that Ctrl-C cut short on our side may still land on the engine's.
    for (let pass = 0; pass < 2; pass++) {
      const mine = await runtime.list({ [LABEL_LAB]: lab, [LABEL_RUN]: run });
      if (mine.length === 0) break;
      await Promise.all(mine.map((c) => runtime.remove(c.id)));
      removed.push(...mine.map((c) => c.name));
    }
    await runtime.removeVolumes({ [LABEL_LAB]: lab, [LABEL_RUN]: run }); // the share it made
    return { removed, clean: true };
  } catch (error) {
    debugLog('core', `roll back run ${run} of ${lab} on ${runtime.endpoint}`, error);
    return { removed, clean: false };
  }
}

/** Remove every container this run made (by its run id label), then the lab's share if this run
 * made it, never another run's — on every engine of a lab spread over several, each on its own:
 * one engine that died does not keep the others' share from going. Never throws: the original
 * error matters more. */
export async function rollbackRun(runtime: ContainerRuntime, lab: string, run: string): Promise<RollbackResult> {
  const engines = runtime instanceof RoutedRuntime && runtime.named.length > 1 ? runtime.named : [{ name: '', runtime }];
  const results = await Promise.all(engines.map((e) => rollbackOn(e.runtime, lab, run)));
  const unreached = engines.filter((_, i) => !results[i]!.clean).map((e) => ({ engine: e.name, endpoint: e.runtime.endpoint }));
  return { removed: [...new Set(results.flatMap((r) => r.removed))].sort(), clean: unreached.length === 0, unreached };
}

function interrupted(lab: string, clean: boolean): OverlabError {
  return new OverlabError(
    'interrupted',
    'interrupted',
    clean ? `nothing of lab ${lab} was left behind` : `the engine did not answer the clean-up: once it does, run \`overlab down ${lab}\``,
  );
}

/** A failure of a lab spread over engines whose rollback could not reach some of them: the
 * error goes on, saying what was removed elsewhere and where this run's containers may be left. */
function withRollbackSaid(error: unknown, lab: string, rollback: RollbackResult): unknown {
  const named = rollback.unreached.filter((u) => u.engine !== '');
  if (named.length === 0 || !(error instanceof OverlabError) || error.kind === 'internal') return error;
  const where = named.map((u) => `engine ${u.engine} (${u.endpoint})`).join(', ');
  return new OverlabError(
    error.kind,
    `${error.message}; rolled back on the lab's other engines (${rollback.removed.length} containers removed), but ${where} did not answer: what this run made there may be left`,
    `once ${named.length > 1 ? 'they answer' : 'it answers'}, \`overlab down ${lab}\` talking to ${named.length > 1 ? 'each' : 'it'} (${named.map((u) => `DOCKER_HOST=${u.endpoint}`).join(', ')}) removes the rest`,
  );
}

/** Run `work` as run `run` of lab `lab`: on a failure or Ctrl-C, every container carrying the run
 * id is removed (`rollbackRun`) before the error goes on — an interruption saying whether the
 * clean-up was complete. `up` and `node add` both change a lab this way. */
export async function withRunRollback<T>(runtime: ContainerRuntime, lab: string, run: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    if (signal.aborted) throw interrupted(lab, false);
    return result;
  } catch (error) {
    const rollback = await rollbackRun(runtime, lab, run);
    if (signal.aborted) throw interrupted(lab, rollback.clean);
    throw withRollbackSaid(error, lab, rollback);
  }
}

/** The phases of a resolved lab, shown by `progress`, rolled back as one run. Call it holding the
 * lab's lock; `upLab` is the way that also takes it and decides about what is there. */
export async function upWithRollback(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, progress: PhaseRunner = quietPhases, run: string = newRunId(), hooks: UpHooks = {}): Promise<void> {
  await withRunRollback(runtime, lab.name, run, signal, () => progress(upPhases(runtime, lab, run, hooks), signal));
}
