// A file its writer replaces whole (a temporary file renamed over it: the agent's stats, a
// daemon's status) read through the engine's archive API. The engine can still hand back a torn
// copy: it takes the entry's size from the file it finds and the bytes from the file it opens a
// moment later, so a rename in between gives the old length of the new text (cut short, or run
// on into nothing): 5 reads in 3000 of a file replaced in a tight loop on this machine.
import type { CallOptions, ContainerRuntime } from './runtime.js';

/** Reads the file again while `whole` rejects its text, `tries` reads at most (awaiting `between`
 * before each new read); the last text read is returned either way (the caller judges it). A
 * failed read is the caller's to handle. */
export async function readReplacedFile(
  runtime: Pick<ContainerRuntime, 'readFile'>,
  container: string,
  path: string,
  whole: (text: string) => boolean,
  options: CallOptions & { tries?: number; between?: () => Promise<unknown> } = {},
): Promise<string> {
  const { tries = 3, between, ...call } = options;
  let text = '';
  for (let i = 0; i < tries; i++) {
    if (i > 0) await between?.();
    text = (await runtime.readFile(container, path, call)).toString('utf8');
    if (whole(text)) break;
  }
  return text;
}
