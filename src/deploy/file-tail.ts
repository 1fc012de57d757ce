// The last lines of a file in a container, read through the engine's archive API (no process).
import type { ContainerRuntime } from '../runtime/runtime.js';
import { debugLog } from '../base/debug-log.js';

/** Pure: the last `lines` non-empty lines of `text`. */
export function lastLines(text: string, lines: number): string {
  return text.split('\n').filter((l) => l.trim()).slice(-lines).join('\n');
}

/** '' when the file cannot be read (not written yet, container gone). */
export async function fileTail(runtime: ContainerRuntime, container: string, path: string, lines: number): Promise<string> {
  try {
    return lastLines((await runtime.readFile(container, path)).toString('utf8'), lines);
  } catch (error) {
    debugLog('deploy', `read ${path} in ${container}`, error);
    return '';
  }
}
