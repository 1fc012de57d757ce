// Bring a resolved lab up as an ordered list of phases. The command layer shows them as listr2
// tasks; whatever happens (a failed phase, Ctrl-C), rollbackLab() removes what was made.
import type { ContainerRuntime, ContainerSpec } from '../runtime/runtime.js';
import { containerSpecs, labFingerprint } from '../plan/containers.js';
import { renderCableScript, renderNodeScripts, renderSwitchBridgeScript, type NodeScript } from '../plan/node-scripts.js';
import { failedCommand, scriptErrors, toExecutable } from '../plan/batch-script.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { downLab } from './lab-down.js';
import { startAgents, waitForAgents } from './agents.js';
import { labUsesAgents, usesAgent } from '../plan/overlay.js';
import { environmentError, interruptedError, OverlabError } from './errors.js';

export interface UpPhase {
  title: string;
  run(signal: AbortSignal): Promise<void>;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw interruptedError();
}

export async function runNodeScript(runtime: ContainerRuntime, script: NodeScript, signal?: AbortSignal): Promise<void> {
  const executable = toExecutable(script);
  const result = await runtime.exec(script.container, ['sh', '-c', executable.shell], signal ? { signal } : {});
  if (result.exitCode === 0) return;
  const command = failedCommand(executable, result.stderr) ?? '(unknown command)';
  const detail = scriptErrors(result.stderr).slice(-3).join('; ');
  throw new OverlabError(
    'environment',
    `wiring ${script.node} failed at \`${command}\`: ${detail || `exit ${result.exitCode}`}`,
    'run `overlab doctor` to check the kernel features this lab needs',
  );
}

/** A lab node's whole bring-up, pipelined: start its container, cable it to the switch, wire it.
 * Nodes go through this in parallel, so one node's wiring overlaps another's container start. */
export async function bringUpNode(runtime: ContainerRuntime, lab: ResolvedLab, spec: ContainerSpec, script: NodeScript, switchReady: Promise<void>, signal: AbortSignal) {
  throwIfAborted(signal);
  await runtime.createAndStart(spec);
  throwIfAborted(signal);
  const pid = String(await runtime.pidOf(spec.name));
  await switchReady;
  await runNodeScript(runtime, renderCableScript(lab, script.node, () => pid), signal);
  throwIfAborted(signal);
  await runNodeScript(runtime, script, signal);
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
