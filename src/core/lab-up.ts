// Bring a resolved lab up as an ordered list of phases. The command layer shows them as listr2
// tasks; whatever happens (a failed phase, Ctrl-C), rollbackRun() removes what this run made —
// and only that, found by its run id label. The last phase marks the lab complete.
import { randomBytes } from 'node:crypto';
import type { ContainerRuntime, ContainerSummary } from '../runtime/runtime.js';
import { containerSpecs, labFingerprint } from '../plan/containers.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LABEL_LAB, LABEL_NODE, LABEL_ROLE, LABEL_RUN } from '../plan/container-names.js';
import { startAgents, waitForAgents } from '../deploy/agents.js';
import { labUsesAgents, usesAgent } from '../plan/overlay.js';
import { environmentError, inputError, OverlabError } from '../base/errors.js';
import { bringUpLab, throwIfAborted } from '../deploy/node-bringup.js';
import { markComplete, saveLabModel } from '../lab/lab-files.js';
import { groupLabs, openLab } from '../lab/engine-labs.js';
import { downLab } from './lab-down.js';
import { cniPhases } from '../deploy/cni-phase.js';
import type { LabState } from '../lab/lab-state.js';

export interface UpPhase {
  title: string;
  run(signal: AbortSignal): Promise<void>;
}

/** A fresh id for one `up` (or `node add`): time-ordered and unique enough to never repeat. */
export function newRunId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface UpHooks {
  /** Once the lab's switch has started (its underlay is then visible to others). */
  switchStarted?: () => Promise<void>;
}

export function upPhases(runtime: ContainerRuntime, lab: ResolvedLab, run: string = newRunId(), hooks: UpHooks = {}): UpPhase[] {
  const specs = containerSpecs(lab, run);
  const fingerprint = labFingerprint(lab); // of the plan, before CNI fills in what the kernel chose
  return [
    {
      title: `Check the host image ${lab.image} and that no other container holds this lab's names`,
      async run(signal) {
        throwIfAborted(signal);
        const clash = duplicateNames(specs.map((s) => ({ node: s.labels[LABEL_NODE] ?? s.name, role: s.labels[LABEL_ROLE] ?? '', container: s.name })));
        if (clash) throw clash;
        const [hasImage, collisions] = await Promise.all([
          runtime.imageExists(lab.image, { signal }),
          nameCollisions(runtime, lab, specs.map((s) => ({ node: s.labels[LABEL_NODE] ?? s.name, container: s.name }))),
        ]);
        if (collisions.length) throw collisionError(lab.name, collisions);
        if (!hasImage) throw environmentError(`image ${lab.image} is missing`, 'build it with `overlab image build` (or `bash scripts/setup.sh`)');
      },
    },
    {
      title: `Start the underlay switch (${lab.underlay.subnet}), ${lab.hosts.length} hosts and ${lab.externals.length} other nodes; cable and wire each (bridges, veth pairs, pods, routes)`,
      run: (signal) =>
        bringUpLab(runtime, lab, signal, {
          specs,
          onSwitchStarted: async () => {
            await saveLabModel(runtime, lab, { signal });
            await hooks.switchStarted?.();
          },
        }),
    },
    ...(labUsesAgents(lab)
      ? [
          {
            title: `Start ${lab.hosts.length} agents (${lab.networks.filter(usesAgent).map((n) => n.backend).join(', ')} via etcd) and wait until every host has programmed every peer`,
            async run(signal: AbortSignal) {
              throwIfAborted(signal);
              await startAgents(runtime, lab);
              await waitForAgents(runtime, lab, signal);
            },
          },
        ]
      : []),
    ...cniPhases(runtime, lab),
    ...faultPhase(runtime, lab),
    {
      title: 'Mark the lab complete',
      async run(signal) {
        throwIfAborted(signal);
        await markComplete(runtime, lab, { run, fingerprint, completedAt: new Date().toISOString() }, { signal });
      },
    },
  ];
}

/** A spec's `faults:` (or a workshop exercise's), applied once the lab is wired and its agents
 * have converged; an exercise's are not named (they are the puzzle). */
function faultPhase(runtime: ContainerRuntime, lab: ResolvedLab): UpPhase[] {
  const faults = lab.faults ?? [];
  if (!faults.length) return [];
  const fromExercise = faults.some((f) => f.source === 'exercise');
  return [
    {
      title: fromExercise ? `Break the lab for the exercise (${faults.length} fault${faults.length === 1 ? '' : 's'})` : `Apply ${faults.length} fault${faults.length === 1 ? '' : 's'} from the spec`,
      async run(signal) {
        throwIfAborted(signal);
        const { applyFaults } = await import('../faults/fault-engine.js');
        await applyFaults({ runtime, lab, signal }, faults, 'spec');
      },
    },
  ];
}

/** Two nodes of one lab that would get the same container name (a node named like one overlab
 * adds itself: `switch`, `etcd`). */
export function duplicateNames(names: { node: string; role: string; container: string }[]): OverlabError | undefined {
  const describe = (n: { node: string; role: string }) =>
    n.role === 'switch' ? "the lab's underlay switch" : n.role === 'etcd' && n.node === 'etcd' ? "the lab's etcd node" : `${n.role || 'node'} "${n.node}"`;
  const seen = new Map<string, { node: string; role: string }>();
  for (const n of names) {
    const first = seen.get(n.container);
    if (first) {
      const [ours, theirs] = first.role === 'switch' || first.role === 'etcd' ? [first, n] : [n, first];
      return inputError(
        `${describe(theirs)} would be container ${n.container}, which is ${describe(ours)}`,
        'a node may not be named like one overlab adds itself (switch, etcd): rename it in the spec',
      );
    }
    seen.set(n.container, n);
  }
  return undefined;
}

/** Another lab's (or a foreign) container holding a name this lab needs. */
export interface NameCollision {
  container: string;
  node: string;
  ownerLab?: string;
  ownerNode?: string;
}

/** Containers with the names this lab needs that belong to someone else, found before anything
 * is created: `overlab-hx-a-b-host1` is lab hx-a's node b-host1 and lab hx-a-b's host1. */
export async function nameCollisions(runtime: ContainerRuntime, lab: ResolvedLab, names: { node: string; container: string }[]): Promise<NameCollision[]> {
  const found = await runtime.listByName(names.map((n) => n.container));
  return found
    .filter((c) => c.labels[LABEL_LAB] !== lab.name)
    .map((c) => {
      const ownerLab = c.labels[LABEL_LAB];
      const ownerNode = c.labels[LABEL_NODE];
      return { container: c.name, node: names.find((n) => n.container === c.name)?.node ?? c.name, ...(ownerLab ? { ownerLab } : {}), ...(ownerNode ? { ownerNode } : {}) };
    });
}

export function collisionError(lab: string, collisions: NameCollision[]): OverlabError {
  const [first] = collisions;
  const owner = (c: NameCollision) => (c.ownerLab ? `lab ${c.ownerLab}${c.ownerNode ? ` (its node ${c.ownerNode})` : ''}` : 'a container overlab did not make');
  const lines = collisions.map((c) => `container ${c.container}, which lab ${lab} needs for its node ${c.node}, already belongs to ${owner(c)}`);
  return inputError(
    lines.join('; '),
    first?.ownerLab
      ? `container names are overlab-<lab>-<node>: rename the lab or the node so the names differ, or remove the other lab first (\`overlab down ${first.ownerLab}\`)`
      : `container names are overlab-<lab>-<node>: rename the lab or the node, or remove that container yourself if it is not needed`,
  );
}

export type ExistingLab =
  | { kind: 'absent' }
  | { kind: 'same'; state: LabState }
  /** Up and whole, but not what this spec builds. */
  | { kind: 'different'; reasons: string[]; state: LabState }
  /** Not whole: a killed `up`, a lost or stopped node. */
  | { kind: 'unfinished'; state: LabState };

/** What is on the engine for this lab, compared with what the spec builds. Call it holding the
 * lab's lock (a concurrent `up` or `down` would change the answer). */
export async function existingLab(runtime: ContainerRuntime, lab: ResolvedLab): Promise<ExistingLab> {
  const containers = await runtime.list({ [LABEL_LAB]: lab.name });
  const [summary] = groupLabs(containers);
  if (!summary) return { kind: 'absent' };
  const { state } = await openLab(runtime, summary, { holder: false });
  if (state.status !== 'complete') return { kind: 'unfinished', state };
  const reasons: string[] = [];
  if (summary.fingerprint !== labFingerprint(lab)) reasons.push('it was built from a different spec (or another version of this one)');
  const wanted = new Set(containerSpecs(lab).map((s) => s.name));
  const unwanted = containers.filter((c: ContainerSummary) => !wanted.has(c.name)).map((c) => c.labels[LABEL_NODE] ?? c.name);
  if (unwanted.length) reasons.push(`it has ${unwanted.join(', ')}, which the spec does not (added with \`overlab node add\`?)`);
  const missing = [...wanted].filter((name) => !containers.some((c) => c.name === name));
  if (missing.length) reasons.push(`it lacks ${missing.join(', ')}, which the spec has`);
  return reasons.length ? { kind: 'different', reasons, state } : { kind: 'same', state };
}

/** Why `up` will not build over what is there, with the way out. */
export function existingLabError(lab: ResolvedLab, existing: Exclude<ExistingLab, { kind: 'absent' } | { kind: 'same' }>, specArgument: string): OverlabError {
  const recreate = `\`overlab up ${specArgument} --recreate\` rebuilds it; \`overlab down ${lab.name}\` removes it`;
  if (existing.kind === 'different') {
    return inputError(`lab "${lab.name}" is already up, but ${existing.reasons.join('; ')}`, recreate);
  }
  const { state } = existing;
  const what = state.status === 'degraded' ? `is up but degraded: ${state.detail}` : `is only partly there: ${state.detail}`;
  return environmentError(`lab "${lab.name}" ${what}`, recreate);
}

export interface RollbackResult {
  removed: string[];
  /** False when the engine could not be asked (hung, gone): something may be left. */
  clean: boolean;
}

/** Remove every container of the lab (after `run` verified it). Never throws. */
export async function rollbackLab(runtime: ContainerRuntime, lab: string): Promise<string[]> {
  try {
    return (await downLab(runtime, lab)).removed;
  } catch {
    return [];
  }
}

/** Remove every container this run made (by its run id label), never another run's. Never
 * throws: the original error matters more. */
export async function rollbackRun(runtime: ContainerRuntime, lab: string, run: string): Promise<RollbackResult> {
  const removed: string[] = [];
  try {
    // Twice: a create that Ctrl-C cut short on our side may still land on the engine's.
    for (let pass = 0; pass < 2; pass++) {
      const mine = await runtime.list({ [LABEL_LAB]: lab, [LABEL_RUN]: run });
      if (mine.length === 0) break;
      await Promise.all(mine.map((c) => runtime.remove(c.id)));
      removed.push(...mine.map((c) => c.name));
    }
    return { removed: [...new Set(removed)].sort(), clean: true };
  } catch {
    return { removed: [...new Set(removed)].sort(), clean: false };
  }
}

/** Runs the phases in order and shows them (the CLI's listr2 progress, src/cli/progress.ts); the
 * orchestration stays here, the presentation is handed in. */
export type PhaseRunner = (phases: UpPhase[], signal: AbortSignal) => Promise<void>;

/** The phases one after the other, showing nothing. */
export const quietPhases: PhaseRunner = async (phases, signal) => {
  for (const phase of phases) await phase.run(signal);
};

function interrupted(lab: string, clean: boolean): OverlabError {
  return new OverlabError(
    'interrupted',
    'interrupted',
    clean ? `nothing of lab ${lab} was left behind` : `the engine did not answer the clean-up: once it does, run \`overlab down ${lab}\``,
  );
}

/** Bring a lab up with progress; a failure or Ctrl-C removes everything this run made (and only
 * that: containers carrying its run id). Call it holding the lab's lock. */
export async function upWithRollback(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, progress: PhaseRunner = quietPhases, run: string = newRunId(), hooks: UpHooks = {}): Promise<void> {
  try {
    await progress(upPhases(runtime, lab, run, hooks), signal);
    if (signal.aborted) throw interrupted(lab.name, false);
  } catch (error) {
    const { clean } = await rollbackRun(runtime, lab.name, run);
    if (signal.aborted) throw interrupted(lab.name, clean);
    throw error;
  }
}
