// Exercise files → checked Exercises. Every problem in one pass, each at its file, line and
// column: the exercise's own fields against the exercise schema, the lab (inline, or the spec
// file it names) through the lab's own rules, and the exercise's checks, faults and solution
// steps against that lab (the same `resolve` as in a lab spec).
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputError } from '../base/errors.js';
import { scopeOfSpec } from '../faults/lab-scope.js';
import { SpecError, sortIssues, type SpecIssue } from '../lab-spec/spec-error.js';
import type { RawCheck, RawFault } from '../lab-spec/lab-schema.js';
import { checkLab, resolveCheckList, resolveFaults } from '../lab-spec/lab-rules.js';
import { LAB_KINDS } from '../lab-loader/lab-kinds.js';
import { loadLabSpec } from '../lab-loader/load.js';
import type { LabSpec } from '../lab-spec/lab-spec.js';
import { draftFrom } from '../lab-spec/draft.js';
import { parseRef } from '../lab-spec/refs.js';
import { schemaIssues } from '../lab-spec/schema-issues.js';
import { schemaErrors } from '../lab-loader/lab-validator.js';
import { readSpecFile } from '../lab-spec/spec-file.js';
import { SpecSource, type PathSeg } from '../lab-spec/yaml-source.js';
import type { SpecScope } from '../lab-spec/spec-scope.js';
import { exerciseIssues } from './exercise-issues.js';
import { exerciseSchemaErrors } from './exercise-validate.js';
import { exerciseLabName, type Exercise, type Level, type SolutionStep } from './exercise.js';
import { placeholdersIn } from './placeholders.js';

/** The exercises that ship with overlab (src/workshop and dist/workshop are two levels below the package). */
export const BUILTIN_DIR = fileURLToPath(new URL('../../workshop/', import.meta.url));
export const BUILTIN = 'builtin';

/** "builtin" for the package's exercises, else the directory's absolute path. */
export function collectionOf(dir: string): string {
  return resolve(dir) === resolve(BUILTIN_DIR) ? BUILTIN : resolve(dir);
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'csh', 'tcsh', 'fish', 'busybox', 'eval', 'env', 'xargs', 'su', 'sudo', 'nsenter']);

/** A view of the exercise's source for the lab inside it: paths get the prefix, positions stay the exercise file's. */
function prefixed(src: SpecSource, prefix: PathSeg[]): SpecSource {
  return {
    file: src.file,
    position: (path: readonly PathSeg[], anchor?: 'value' | 'key') => src.position([...prefix, ...path], anchor),
    issue: (path: readonly PathSeg[], message: string, hint?: string, anchor?: 'value' | 'key') => src.issue([...prefix, ...path], message, hint, anchor),
  } as unknown as SpecSource;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The lab of an exercise: the spec file it names, or the lab inline. */
async function exerciseLab(data: Record<string, unknown>, file: string, src: SpecSource, issues: SpecIssue[]): Promise<LabSpec | undefined> {
  if (typeof data.lab === 'string') {
    if (!/^[A-Za-z0-9_./-]+\.ya?ml$/.test(data.lab)) return undefined; // the schema said so
    const path = resolve(dirname(file), data.lab);
    try {
      return await loadLabSpec(path);
    } catch (error) {
      if (error instanceof SpecError) {
        if (error.issues.length === 1 && error.issues[0]!.message === 'file not found.') issues.push(src.issue(['lab'], `the lab spec ${path} does not exist.`, 'The path is relative to the exercise file.'));
        else issues.push(...error.issues);
        return undefined;
      }
      throw error;
    }
  }
  if (!isObject(data.lab)) return undefined;
  const id = typeof data.id === 'number' ? data.id : 0;
  const labData = { name: exerciseLabName(id), ...data.lab };
  const view = prefixed(src, ['lab']);
  const errors = schemaErrors(labData);
  const before = issues.length;
  // (the schema's mapper names paths itself, from the lab's root)
  issues.push(...schemaIssues(labData, errors, view).map((i) => ({ ...i, path: i.path ? `lab.${i.path}` : 'lab' })));
  const draft = draftFrom(labData, errors);
  if (!draft) return undefined;
  const checked = checkLab(draft, view, file, LAB_KINDS);
  issues.push(...checked.issues);
  return issues.length === before ? checked.lab : undefined;
}

/** `overlab exec <lab> <target> -- <argv…>` → a step; the words are split at spaces, nothing else. */
function execLine(line: string): SolutionStep {
  const words = line.trim().split(/\s+/);
  return { on: words[3]!, argv: words.slice(5) };
}

function checkStep(step: SolutionStep, path: PathSeg[], scope: SpecScope, spec: LabSpec): void {
  const hasEtcd = spec.networks.some((n) => n.controlPlane === 'etcd' && n.backend !== 'none');
  if (!(step.on === 'etcd' && hasEtcd)) {
    const r = scope.ref(step.on, path);
    if (r && r.kind !== 'host' && r.kind !== 'node' && r.kind !== 'pod') scope.err(path, `"${step.on}" is not where a command can run; name a host, host/pod or an external node.`);
    else if (r) scope.exists(r, path, step.on);
  }
  const cmd = step.argv[0] ?? '';
  if (SHELLS.has(basename(cmd))) {
    scope.err(path, `a solution runs commands, not a shell or a wrapper ("${cmd}").`, 'Write the command itself as an argv list, e.g. [ip, route, add, <subnet:host2>, via, <ip:host2>].');
  }
  for (const word of step.argv) {
    for (const p of placeholdersIn(word)) {
      if (p.kind === 'lab') continue;
      if (!p.ref) {
        scope.err(path, `placeholder <${p.kind}> needs a name, e.g. <${p.kind}:host1>.`);
        continue;
      }
      if (['subnet', 'gateway', 'vtep'].includes(p.kind)) scope.hostRef(p.ref, path);
      else if (p.ref === 'etcd' && hasEtcd) continue;
      else {
        const r = parseRef(p.ref, spec.externals.map((e) => e.name));
        if (!r) scope.err(path, `placeholder <${p.kind}:${p.ref}>: "${p.ref}" is not a reference.`);
        else if (r.kind !== 'ip' && r.kind !== 'mac') scope.exists(r, path, p.ref);
      }
    }
  }
}

/** Reads and checks one exercise file. */
export async function loadExercise(file: string, collection: string): Promise<Exercise> {
  const text = await readSpecFile(file);
  const src = new SpecSource(text, file);
  const syntax = src.syntaxIssues();
  if (syntax.length) throw new SpecError(sortIssues(syntax));
  const data = src.isEmpty() ? undefined : src.toData();
  if (!isObject(data)) throw new SpecError([{ file, line: 1, col: 1, path: '', message: 'an exercise is a mapping with id, title, level, lab, task, checks, hints and solution.' }]);
  const issues = exerciseIssues(data, await exerciseSchemaErrors(data), src);
  const spec = await exerciseLab(data, file, src, issues);
  let checks: LabSpec['checks'] = [];
  let faults: NonNullable<LabSpec['faults']> = [];
  const solution: SolutionStep[] = [];
  if (spec) {
    // The exercise's checks and faults have the lab spec's shape: validated as a lab's, at their place here.
    const pseudo = { name: 'x', hosts: [{ name: 'h' }], ...(Array.isArray(data.checks) ? { checks: data.checks } : {}), ...(Array.isArray(data.faults) ? { faults: data.faults } : {}) };
    const errors = schemaErrors(pseudo).filter((e) => /^\/(checks|faults)\//.test(e.instancePath));
    issues.push(...schemaIssues(pseudo, errors, src));
    const broken = new Set(errors.map((e) => e.instancePath.split('/').slice(1, 3).join('/')));
    const clean = <T>(list: unknown, key: string) => (Array.isArray(list) ? list.map((x, i) => (broken.has(`${key}/${i}`) ? undefined : (x as T))) : []);
    const scope = scopeOfSpec(spec, src, issues);
    checks = resolveCheckList(LAB_KINDS, clean<RawCheck>(data.checks, 'checks'), scope, ['checks']);
    faults = resolveFaults(LAB_KINDS, clean<RawFault>(data.faults, 'faults') as (Record<string, unknown> | undefined)[], scope, ['faults']);
    (Array.isArray(data.solution) ? data.solution : []).forEach((raw, i) => {
      const step = typeof raw === 'string' && /^overlab exec <lab> \S+ -- \S/.test(raw) ? execLine(raw) : isObject(raw) && typeof raw.on === 'string' && Array.isArray(raw.run) ? { on: raw.on, argv: raw.run.map(String) } : undefined;
      if (!step) return;
      checkStep(step, ['solution', i], scope, spec);
      solution.push(step);
    });
  }
  if (issues.length || !spec) throw new SpecError(sortIssues(issues.length ? issues : [{ file, line: 1, col: 1, path: 'lab', message: 'the lab could not be read.' }]));
  const id = data.id as number;
  const lab: LabSpec = {
    ...spec,
    name: exerciseLabName(id),
    file,
    checks,
    faults: [...(spec.faults ?? []), ...faults].map((f) => ({ ...f, source: 'exercise' as const })),
  };
  return {
    id,
    title: data.title as string,
    level: data.level as Level,
    ...(typeof data.story === 'string' ? { story: data.story } : {}),
    file,
    collection,
    lab,
    task: data.task as string,
    commands: (data.commands as string[] | undefined) ?? [],
    hints: data.hints as string[],
    solution,
    ...(typeof data.explanation === 'string' ? { explanation: data.explanation } : {}),
  };
}

/** Every exercise in a directory (its *.yaml files), by id; all problems of all files at once. */
export async function loadExercises(dir: string): Promise<Exercise[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (error) {
    throw inputError(`cannot read the exercise directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'point --dir at a directory of exercise files (*.yaml)');
  }
  if (!names.length) throw inputError(`${dir} holds no exercise files (*.yaml)`, 'docs/workshop.md shows how to write one');
  const collection = collectionOf(dir);
  const issues: SpecIssue[] = [];
  const exercises: Exercise[] = [];
  for (const name of names) {
    try {
      exercises.push(await loadExercise(join(dir, name), collection));
    } catch (error) {
      if (error instanceof SpecError) issues.push(...error.issues);
      else throw error;
    }
  }
  const byId = new Map<number, Exercise>();
  for (const e of exercises) {
    const other = byId.get(e.id);
    if (other) issues.push({ file: e.file, line: 1, col: 1, path: 'id', message: `id ${e.id} is taken by ${other.file} too.`, hint: 'Each exercise of a directory has its own id.' });
    byId.set(e.id, e);
  }
  if (issues.length) throw new SpecError(issues);
  return exercises.sort((a, b) => a.id - b.id);
}

/** The exercise with this id (or file name without its extension). */
export function findExercise(exercises: readonly Exercise[], wanted: string): Exercise {
  const found = /^[0-9]+$/.test(wanted) ? exercises.find((e) => e.id === Number(wanted)) : exercises.find((e) => basename(e.file).replace(/\.ya?ml$/, '') === wanted);
  if (!found) {
    throw inputError(`no exercise "${wanted}"`, `the exercises: ${exercises.map((e) => `${e.id} (${e.title})`).join(', ')} — \`overlab workshop list\``);
  }
  return found;
}
