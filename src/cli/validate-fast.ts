// `overlab validate <spec> [--json]` without oclif: loading oclif costs more than validating a
// spec, and validate is what an editor or a pre-commit hook runs on every save. Same output,
// envelope and exit codes as the oclif command (src/commands/validate.ts), which still answers
// every other form (help, unknown flags).
import { exitCodeFor, EXIT_INTERRUPTED } from '../core/errors.js';
import { loadLabSpec } from '../spec/load.js';
import { renderValidateResult, validateSummary } from '../spec/validate-summary.js';
import { palette, shouldUseColour } from '../report/colour.js';
import { errorEnvelope, renderErrorForHuman, successEnvelope } from './envelope.js';

/** Runs validate when `args` (after "validate") is a plain `<spec>` with an optional `--json`;
 * returns false, having done nothing, for any other form. */
export async function validateFast(args: string[]): Promise<boolean> {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.length !== 1 || rest[0]!.startsWith('-') || args.length > 2) return false;
  const file = rest[0]!;
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(EXIT_INTERRUPTED);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = validateSummary(file, await loadLabSpec(file, abort.signal));
    if (json) process.stdout.write(JSON.stringify(successEnvelope(result, 0), null, 2) + '\n');
    else process.stdout.write(renderValidateResult(result, palette(shouldUseColour({ isTTY: Boolean(process.stdout.isTTY), env: process.env, json }))) + '\n');
    process.exitCode = 0;
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    const code = exitCodeFor(error);
    if (json) process.stdout.write(JSON.stringify(errorEnvelope(error, code), null, 2) + '\n');
    else process.stderr.write(renderErrorForHuman(error, palette(shouldUseColour({ isTTY: Boolean(process.stderr.isTTY), env: process.env, json: false }))) + '\n');
    process.exitCode = code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return true;
}
