// What is on the engine under a lab's name, compared with what a spec builds: nothing, the same
// lab whole, a different one, or one that is not whole — and why `up` will not build over it.
import type { ContainerRuntime, ContainerSummary } from '../runtime/runtime.js';
import { containerSpecs, labFingerprint } from '../plan/containers.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LABEL_LAB, LABEL_NODE } from '../plan/container-names.js';
import { environmentError, inputError, type OverlabError } from '../base/errors.js';
import { groupLabs, openLab, type LabSummary } from '../lab/engine-labs.js';
import type { LabState } from '../lab/lab-state.js';
import { planRepair } from './lab-repair.js';

export type ExistingLab =
  | { kind: 'absent' }
  | { kind: 'same'; state: LabState; summary: LabSummary }
  /** Up and whole, but not what this spec builds. */
  | { kind: 'different'; reasons: string[]; state: LabState; summary: LabSummary }
  /** Not whole: a killed `up`, a lost or stopped node. */
  | { kind: 'unfinished'; state: LabState; summary: LabSummary }
  /** Built from this spec but degraded (a node gone, stopped or restarted since it was wired,
   * etcd emptied): `up` can repair it in place from its own model (lab-repair.ts). */
  | { kind: 'degraded'; state: LabState; summary: LabSummary; model: ResolvedLab };

/** What is on the engine for this lab, compared with what the spec builds. Call it holding the
 * lab's lock (a concurrent `up` or `down` would change the answer). */
export async function existingLab(runtime: ContainerRuntime, lab: ResolvedLab): Promise<ExistingLab> {
  const containers = await runtime.list({ [LABEL_LAB]: lab.name });
  const [summary] = groupLabs(containers);
  if (!summary) return { kind: 'absent' };
  // Measured: a node that restarted since it was wired runs, but with nothing in it.
  const { state, model } = await openLab(runtime, summary, { holder: false, measure: true });
  if (state.status === 'degraded' && model && summary.fingerprint === labFingerprint(lab)) return { kind: 'degraded', state, summary, model };
  if (state.status !== 'complete') return { kind: 'unfinished', state, summary };
  const reasons: string[] = [];
  if (summary.fingerprint !== labFingerprint(lab)) reasons.push('it was built from a different spec (or another version of this one)');
  const wanted = new Set(containerSpecs(lab).map((s) => s.name));
  const unwanted = containers.filter((c: ContainerSummary) => !wanted.has(c.name)).map((c) => c.labels[LABEL_NODE] ?? c.name);
  if (unwanted.length) reasons.push(`it has ${unwanted.join(', ')}, which the spec does not (added with \`overlab node add\`?)`);
  const missing = [...wanted].filter((name) => !containers.some((c) => c.name === name));
  if (missing.length) reasons.push(`it lacks ${missing.join(', ')}, which the spec has`);
  return reasons.length ? { kind: 'different', reasons, state, summary } : { kind: 'same', state, summary };
}

/** Why `up` will not build over what is there, with the way out. */
export function existingLabError(lab: ResolvedLab, existing: Exclude<ExistingLab, { kind: 'absent' } | { kind: 'same' }>, specArgument: string): OverlabError {
  const recreate = `\`overlab up ${specArgument} --recreate\` rebuilds it; \`overlab down ${lab.name}\` removes it`;
  if (existing.kind === 'degraded') {
    const refused = planRepair(existing.model, existing.state).refused;
    return environmentError(`lab "${lab.name}" is up but degraded: ${existing.state.detail}${refused ? `; it cannot be repaired in place: ${refused}` : ''}`, recreate);
  }
  if (existing.kind === 'different') {
    return inputError(`lab "${lab.name}" is already up, but ${existing.reasons.join('; ')}`, recreate);
  }
  const { state } = existing;
  const what = state.status === 'degraded' ? `is up but degraded: ${state.detail}` : `is only partly there: ${state.detail}`;
  return environmentError(`lab "${lab.name}" ${what}`, recreate);
}
