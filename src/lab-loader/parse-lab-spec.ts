// Spec text → LabSpec in one synchronous call, with every kind loaded (LAB_KINDS): for code that
// holds the text already and cannot wait. Commands read specs with `loadLabSpec` (load.ts), which
// loads only the kinds a spec uses.
import type { LabSpec } from '../lab-spec/lab-spec.js';
import { LAB_KINDS } from './lab-kinds.js';
import { checkDraft, draftSpec } from './load.js';

/** Parses and checks a lab spec; `file` names it in messages and becomes LabSpec.file. */
export function parseLabSpec(text: string, file: string): LabSpec {
  return checkDraft(draftSpec(text, file), file, LAB_KINDS);
}
