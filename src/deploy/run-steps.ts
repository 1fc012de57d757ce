// Run argv commands in a container with one exec of the constant step runner (step-runner.ts),
// and say which command failed when one does.
import type { ContainerRuntime, ExecResult } from '../runtime/runtime.js';
import { encodeSteps, failedCommand, RUNNER_ARGV, runnerErrors, toRunnerSteps, type RunnerStep } from '../plan/step-runner.js';
import { planCommands, type NodePlan } from '../plan/node-plan.js';
import { shellCommand } from '../plan/shell-quote.js';
import { interruptedError, OverlabError } from '../base/errors.js';
import { bootWiringOutcome, WIRING_WAIT_ARGV } from '../plan/node-boot-wiring.js';
import { EngineError } from '../runtime/engine-errors.js';
import { debugLog } from '../base/debug-log.js';
import { NETNS_WAIT_SECONDS } from '../plan/node-plans.js';

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
  if (result.exitCode !== 0) throw wiringFailed(plan, result);
}

/** How long a node's boot may stay silent while it wires itself: it may wait that long for the
 * switch's hand-over (NETNS_WAIT_SECONDS), and then some. */
const BOOT_WIRING_IDLE_MS = (NETNS_WAIT_SECONDS + 30) * 1000;

/** The plan a node's container runs as it first boots (src/plan/node-boot-wiring.ts): its outcome,
 * read from the container's output, fails as runPlan's would. */
export async function bootWiring(runtime: ContainerRuntime, plan: CompiledPlan, signal: AbortSignal): Promise<void> {
  let stderr = '';
  let outcome: ReturnType<typeof bootWiringOutcome>;
  let seen: boolean;
  try {
    seen = await runtime.followOutput(
      plan.container,
      (stream, text) => {
        if (stream === 'stderr') stderr += text;
        outcome = bootWiringOutcome(stderr);
        return outcome !== undefined;
      },
      { signal, idleMs: BOOT_WIRING_IDLE_MS },
    );
  } catch (error) {
    // An engine whose log driver cannot be read back (`none`, …): ask the node itself.
    if (signal.aborted || !(error instanceof EngineError) || !['bad-request', 'server'].includes(error.failure)) throw error;
    debugLog('deploy', `read ${plan.container}'s output (waiting in it for its wiring instead)`, error);
    const result = await runtime.exec(plan.container, [...WIRING_WAIT_ARGV], { signal });
    if (result.exitCode !== 0) throw wiringFailed(plan, result);
    return;
  }
  if (signal.aborted) throw interruptedError();
  if (!seen || !outcome) {
    throw new OverlabError('environment', `wiring ${plan.node} failed: its container stopped before it had wired itself${stderr.trim() ? ` (${stderr.trim().split('\n').slice(-3).join('; ')})` : ''}`, `see \`docker logs ${plan.container}\``);
  }
  if (outcome.exitCode !== 0) throw wiringFailed(plan, { stdout: '', ...outcome });
}

function wiringFailed(plan: CompiledPlan, result: ExecResult): OverlabError {
  const steps = plan.steps;
  const failed = failedCommand(steps, result.stderr);
  const detail = runnerErrors(result.stderr).slice(-3).join('; ');
  return new OverlabError(
    'environment',
    `wiring ${plan.node} failed at \`${failed ? shellCommand(failed) : '(unknown command)'}\`: ${detail || `exit ${result.exitCode}`}`,
    'run `overlab doctor` to check the kernel features this lab needs',
  );
}
