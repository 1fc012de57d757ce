// Bring a resolved lab up as an ordered list of phases. The command layer shows them as listr2
// tasks; whatever happens (a failed phase, Ctrl-C), rollbackLab() removes what was made.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { containerSpecs, labFingerprint } from '../plan/containers.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { downLab } from './lab-down.js';
import { startAgents, waitForAgents } from './agents.js';
import { labUsesAgents, usesAgent } from '../plan/overlay.js';
import { environmentError, interruptedError } from './errors.js';
import { bringUpLab, throwIfAborted } from './node-bringup.js';

export interface UpPhase {
  title: string;
  run(signal: AbortSignal): Promise<void>;
}

export function upPhases(runtime: ContainerRuntime, lab: ResolvedLab): UpPhase[] {
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
      run: (signal) => bringUpLab(runtime, lab, signal),
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
