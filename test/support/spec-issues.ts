// A spec that must be refused: the issues `validate` prints for it, one `file:line:col path:
// message` a line; the test fails when the spec is accepted or fails with another error.
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { SpecError, formatIssue } from '../../src/lab-spec/spec-error.js';

export function specIssues(text: string, file = 'x.yaml'): string[] {
  try {
    parseLabSpec(text, file);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return e.issues.map(formatIssue);
  }
  throw new Error(`accepted:\n${text}`);
}
