// Bring a resolved lab up as an ordered list of phases. The command layer shows them as listr2
// tasks; whatever happens (a failed phase, Ctrl-C), rollbackLab() removes what was made.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { containerSpecs, labFingerprint } from '../plan/containers.js';
import { renderNodeScripts, renderSwitchBridgeScript } from '../plan/node-scripts.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { downLab } from './lab-down.js';
import { startAgents, waitForAgents } from './agents.js';
import { labUsesAgents, usesAgent } from '../plan/overlay.js';
import { environmentError, interruptedError } from './errors.js';
import { bringUpNode, runNodeScript, throwIfAborted } from './node-bringup.js';

export interface UpPhase {
  title: string;
  run(signal: AbortSignal): Promise<void>;
}

export function upPhases(runtime: ContainerRuntime, lab: ResolvedLab): UpPhase[] {
  const specs = containerSpecs(lab);
  const switchSpec = specs.find((s) => s.name === lab.underlay.switchContainer)!;
  const scripts = renderNodeScripts(lab);
  const nodes = scripts.map((script) => ({ script, spec: specs.find((s) => s.name === script.container)! }));
  return [
    {
      title: `Check the host image ${lab.image}`,
      async run(signal) {
        throwIfAborted(signal);
        if (!(await runtime.imageExists(lab.image))) {
          throw environmentError(`image ${lab.image} is missing`, 'build it with `overlab image build` (or `bash scripts/setup.sh`)');
        }
      },
    },
    {
      title: `Start the underlay switch (${lab.underlay.subnet}), ${lab.hosts.length} hosts and ${lab.externals.length} other nodes; cable and wire each (bridges, veth pairs, pods, routes)`,
      async run(signal) {
        throwIfAborted(signal);
        // The switch starts alongside the nodes; only the cabling waits for its bridge.
        const switchReady = (async () => {
          await runtime.createAndStart(switchSpec);
          await runNodeScript(runtime, renderSwitchBridgeScript(lab), signal);
        })();
        const all = await Promise.allSettled([switchReady, ...nodes.map((n) => bringUpNode(runtime, lab, n.spec, n.script, switchReady, signal))]);
        const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
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
  ];
}

export type ExistingLabState = 'absent' | 'same' | 'different';

export async function existingLabState(runtime: ContainerRuntime, lab: ResolvedLab): Promise<ExistingLabState> {
  const containers = await runtime.list({ 'overlab.lab': lab.name });
  if (containers.length === 0) return 'absent';
  const expected = containerSpecs(lab).length;
  const fingerprint = containers.map((c) => c.labels['overlab.fingerprint']).find((f) => f);
  const allRunning = containers.every((c) => c.state === 'running');
  return fingerprint === labFingerprint(lab) && allRunning && containers.length === expected ? 'same' : 'different';
}

/** Remove everything a (partial) `up` made. Never throws: the original error matters more. */
export async function rollbackLab(runtime: ContainerRuntime, lab: string): Promise<string[]> {
  try {
    return (await downLab(runtime, lab)).removed;
  } catch {
    return [];
  }
}
