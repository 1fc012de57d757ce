// Shared by `verify` and `run`: progress lines while checks run, JUnit on request.
import { writeFile } from 'node:fs/promises';
import type { CheckResult, VerifyReport } from '../checks/run-checks.js';
import { renderJunit } from '../report/junit.js';
import type { Palette } from '../report/colour.js';

export function progressLine(result: CheckResult, colours: Palette): string {
  const mark = result.status === 'pass' ? colours.green('✓') : colours.red('✗');
  return `${mark} ${result.name} ${colours.dim(`(${(result.durationMs / 1000).toFixed(1)} s)`)}`;
}

export async function writeJunitIfAsked(path: string | undefined, reports: VerifyReport[]): Promise<void> {
  if (path) await writeFile(path, renderJunit(reports));
}
