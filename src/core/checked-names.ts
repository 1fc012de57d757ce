// Names that enter through the command line (lab, host, pod, `exec` targets) are checked here
// against the one definition of the name rules (spec/names.ts) before anything is looked up,
// created or run.
import { NAME_RULES, nameProblem, type NameKind } from '../spec/names.js';
import { inputError } from './errors.js';

/** `value` when it is a valid name of this kind; else a bad-input error naming the field. */
export function checkedName(kind: NameKind, value: string, field: string): string {
  const problem = nameProblem(kind, value);
  if (problem) throw inputError(`${field}: ${problem}`, `e.g. ${NAME_RULES[kind].example}`);
  return value;
}

/** An `exec` target: `<node>` or `<host>/<pod>`, each part a valid name. */
export function checkedTarget(value: string, field = 'target'): string {
  const parts = value.split('/');
  if (parts.length > 2) throw inputError(`${field}: ${JSON.stringify(value)} is not <node> or <host>/<pod>`, 'e.g. host1/pod1');
  checkedName('node', parts[0]!, field);
  if (parts.length === 2) checkedName('pod', parts[1]!, field);
  return value;
}
