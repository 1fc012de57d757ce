// Run argv commands in a container with one exec of the constant step runner (step-runner.ts),
// and say which command failed when one does.
import type { ContainerRuntime, ExecResult } from '../runtime/runtime.js';
import { encodeSteps, failedCommand, RUNNER_ARGV, runnerErrors, toRunnerSteps, type RunnerStep } from '../plan/step-runner.js';
import { planCommands, type NodePlan } from '../plan/node-plan.js';
import { shellCommand } from '../plan/shell-quote.js';
import { OverlabError } from '../base/errors.js';

export async function runSteps(runtime: ContainerRuntime, container: string, steps: readonly RunnerStep[], signal?: AbortSignal): Promise<ExecResult> {
  return runtime.exec(container, [...RUNNER_ARGV], { stdin: encodeSteps(steps), ...(signal ? { signal } : {}) });
}

/** A plan ready to run: its commands grouped into runner steps. Compiling checks every batch
 * token, so a plan the runner would refuse is refused before anything is created. */
export interface CompiledPlan {
  node: string;
  container: string;
  steps: RunnerStep[];
}

export function compilePlan(plan: NodePlan): CompiledPlan {
  return { node: plan.node, container: plan.container, steps: toRunnerSteps(planCommands(plan)) };
}

/** Run a node's plan; a failure names the command (as a student would type it) and its error. */
export async function runPlan(runtime: ContainerRuntime, source: NodePlan | CompiledPlan, signal?: AbortSignal): Promise<void> {
  const plan = 'steps' in source ? source : compilePlan(source);
  const steps = plan.steps;
  if (steps.length === 0) return;
  const result = await runSteps(runtime, plan.container, steps, signal);
  if (result.exitCode === 0) return;
  const failed = failedCommand(steps, result.stderr);
  const detail = runnerErrors(result.stderr).slice(-3).join('; ');
  throw new OverlabError(
    'environment',
    `wiring ${plan.node} failed at \`${failed ? shellCommand(failed) : '(unknown command)'}\`: ${detail || `exit ${result.exitCode}`}`,
    'run `overlab doctor` to check the kernel features this lab needs',
  );
}
