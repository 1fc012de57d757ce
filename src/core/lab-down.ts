import type { ContainerRuntime } from '../runtime/runtime.js';
import { LABEL_LAB, LABEL_POD_ATTACH, switchContainerName } from '../plan/container-names.js';
import { detachForDown, type DetachOutcome } from '../deploy/cni-attach.js';
import { loadLabModel } from '../lab/lab-files.js';

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
  } catch {
    return undefined; // no model to say which pods: the containers go all the same
  }
}

/** Remove every container carrying the lab's label. Idempotent: a lab that is gone is not an
 * error. Callers hold the lab's lock (lab-lock.ts), so no `up` builds while this removes. */
export async function downLab(runtime: ContainerRuntime, lab: string): Promise<DownResult> {
  const containers = await runtime.list({ [LABEL_LAB]: lab });
  const cniHosts = containers.filter((c) => c.labels[LABEL_POD_ATTACH] === 'cni' && c.state === 'running');
  const cniDetached = cniHosts.length ? await detachCniPods(runtime, lab, new Set(cniHosts.map((c) => c.name))) : undefined;
  await Promise.all(containers.map((c) => runtime.remove(c.id)));
  return { lab, removed: containers.map((c) => c.name).sort(), ...(cniDetached ? { cniDetached } : {}) };
}
