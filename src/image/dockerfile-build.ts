// The Dockerfile method, for machines that can pull debian:bookworm-slim: the build context
// (image/) goes to the engine's build API as a tar; no docker CLI involved.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { tarEntries, type TarEntry } from '../runtime/tar.js';
import { EngineError } from '../runtime/engine-errors.js';
import { environmentError } from '../base/errors.js';

export const DOCKERFILE_DIR = fileURLToPath(new URL('../../image/', import.meta.url));

/** Every file under `directory` as tar entries with paths relative to it. */
export function contextEntries(directory: string, prefix = ''): TarEntry[] {
  const entries: TarEntry[] = [];
  for (const name of readdirSync(directory).sort()) {
    const path = `${directory}${name}`;
    const stat = statSync(path);
    if (stat.isDirectory()) entries.push({ name: `${prefix}${name}/` }, ...contextEntries(`${path}/`, `${prefix}${name}/`));
    else if (stat.isFile()) entries.push({ name: `${prefix}${name}`, content: readFileSync(path), mode: stat.mode & 0o777 });
  }
  return entries;
}

export async function buildWithDockerfile(runtime: ContainerRuntime, tags: string[], options: { onLog?: (line: string) => void; signal?: AbortSignal } = {}): Promise<void> {
  try {
    await runtime.buildImage(tarEntries(contextEntries(DOCKERFILE_DIR)), tags, options);
  } catch (error) {
    if (!(error instanceof EngineError) || error.failure !== 'server') throw error;
    throw environmentError(
      `building the host image from image/Dockerfile failed${error.detail ? `: ${error.detail}` : ''}`,
      'the Dockerfile method pulls debian:bookworm-slim from a registry; without one, use the offline method: `overlab image build`',
    );
  }
}
