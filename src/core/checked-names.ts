// An `exec` target from the command line, checked against the one definition of the name rules
// (spec/names.ts, through spec/name-input.ts) before anything is looked up or run.
import { assertName } from '../spec/name-input.js';
import { inputError } from './errors.js';

/** `<node>` or `<host>/<pod>`, each part a valid name. */
export function checkedTarget(value: string, field = 'target'): string {
  const parts = value.split('/');
  if (parts.length > 2) throw inputError(`${field}: ${JSON.stringify(value)} is not <node> or <host>/<pod>`, 'e.g. host1/pod1');
  assertName('node', parts[0]!, field);
  if (parts.length === 2) assertName('pod', parts[1]!, field);
  return value;
}
