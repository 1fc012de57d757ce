import type { ContainerRuntime, ContainerSummary } from '../runtime/runtime.js';
import { LABEL_ENGINE, RoutedRuntime } from '../runtime/routed-runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { environmentError } from '../base/errors.js';
import { LABEL_LAB, LABEL_POD_ATTACH, switchContainerName } from '../plan/container-names.js';
import { detachForDown, type DetachOutcome } from '../deploy/cni-attach.js';
import { loadLabModel } from '../lab/lab-files.js';
import { debugLog } from '../base/debug-log.js';

export interface DownResult {
  lab: string;
  removed: string[];
  /** Hosts whose pods were attached through CNI: DEL ran for them first (docs/cni.md). */
  cniDetached?: DetachOutcome[];
}

/** How long `down` gives CNI DEL before it removes the containers anyway. */
const CNI_DEL_DEADLINE_MS = 20_000;

/** As a kubelet deletes its pods before the node goes: DEL for every CNI host's pods (from the
 * lab's model). Best effort: the containers go whatever DEL says. */
async function detachCniPods(runtime: ContainerRuntime, lab: string, running: Set<string>): Promise<DetachOutcome[] | undefined> {
  const signal = AbortSignal.timeout(CNI_DEL_DEADLINE_MS);
  try {
    const model = await loadLabModel(runtime, switchContainerName(lab), { signal });
    return model ? await detachForDown(runtime, model, running, signal) : undefined;
  } catch (error) {
    debugLog('core', `detach the CNI pods of ${lab} (the containers go all the same)`, error);
    return undefined;
  }
}

/** Remove every container carrying the lab's label, then its share. Idempotent: a lab that is gone is not an
 * error. Callers hold the lab's lock (lab-lock.ts), so no `up` builds while this removes. */
export async function downLab(runtime: ContainerRuntime, lab: string): Promise<DownResult> {
  const model = () => loadLabModel(runtime, switchContainerName(lab)).catch(() => undefined);
  if (runtime instanceof RoutedRuntime && runtime.named.length > 1) return downAcrossEngines(runtime, lab, await model());
  const containers = await runtime.list({ [LABEL_LAB]: lab });
  // A lab across engines labels each of its containers with its engine and names the engines in
  // its model: read it (it adopts them). A lab on one engine is removed without that read (an
  // archive read from the switch, ~40 ms, was a third of `down`'s own time).
  if (runtime instanceof RoutedRuntime && containers.some((c) => c.labels[LABEL_ENGINE] !== undefined)) {
    const read = await model();
    if (runtime.named.length > 1) return downAcrossEngines(runtime, lab, read);
  }
  const cniHosts = containers.filter((c) => c.labels[LABEL_POD_ATTACH] === 'cni' && c.state === 'running');
  const cniDetached = cniHosts.length ? await detachCniPods(runtime, lab, new Set(cniHosts.map((c) => c.name))) : undefined;
  await Promise.all(containers.map((c) => runtime.remove(c.id)));
  await runtime.removeVolumes({ [LABEL_LAB]: lab }); // the lab's share, once no container mounts it
  return { lab, removed: containers.map((c) => c.name).sort(), ...(cniDetached ? { cniDetached } : {}) };
}

/** Every engine's share of the lab. An engine that does not answer keeps its share: the others'
 * are removed, the primary's switch (the lab's model, which names every engine) stays so a later
 * `down` can finish, and the error names the engine and what is left there (exit 3). */
async function downAcrossEngines(runtime: RoutedRuntime, lab: string, model: ResolvedLab | undefined): Promise<DownResult> {
  const lists = await Promise.allSettled(runtime.named.map(async (e) => ({ engine: e.name, found: await e.runtime.list({ [LABEL_LAB]: lab }) })));
  const reached = lists.filter((l): l is PromiseFulfilledResult<{ engine: string; found: ContainerSummary[] }> => l.status === 'fulfilled').map((l) => l.value);
  const lost = runtime.named.map((e, i) => ({ engine: e.name, endpoint: e.runtime.endpoint, result: lists[i]! })).filter((l) => l.result.status === 'rejected');
  for (const { engine, found } of reached) for (const c of found) runtime.place(c.name, engine);
  const containers = reached.flatMap((r) => r.found);
  const cniHosts = containers.filter((c) => c.labels[LABEL_POD_ATTACH] === 'cni' && c.state === 'running');
  const cniDetached = cniHosts.length ? await detachCniPods(runtime, lab, new Set(cniHosts.map((c) => c.name))) : undefined;
  const keep = lost.length ? switchContainerName(lab) : undefined;
  const going = containers.filter((c) => c.name !== keep);
  await Promise.all(going.map((c) => runtime.remove(c.name)));
  // Each reached engine's share of the lab (none where a container was kept).
  await Promise.all(reached.filter(({ found }) => !found.some((c) => c.name === keep)).map(({ engine }) => runtime.engine(engine).removeVolumes({ [LABEL_LAB]: lab })));
  if (lost.length) {
    const leftOn = (engine: string) => {
      const placed = model ? [...(model.engines ?? []).filter((e) => e.name === engine).map((e) => e.switchContainer), ...[...model.hosts, ...model.externals].filter((n) => n.engine === engine).map((n) => n.container)] : [];
      return placed.length ? placed.join(', ') : "its share of the lab (the model does not say which)";
    };
    const why = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason instanceof Error ? r.reason.message : String(r.reason)) : '');
    throw environmentError(
      `${lost.map((l) => `engine ${l.engine} (${l.endpoint}) did not answer: ${why(l.result)}`).join('; ')}. Removed ${going.length} containers on the other engines; left on ${lost.map((l) => `${l.engine}: ${leftOn(l.engine)}`).join('; ')}${keep && containers.some((c) => c.name === keep) ? `; kept ${keep} (the lab's model) so a later down finds every engine` : ''}`,
      `when the engine answers again, \`overlab down ${lab}\` removes the rest`,
    );
  }
  return { lab, removed: going.map((c) => c.name).sort(), ...(cniDetached ? { cniDetached } : {}) };
}
