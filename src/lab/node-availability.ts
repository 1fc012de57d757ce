// Which of a lab's nodes are running, from one engine listing: a check or a fault that needs a
// node that is gone or stopped is refused with this sentence, never judged on missing evidence.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LABEL_LAB, LABEL_NODE } from '../plan/container-names.js';

/** Nodes of the lab that are not running, with why (from one listing of the lab's containers). */
export type NodeAvailability = ReadonlyMap<string, string>;

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
