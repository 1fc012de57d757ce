// `overlab validate <spec> [--json]` without oclif: loading oclif costs more than validating a
// spec, and validate is what an editor or a pre-commit hook runs on every save. Same output,
// envelope and exit codes as the oclif command (src/commands/validate.ts), which still answers
// every other form (help, unknown flags).
import { InterruptedError, type StopSignal } from '../base/errors.js';
import { onStopSignals } from './stop-signals.js';
import { loadLabSpec } from '../lab-loader/load.js';
import { renderValidateResult, validateSummary } from '../report/validate-summary.js';
import { palette, shouldUseColour } from '../text/colour.js';
import { specFileFor } from './bundled-labs.js';
import { successEnvelope } from './envelope.js';
import { writeError } from './error-output.js';
import { terminalSafeKeepingColour } from '../text/terminal-text.js';

/** Runs validate when `args` (after "validate") is a plain `<spec>` with an optional `--json`;
 * returns false, having done nothing, for any other form. */
export async function validateFast(args: string[]): Promise<boolean> {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.length !== 1 || rest[0]!.startsWith('-') || args.length > 2) return false;
  const file = rest[0]!;
  const abort = new AbortController();
  let stopped: StopSignal | undefined;
  const uninstall = onStopSignals((signal) => {
    stopped = signal;
    abort.abort();
  });
  try {
    const spec = specFileFor(file);
    const result = validateSummary(spec, await loadLabSpec(spec, abort.signal));
    if (json) process.stdout.write(JSON.stringify(successEnvelope(result, 0), null, 2) + '\n');
    else process.stdout.write(terminalSafeKeepingColour(renderValidateResult(result, palette(shouldUseColour({ isTTY: Boolean(process.stdout.isTTY), env: process.env, json })))) + '\n');
    process.exitCode = 0;
  } catch (e) {
    const error = stopped ? new InterruptedError(stopped) : e instanceof Error ? e : new Error(String(e));
    process.exitCode = writeError(error, { json, argv: args });
  } finally {
    uninstall();
  }
  return true;
}
