// Whether the user asked for internals (stack traces): `--debug` before any `--`, or a DEBUG
// variable that names overlab (DEBUG=overlab*, DEBUG=*), as the debug package reads it.
import { debugNames } from '../base/debug-log.js';

export function debugRequested(argv: readonly string[], env: Record<string, string | undefined>): boolean {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  return flags.includes('--debug') || debugNames(env.DEBUG, 'overlab');
}
