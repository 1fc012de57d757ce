// `<lab|spec>` arguments: a spec only when it is a file that parses as one; otherwise the name
// of a lab. Anything else is bad input that says which labs are up.
import { stat } from 'node:fs/promises';
import type { LabSpec } from '../lab-spec/lab-spec.js';
import { nameProblem } from '../lab-spec/name-rules.js';
import { inputError } from '../base/errors.js';
import { labsUpText } from '../lab/lab-not-up.js';
import { tolerated } from '../base/debug-log.js';

export type LabArgument = { kind: 'spec'; path: string; spec: LabSpec } | { kind: 'name'; name: string };

/** The labs that are up, for messages; an engine that does not answer must not hide the real
 * problem (the argument), so it yields an empty list. */
export type LabsUp = () => Promise<string[]>;

const SPEC_SUFFIX = /\.ya?ml$/i;

export async function readLabArgument(arg: string, labsUp: LabsUp): Promise<LabArgument> {
  const found = await stat(arg).catch(() => undefined);
  // The spec language (the YAML parser, the validator, the rules) is loaded only for a file: a
  // lab's name, the common case of `down`, `verify`, `inspect`, needs none of it.
  if (found?.isFile()) return { kind: 'spec', path: arg, spec: await (await import('../lab-loader/load.js')).loadLabSpec(arg) };
  const problem = nameProblem('lab', arg);
  if (!problem) return { kind: 'name', name: arg };
  const labs = await labsUp().catch(tolerated('cli', 'list the labs that are up', [] as string[]));
  if (found?.isDirectory()) throw inputError(`"${arg}" is a directory: neither a spec file nor a lab name`, labsUpText(labs));
  if (found) throw inputError(`"${arg}" is not a regular file: neither a spec file nor a lab name`, labsUpText(labs));
  if (SPEC_SUFFIX.test(arg) || arg.includes('/')) throw inputError(`spec file ${arg} not found`, labsUpText(labs));
  throw inputError(`"${arg}" is neither a spec file nor a lab name (${problem})`, labsUpText(labs));
}

export function labNameOf(arg: LabArgument): string {
  return arg.kind === 'spec' ? arg.spec.name : arg.name;
}
