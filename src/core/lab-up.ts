// Bring a resolved lab up as an ordered list of phases. The command layer shows them as listr2
// tasks; whatever happens (a failed phase, Ctrl-C), rollbackLab() removes what was made.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { containerSpecs, labFingerprint } from '../plan/containers.js';
import { renderNodeScripts, renderSwitchScript, type NodeScript } from '../plan/node-scripts.js';
import { failedCommand, scriptErrors, toExecutable } from '../plan/batch-script.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { downLab } from './lab-down.js';
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

export function upPhases(runtime: ContainerRuntime, lab: ResolvedLab): UpPhase[] {
  const specs = containerSpecs(lab);
  return [
    {
      title: `Start ${specs.length} containers (${lab.hosts.length} hosts, ${lab.externals.length} other nodes, 1 switch)`,
      async run(signal) {
        throwIfAborted(signal);
        if (!(await runtime.imageExists(lab.image))) {
          throw environmentError(`image ${lab.image} is missing`, 'build it with `overlab image build` (or `bash scripts/setup.sh`)');
        }
        await Promise.all(specs.map((spec) => runtime.createAndStart(spec)));
      },
    },
    {
      title: `Cable every node to the underlay ${lab.underlay.subnet}`,
      async run(signal) {
        throwIfAborted(signal);
        const nodes = [...lab.hosts.map((h) => h.container), ...lab.externals.map((e) => e.container)];
        const pids = new Map(await Promise.all(nodes.map(async (c) => [c, String(await runtime.pidOf(c))] as const)));
        await runNodeScript(runtime, renderSwitchScript(lab, (c) => pids.get(c)!), signal);
      },
    },
    {
      title: `Wire ${lab.hosts.length + lab.externals.length} nodes (bridges, veth pairs, pods, routes)`,
      async run(signal) {
        throwIfAborted(signal);
        await Promise.all(renderNodeScripts(lab).map((script) => runNodeScript(runtime, script, signal)));
      },
    },
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
