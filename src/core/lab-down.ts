import type { ContainerRuntime } from '../runtime/runtime.js';
import { LABEL_LAB } from '../plan/naming.js';

export interface DownResult {
  lab: string;
  removed: string[];
}

/** Remove every container carrying the lab's label. Idempotent: a lab that is gone is not an
 * error. Callers hold the lab's lock (lab-lock.ts), so no `up` builds while this removes. */
export async function downLab(runtime: ContainerRuntime, lab: string): Promise<DownResult> {
  const containers = await runtime.list({ [LABEL_LAB]: lab });
  await Promise.all(containers.map((c) => runtime.remove(c.id)));
  return { lab, removed: containers.map((c) => c.name).sort() };
}
