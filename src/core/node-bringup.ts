// What runs inside one node's container during `up` and `node add`: its container started, its
// cable to the underlay switch, and its wiring script.
import type { ContainerRuntime, ContainerSpec } from '../runtime/runtime.js';
import { renderCableScript, type NodeScript } from '../plan/node-scripts.js';
import { failedCommand, scriptErrors, toExecutable } from '../plan/batch-script.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { interruptedError, OverlabError } from './errors.js';

export function throwIfAborted(signal: AbortSignal): void {
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

