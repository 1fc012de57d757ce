// Entry points: YAML text or file → checked LabSpec, or a SpecError listing every problem.

import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SpecError, sortIssues } from './errors.js';
import type { SpecIssue } from './errors.js';
import type { LabSpec } from './model.js';
import type { RawLab } from './raw.js';
import { schemaIssues } from './schema.js';
import { checkLab } from './semantic.js';
import { SpecSource } from './source.js';

/**
 * Parses and checks a lab spec. `file` is used in error messages and as LabSpec.file.
 * Problems are found in three passes, each run only when the previous one found none:
 * YAML syntax, then the JSON Schema (shapes, types, unknown keys), then the semantic checks
 * (names, addresses, references). All problems of the failing pass are reported together.
 */
export function parseLabSpec(text: string, file: string): LabSpec {
  return parseWithNames(text, file, file);
}

function parseWithNames(text: string, displayFile: string, labFile: string): LabSpec {
  const src = new SpecSource(text, displayFile);
  const syntax = src.syntaxIssues();
  if (syntax.length) throw new SpecError(sortIssues(syntax));
  if (src.isEmpty())
    throw new SpecError([
      { file: displayFile, line: 1, col: 1, path: '', message: 'the spec is empty.', hint: 'Start with name: <lab-name> and hosts: [...].' },
    ]);
  let data: unknown;
  try {
    data = src.toData();
  } catch (e) {
    throw new SpecError([{ file: displayFile, line: 1, col: 1, path: '', message: `invalid YAML: ${(e as Error).message}` }]);
  }
  const schema = schemaIssues(data, src);
  if (schema.length) throw new SpecError(sortIssues(schema));
  const { lab, issues } = checkLab(data as RawLab, src, labFile);
  if (issues.length) throw new SpecError(sortIssues(issues));
  return lab;
}

/** Reads and parses a spec file. Unreadable files give a SpecError at line 0, col 0. LabSpec.file is absolute. */
export async function loadLabSpec(path: string): Promise<LabSpec> {
  const fileIssue = (message: string): SpecError =>
    new SpecError([{ file: path, line: 0, col: 0, path: '', message } satisfies SpecIssue]);
  let text: string;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw fileIssue('is a directory, not a spec file.');
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof SpecError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fileIssue('file not found');
    if (code === 'EACCES' || code === 'EPERM') throw fileIssue('permission denied; the spec file cannot be read.');
    if (code === 'EISDIR') throw fileIssue('is a directory, not a spec file.');
    throw fileIssue(`cannot read the file: ${(e as Error).message}`);
  }
  return parseWithNames(text, path, resolve(path));
}
