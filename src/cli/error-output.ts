// How an error leaves overlab: the exit code, and either the JSON envelope on stdout or the
// human lines on stderr (internal errors as a bug report, stacks on request). Shared by the base
// command and the oclif-free validate path, so both answer the same way.
import { EXIT_BAD_INPUT, exitCodeFor, isInternal, OverlabError } from '../base/errors.js';
import { palette, shouldUseColour } from '../text/colour.js';
import { terminalSafeKeepingColour } from '../text/terminal-text.js';
import { debugRequested } from './debug.js';
import { errorEnvelope, renderErrorForHuman } from './envelope.js';

export interface ErrorOutputContext {
  json: boolean;
  argv: readonly string[];
  version?: string;
}

/** Writes the error and returns the exit code it maps to. */
export function writeError(error: Error, context: ErrorOutputContext): number {
  // oclif's own parse errors (unknown flag, missing or extra argument, bad option) are bad input.
  // Recognised by the `oclif` property every CLIError carries, so this module (used by the fast
  // validate path) does not load oclif.
  const parseError = typeof (error as { oclif?: unknown }).oclif === 'object' && !(error instanceof OverlabError);
  const code = parseError ? EXIT_BAD_INPUT : exitCodeFor(error);
  const debug = debugRequested(context.argv, process.env);
  const internal = !parseError && isInternal(error);
  if (context.json) {
    process.stdout.write(JSON.stringify(errorEnvelope(error, code, { internal, debug }), null, 2) + '\n');
  } else {
    const colours = palette(shouldUseColour({ isTTY: Boolean(process.stderr.isTTY), env: process.env, json: false }));
    const presentation = { internal, debug, ...(context.version ? { version: context.version } : {}) };
    process.stderr.write(terminalSafeKeepingColour(renderErrorForHuman(error, colours, presentation)) + '\n');
  }
  return code;
}
