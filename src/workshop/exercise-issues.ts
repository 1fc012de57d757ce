// Ajv's errors for an exercise's own fields (id, title, level, task, hints, solution, …) → one
// issue per problem at its position. The lab inside, the checks and the faults are reported by
// the lab's own rules instead (exercise-load.ts), with the same words as in a lab spec.
import type { ErrorObject } from 'ajv';
import type { SpecIssue } from '../lab-spec/spec-error.js';
import { pointerToPath, getAt } from '../lab-spec/schema-issues.js';
import type { PathSeg, SpecSource } from '../lab-spec/yaml-source.js';
import { exerciseSchema } from './exercise-validate.js';

/** Paths the lab's rules report on. */
export function handledByLabRules(path: readonly PathSeg[], data: Record<string, unknown>): boolean {
  const [first] = path;
  if (first === 'checks' || first === 'faults') return path.length > 1;
  if (first === 'lab') return path.length > 1 || (typeof data.lab === 'object' && data.lab !== null && !Array.isArray(data.lab));
  return false;
}

const typeWord: Record<string, string> = { string: 'text', integer: 'a whole number', number: 'a number', array: 'a list', object: 'a mapping', boolean: 'true or false' };

function topKeys(): string[] {
  return Object.keys((exerciseSchema().properties ?? {}) as Record<string, unknown>);
}

export function exerciseIssues(data: Record<string, unknown>, errors: readonly ErrorObject[], src: SpecSource): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  const add = (path: PathSeg[], message: string, hint?: string, anchor: 'value' | 'key' = 'value') => {
    const issue = src.issue(path, message, hint, anchor);
    const key = `${issue.path}|${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  };
  for (const e of errors) {
    const path = pointerToPath(data, e.instancePath);
    if (handledByLabRules(path, data)) continue;
    const value = getAt(data, path);
    const params = e.params as Record<string, unknown>;
    const inSolution = path[0] === 'solution' && path.length >= 2;
    if (inSolution && path.length === 2) {
      // One solution step is either {on, run} or an `overlab exec` line: say which form is wrong.
      if (typeof value === 'string') add(path, 'a solution line must be `overlab exec <lab> <target> -- <command…>`.', 'Or use the argv form: { on: host1, run: [ip, link, set, eth0, up] }.');
      else if (typeof value !== 'object' || value === null || Array.isArray(value)) add(path, 'a solution step is { on, run } or an `overlab exec <lab> <target> -- …` line.');
      else if (e.keyword === 'required') add(path, `a solution step needs "${String(params.missingProperty)}".`, 'E.g. { on: host1, run: [ip, link, set, eth0, up] }.');
      else if (e.keyword === 'additionalProperties') add([...path, String(params.additionalProperty)], `unknown key "${String(params.additionalProperty)}" in a solution step.`, 'Allowed: on, run.', 'key');
      continue;
    }
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    switch (e.keyword) {
      case 'required':
        add(path, `"${String(params.missingProperty)}" is missing.`, path.length === 0 ? 'An exercise has id, title, level, lab, task, checks, hints and solution.' : undefined, 'key');
        break;
      case 'additionalProperties':
        add([...path, String(params.additionalProperty)], `unknown key "${String(params.additionalProperty)}".`, path.length === 0 ? `Allowed here: ${topKeys().join(', ')}.` : undefined, 'key');
        break;
      case 'type':
        add(
          path,
          `must be ${typeWord[String(params.type)] ?? String(params.type)}.`,
          params.type === 'string' && value !== null && typeof value === 'object' && !Array.isArray(value)
            ? 'YAML read it as a mapping: an unquoted line with ": " in it is a key and a value. Put the text in quotes (or use a | block).'
            : undefined,
        );
        break;
      case 'enum':
        add(path, `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}.`);
        break;
      case 'minimum':
      case 'maximum':
        add(path, `must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}.`);
        break;
      case 'minLength':
        add(path, 'must not be empty.');
        break;
      case 'maxLength':
        add(path, `is too long: at most ${String(params.limit)} characters.`);
        break;
      case 'minItems':
        add(path, `needs at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}.`);
        break;
      case 'maxItems':
        add(path, `has too many items: at most ${String(params.limit)}.`);
        break;
      case 'pattern':
        add(
          path,
          path[0] === 'lab'
            ? 'must be the path of a lab spec file (relative to this file, ending in .yaml), or the lab inline.'
            : path[0] === 'story'
              ? 'must be a lab name like host-gw.'
              : 'holds characters that are not allowed here (control characters).',
        );
        break;
      default:
        add(path, `is not valid (${e.keyword}).`);
    }
  }
  return issues;
}
