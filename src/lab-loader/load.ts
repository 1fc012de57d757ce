// Entry points: YAML text or file → checked LabSpec, or a SpecError listing every problem.

import { resolve } from 'node:path';
import { SpecError, sortIssues } from '../lab-spec/spec-error.js';
import type { SpecIssue } from '../lab-spec/spec-error.js';
import { draftFrom, type Draft } from '../lab-spec/draft.js';
import { checkLab } from '../lab-spec/lab-rules.js';
import type { LabSpec } from '../lab-spec/lab-spec.js';
import type { LabKinds } from '../lab-spec/keyed-kinds.js';
import { schemaIssues } from '../lab-spec/schema-issues.js';
import { kindsUsedBy } from './kind-loaders.js';
import { schemaErrors } from './lab-validator.js';
import { MAX_SPEC_BYTES, readSpecFile } from '../lab-spec/spec-file.js';
import { SpecSource } from '../lab-spec/yaml-source.js';

/** Deeper flow collections ([[[…]]]) than any lab needs are refused before the YAML parser,
 * which recurses per level, ever sees them. */
export const MAX_FLOW_DEPTH = 32;

/** A spec read as far as its kinds: the YAML parsed, its shape checked, the well-formed part to
 * check the rules on (`draft`), and the issues found so far. */
export interface SpecDraft {
  src: SpecSource;
  draft: Draft | undefined;
  issues: SpecIssue[];
}

/**
 * Parses spec text and checks its shape. YAML syntax errors (and a spec too large, too deep or
 * empty) stop there with a SpecError: the document has no reliable structure. Otherwise the JSON
 * Schema's issues come back with the draft the rules run on (`checkDraft`), so every problem is
 * reported in one pass, in file order. `displayFile` names the spec in messages.
 */
export function draftSpec(text: string, displayFile: string): SpecDraft {
  const whole = (message: string, hint?: string): SpecIssue => ({ file: displayFile, line: 1, col: 1, path: '', message, ...(hint ? { hint } : {}) });
  if (text.length > MAX_SPEC_BYTES) throw new SpecError([whole(`the spec is larger than ${MAX_SPEC_BYTES / 1024 / 1024} MiB.`)]);
  const deep = tooDeep(text);
  if (deep) throw new SpecError([{ ...whole(`flow collections are nested more than ${MAX_FLOW_DEPTH} levels deep here.`), line: deep.line, col: deep.col }]);
  const src = new SpecSource(text, displayFile);
  const syntax = src.syntaxIssues();
  if (syntax.length) throw new SpecError(sortIssues(syntax));
  if (src.isEmpty()) throw new SpecError([whole('the spec is empty.', 'Start with name: <lab-name> and hosts: [...].')]);
  let data: unknown;
  try {
    data = src.toData();
  } catch (e) {
    throw new SpecError([whole(`invalid YAML: ${(e as Error).message}`)]);
  }
  const errors = schemaErrors(data);
  const issues = schemaIssues(data, errors, src);
  return { src, draft: draftFrom(data, errors), issues };
}

/** The rules on a drafted spec, each check and fault through its kind (`kinds` must hold every
 * kind its entries name: `kindsFor`); the LabSpec, or a SpecError with every issue. `labFile`
 * becomes LabSpec.file. */
export function checkDraft({ src, draft, issues }: SpecDraft, labFile: string, kinds: LabKinds): LabSpec {
  const all = [...issues];
  if (draft) {
    const checked = checkLab(draft, src, labFile, kinds);
    all.push(...checked.issues);
    if (all.length === 0) return checked.lab;
  }
  throw new SpecError(sortIssues(all));
}

/** The kinds a drafted spec's entries name, loaded (src/lab-loader/kind-loaders.ts). */
export function kindsFor({ draft }: SpecDraft): Promise<LabKinds> {
  return kindsUsedBy({ checks: draft?.lab.checks, faults: draft?.lab.faults });
}

/** Parses and checks spec text, loading only the kinds it uses; `displayFile` names it in
 * messages, `labFile` becomes LabSpec.file. */
export async function parseSpecText(text: string, displayFile: string, labFile: string): Promise<LabSpec> {
  const drafted = draftSpec(text, displayFile);
  return checkDraft(drafted, labFile, await kindsFor(drafted));
}

/** Where flow nesting first exceeds MAX_FLOW_DEPTH (a linear scan; quotes and comments skipped), or undefined. */
export function tooDeep(text: string): { line: number; col: number } | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      if (quote === "'" || quote === '"') continue; // quoted scalars may span lines
      continue;
    }
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '#' && (i === lineStart || text[i - 1] === ' ' || text[i - 1] === '\t')) {
      const end = text.indexOf('\n', i);
      i = (end < 0 ? text.length : end) - 1;
      continue;
    }
    if (c === '"' || (c === "'" && (i === lineStart || /[\s[{,:]/.test(text[i - 1]!)))) quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH) return { line, col: i - lineStart + 1 };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

/** Specs larger than this are parsed in a worker thread: YAML parsing is synchronous, and a
 * large document must not keep the process deaf to Ctrl-C and SIGTERM meanwhile. */
export const INLINE_PARSE_MAX_BYTES = 64 * 1024;

/**
 * Reads (a regular file, at most 1 MiB, within a deadline) and parses a spec file. LabSpec.file
 * is absolute. A large file is parsed off the main thread, so `signal` (and a second Ctrl-C)
 * still end the process at once.
 */
export async function loadLabSpec(path: string, signal?: AbortSignal): Promise<LabSpec> {
  const text = await readSpecFile(path);
  if (text.length <= INLINE_PARSE_MAX_BYTES || !parseInWorkerAvailable()) return parseSpecText(text, path, resolve(path));
  const { parseInWorker } = await import('./parse-in-worker.js');
  return parseInWorker(text, path, resolve(path), signal);
}

/** The worker runs the compiled module (dist/); from the TypeScript sources (tests) parse inline. */
function parseInWorkerAvailable(): boolean {
  return import.meta.url.endsWith('.js');
}
