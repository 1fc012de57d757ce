// listr2 progress whose renderer is a pure function of flags, environment and TTY (after
// lint-staged): silent for --json (stdout is the envelope), plain lines for CI and pipes. Progress
// is for the person watching: it goes to stderr, so `overlab up x > out` writes only the result.
// listr2 is loaded only when something is shown: silent, the phases simply run in turn.
import { quietPhases, type PhaseRunner } from '../core/lab-up.js';
import type { UpPhase } from '../core/up-phases.js';

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
  // Nothing to show (--json): listr2's silent renderer would only run them in turn, after costing
  // `up` a tenth of its start-up to load.
  if (renderer === 'silent') return quietPhases(phases, signal);
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  // listr2's renderers write through their logger's process output: both its streams are stderr.
  const stderrLogger = () => new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const list = new Listr(
    phases.map((phase) => ({ title: phase.title, task: () => phase.run(signal) })),
    {
      renderer,
      fallbackRenderer: 'simple',
      rendererOptions: { logger: stderrLogger() },
      fallbackRendererOptions: { logger: stderrLogger() },
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

/** The phases shown as listr2 tasks with this renderer (what core's bring-up takes as its progress). */
export function listrProgress(renderer: RendererName): PhaseRunner {
  return (phases, signal) => runPhases(phases, signal, renderer);
}
