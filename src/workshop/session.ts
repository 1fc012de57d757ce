// Where the workshop commands find their exercises: a directory (--dir, default the package's
// workshop/) for list/start/solve/selftest, and the active exercise (from the progress file) for
// check/hint/reset/solution/stop.
import { resolve } from 'node:path';
import { inputError } from '../base/errors.js';
import { BUILTIN_DIR, findExercise, loadExercises } from './exercise-load.js';
import type { Exercise } from './exercise.js';
import { readProgress, type ActiveExercise, type Progress } from './progress.js';

export async function exercisesIn(dir: string | undefined): Promise<{ dir: string; exercises: Exercise[] }> {
  const at = resolve(dir ?? BUILTIN_DIR);
  return { dir: at, exercises: await loadExercises(at) };
}

export interface ActiveSession {
  progress: Progress;
  active: ActiveExercise;
  exercise: Exercise;
}

export async function activeSession(): Promise<ActiveSession> {
  const progress = await readProgress();
  const active = progress.active;
  if (!active) throw inputError('no exercise is active', 'start one: `overlab workshop list` shows them, `overlab workshop start 1` starts the first');
  const { exercises } = await exercisesIn(active.dir);
  const exercise = findExercise(exercises, String(active.id));
  return { progress, active, exercise };
}
