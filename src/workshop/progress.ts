// A student's progress through the exercises, in one JSON file an instructor can collect:
// $XDG_STATE_HOME/overlab/workshop.json (default ~/.local/state/overlab/workshop.json). Which
// exercise is active (its lab and the run that built it) lives there too, so `check`, `hint`,
// `reset`, `solution` and `stop` need no argument. Written atomically (a temporary file renamed).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { environmentError } from '../base/errors.js';
import { debugLog } from '../base/debug-log.js';

export const PROGRESS_VERSION = 1;

export interface ActiveExercise {
  collection: string;
  /** Where its file was found (for hints and the solution). */
  dir: string;
  id: number;
  lab: string;
  /** The run id of the `up` that built the broken lab: another run means it was rebuilt. */
  run: string;
  startedAt: string;
}

export interface ExerciseProgress {
  collection: string;
  id: number;
  title: string;
  level: string;
  firstStartedAt: string;
  /** The current attempt: set by start (not by reset). */
  startedAt: string;
  starts: number;
  resets: number;
  checks: number;
  hintsUsed: number;
  hintsTotal: number;
  solutionRevealed: boolean;
  /** The first `check` that said solved. */
  solvedAt?: string;
  /** Seconds from the attempt's start to that check. */
  secondsToSolve?: number;
  /** The solution had been revealed (or applied) before it was solved. */
  solvedWithSolution?: boolean;
}

export interface Progress {
  version: 1;
  student: { user: string; host: string };
  active?: ActiveExercise;
  exercises: ExerciseProgress[];
}

export function progressFile(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'overlab', 'workshop.json');
}

function fresh(): Progress {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch (error) {
    debugLog('workshop', 'read the user name (no passwd entry in a container?): keeping "unknown"', error);
  }
  return { version: PROGRESS_VERSION, student: { user, host: hostname() }, exercises: [] };
}

export async function readProgress(file = progressFile()): Promise<Progress> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fresh();
    throw environmentError(`cannot read the workshop progress ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Progress;
    if (parsed.version !== PROGRESS_VERSION || !Array.isArray(parsed.exercises)) throw new Error('not a progress file');
    return parsed;
  } catch (error) {
    throw environmentError(`the workshop progress ${file} is damaged (${(error as Error).message})`, `move it away (mv ${file} ${file}.old) and start again`);
  }
}

export async function writeProgress(progress: Progress, file = progressFile()): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(progress, null, 2) + '\n');
    await rename(tmp, file);
  } catch (error) {
    throw environmentError(`cannot write the workshop progress ${file}: ${(error as Error).message}`, 'check that the directory is writable (or set XDG_STATE_HOME)');
  }
}

/** The entry of one exercise, made when first needed. */
export function entryOf(progress: Progress, ex: { collection: string; id: number; title: string; level: string; hints: readonly string[] }, now: string): ExerciseProgress {
  let entry = progress.exercises.find((e) => e.collection === ex.collection && e.id === ex.id);
  if (!entry) {
    entry = {
      collection: ex.collection,
      id: ex.id,
      title: ex.title,
      level: ex.level,
      firstStartedAt: now,
      startedAt: now,
      starts: 0,
      resets: 0,
      checks: 0,
      hintsUsed: 0,
      hintsTotal: ex.hints.length,
      solutionRevealed: false,
    };
    progress.exercises.push(entry);
  }
  entry.title = ex.title;
  entry.hintsTotal = ex.hints.length;
  return entry;
}

export type Status = 'new' | 'started' | 'active' | 'solved';

export function statusOf(progress: Progress, collection: string, id: number): Status {
  const entry = progress.exercises.find((e) => e.collection === collection && e.id === id);
  if (entry?.solvedAt) return 'solved';
  if (progress.active?.collection === collection && progress.active.id === id) return 'active';
  return entry ? 'started' : 'new';
}
