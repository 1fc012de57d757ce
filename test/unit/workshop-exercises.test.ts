// The exercises that ship in workshop/: they load, they follow the story, their checks pin the
// path, and nothing a student reads before `workshop solution` gives the solution away.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DIR, loadExercises } from '../../src/workshop/exercise-load.js';
import { exerciseSchemaFileText as exerciseSchemaText } from '../../src/workshop/exercise-schema.js';
import { LAB_KINDS } from '../../src/lab-loader/lab-kinds.js';
const exerciseSchemaFileText = () => exerciseSchemaText(LAB_KINDS);
import { EXERCISE_SCHEMA_FILE } from '../../src/workshop/exercise-validate.js';
import type { Exercise } from '../../src/workshop/exercise.js';

const exercises = await loadExercises(BUILTIN_DIR);

/** Words as a person reads them in prose: code quotes and punctuation around words dropped. */
const words = (text: string) => text.split(/[\s`"'()]+/).map((w) => w.replace(/[.,;:]+$/, '')).filter(Boolean);

function containsRun(haystack: string[], needle: string[]): boolean {
  if (!needle.length) return false;
  for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((w, j) => haystack[i + j] === w)) return true;
  return false;
}

/** What the student sees before asking for the solution. */
const before = (e: Exercise) => [e.title, e.task, ...e.commands, ...e.hints];

describe('the exercises in workshop/', () => {
  it('are at least twelve, numbered upwards from 1 (a chapter claims a block: 16–20 Services, 21–25 BGP), and follow the story', () => {
    expect(exercises.length).toBeGreaterThanOrEqual(12);
    const ids = exercises.map((e) => e.id);
    expect(ids.slice(0, 15)).toEqual(ids.slice(0, 15).map((_, i) => i + 1));
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    const stories = exercises.map((e) => e.story);
    for (const step of ['same-host', 'egress', 'no-overlay', 'host-gw', 'flannel-udp', 'flannel-vxlan', 'k8s-cni0', 'bgp-mesh']) expect(stories, step).toContain(step);
  });

  it.each(exercises.map((e) => [e.id, e] as const))('exercise %i has 2–3 hints, checks that pin the path, and a lab named ex<id>', (id, e) => {
    expect(e.hints.length).toBeGreaterThanOrEqual(2);
    expect(e.hints.length).toBeLessThanOrEqual(3);
    expect(e.lab.name).toBe(`ex${id}`);
    // "Any ping works" is not enough: at least one check looks at the path or the kernel (a
    // service check reads the node's kube-proxy rules, their DNAT counters and conntrack).
    expect(e.lab.checks.some((c) => ['capture', 'kernel', 'link', 'lease', 'bgp', 'service'].includes(c.kind)), 'a capture, kernel, link, lease, bgp or service check').toBe(true);
    expect(e.solution.length).toBeGreaterThan(0);
  });

  it.each(exercises.map((e) => [e.id, e] as const))('exercise %i: its task, commands and hints never contain a solution command', (_id, e) => {
    const seen = before(e).map(words);
    for (const step of e.solution) {
      const line = step.argv.join(' ');
      for (const text of before(e)) expect(text.includes(line), `"${line}" in ${JSON.stringify(text.slice(0, 60))}`).toBe(false);
      for (const w of seen) expect(containsRun(w, step.argv), `the words of "${line}"`).toBe(false);
    }
  });

  it('the exercise schema file is generated from the lab schema (npm run build)', () => {
    expect(readFileSync(EXERCISE_SCHEMA_FILE, 'utf8')).toBe(exerciseSchemaFileText());
  });
});
