// listr2 progress whose renderer is a pure function of flags, environment and TTY (after
// lint-staged): silent for --json (stdout is the envelope), plain lines for CI and pipes.
import { Listr } from 'listr2';
import { newRunId, rollbackRun, upPhases, type UpHooks, type UpPhase } from '../core/lab-up.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { OverlabError } from '../core/errors.js';

export type RendererName = 'default' | 'simple' | 'silent';

export interface RendererInput {
  json: boolean;
  quiet?: boolean;
  isTTY: boolean;
  env: Record<string, string | undefined>;
}

export function chooseRenderer({ json, quiet, isTTY, env }: RendererInput): RendererName {
  if (json || quiet) return 'silent';
  if (!isTTY || (env.CI !== undefined && env.CI !== '' && env.CI !== 'false') || env.TERM === 'dumb') return 'simple';
  return 'default';
}

export async function runPhases(phases: UpPhase[], signal: AbortSignal, renderer: RendererName): Promise<void> {
  const list = new Listr(
    phases.map((phase) => ({ title: phase.title, task: () => phase.run(signal) })),
    {
      renderer,
      fallbackRenderer: 'simple',
      exitOnError: true,
      // overlab handles Ctrl-C itself so it can roll back; listr2 must not exit the process.
      registerSignalListeners: false,
    },
  );
  await list.run();
}

export function rendererFromProcess(json: boolean): RendererName {
  return chooseRenderer({ json, isTTY: Boolean(process.stderr.isTTY), env: process.env });
}

function interrupted(lab: string, clean: boolean): OverlabError {
  return new OverlabError(
    'interrupted',
    'interrupted',
    clean ? `nothing of lab ${lab} was left behind` : `the engine did not answer the clean-up: once it does, run \`overlab down ${lab}\``,
  );
}

/** Bring a lab up with progress; a failure or Ctrl-C removes everything this run made (and only
 * that: containers carrying its run id). Call it holding the lab's lock. */
export async function upWithRollback(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, renderer: RendererName, run: string = newRunId(), hooks: UpHooks = {}): Promise<void> {
  try {
    await runPhases(upPhases(runtime, lab, run, hooks), signal, renderer);
    if (signal.aborted) throw interrupted(lab.name, false);
  } catch (error) {
    const { clean } = await rollbackRun(runtime, lab.name, run);
    if (signal.aborted) throw interrupted(lab.name, clean);
    throw error;
  }
}
