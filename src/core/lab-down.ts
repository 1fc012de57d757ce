import type { ContainerRuntime } from '../runtime/runtime.js';
import { LABEL_LAB } from '../plan/naming.js';

export interface DownResult {
  lab: string;
  removed: string[];
}

/** Remove every container carrying the lab's label. Idempotent: a lab that is gone is not an error. */
export async function downLab(runtime: ContainerRuntime, lab: string): Promise<DownResult> {
  const containers = await runtime.list({ [LABEL_LAB]: lab });
  await Promise.all(containers.map((c) => runtime.remove(c.id)));
  return { lab, removed: containers.map((c) => c.name).sort() };
}

export async function downAllLabs(runtime: ContainerRuntime): Promise<DownResult[]> {
  const containers = await runtime.list({ [LABEL_LAB]: true });
  const labs = [...new Set(containers.map((c) => c.labels[LABEL_LAB]).filter((l): l is string => !!l))].sort();
  return Promise.all(labs.map((lab) => downLab(runtime, lab)));
}
