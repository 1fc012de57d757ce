// The `up` phase of a lab with CNI hosts: after the control plane has written subnet.env (the
// agents have converged, or the static plan wrote it), attach the pods as a kubelet would, then
// keep what the plugins chose (MACs, veth names) in the lab's model.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { cniHosts, cniNetwork } from '../plan/cni-plan.js';
import { usesAgent } from '../plan/overlay.js';
import { attachCniPods } from './cni-attach.js';
import { saveLabModel } from '../lab/lab-files.js';
import { throwIfAborted } from './node-bringup.js';

export interface CniPhase {
  title: string;
  run(signal: AbortSignal): Promise<void>;
}

export function cniPhases(runtime: ContainerRuntime, lab: ResolvedLab): CniPhase[] {
  const hosts = cniHosts(lab);
  if (hosts.length === 0) return [];
  const pods = hosts.reduce((n, h) => n + h.pods.length, 0);
  const from = usesAgent(cniNetwork(lab)) ? "the agent's" : "the static plan's";
  return [
    {
      title: `Attach ${pods} pods on ${hosts.map((h) => h.name).join(', ')} through CNI, as a kubelet does (flannel → bridge + host-local from ${from} subnet.env, then portmap)`,
      async run(signal: AbortSignal) {
        throwIfAborted(signal);
        await attachCniPods(runtime, lab, signal);
        await saveLabModel(runtime, lab, { signal });
      },
    },
  ];
}
