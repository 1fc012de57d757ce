// Shared by `verify` and `run`: progress lines while checks run, JUnit on request.
import { accessSync, constants, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { CheckResult, VerifyReport } from '../checks/run-checks.js';
import { renderJunit } from '../report/junit.js';
import type { Palette } from '../text/colour.js';
import { terminalSafe } from '../text/terminal-text.js';
import { environmentError, inputError } from '../base/errors.js';

export function progressLine(result: CheckResult, colours: Palette): string {
  const mark = result.status === 'pass' ? colours.green('✓') : result.status === 'unreachable' ? colours.yellow('?') : colours.red('✗');
  return `${mark} ${terminalSafe(result.name)} ${colours.dim(`(${(result.durationMs / 1000).toFixed(1)} s)`)}`;
}

/** Before any check runs: a JUnit path that cannot be written is bad input, said at once rather
 * than after minutes of checks. */
export function assertJunitWritable(path: string | undefined): void {
  if (path === undefined) return;
  const file = resolve(path);
  const directory = dirname(file);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch {
    throw inputError(`cannot write the JUnit file ${path}: the directory ${directory} does not exist`, `create it first (mkdir -p ${directory}) or choose another --junit path`);
  }
  if (!isDirectory) throw inputError(`cannot write the JUnit file ${path}: ${directory} is not a directory`, 'choose another --junit path');
  try {
    if (statSync(file).isDirectory()) throw inputError(`cannot write the JUnit file ${path}: it is a directory`, 'name a file, e.g. --junit results.xml');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    accessSync(directory, constants.W_OK);
  } catch {
    throw inputError(`cannot write the JUnit file ${path}: ${directory} is not writable`, 'choose another --junit path');
  }
}

export async function writeJunitIfAsked(path: string | undefined, reports: VerifyReport[]): Promise<void> {
  if (!path) return;
  try {
    await writeFile(path, renderJunit(reports));
  } catch (error) {
    throw environmentError(`writing the JUnit file ${path} failed: ${(error as Error).message}`, 'check the disk and the path, then run again');
  }
}
