// The message for a lab name that names no lab that is up: it lists the labs that are.
import { inputError } from '../base/errors.js';
import { tolerated } from '../base/debug-log.js';

export function labsUpText(labs: string[]): string {
  return labs.length ? `the labs that are up: ${labs.join(', ')}` : 'no lab is up (start one with `overlab up <spec.yaml>`)';
}

/** `labsUp` may fail (no engine): the user's mistake is still the name, so the list is just left out. */
export async function labNotUpError(name: string, labsUp: () => Promise<string[]>): Promise<Error> {
  const labs = await labsUp().catch(tolerated('lab', 'list the labs that are up', [] as string[]));
  return inputError(`no lab named "${name}" is up`, labsUpText(labs));
}
