// The Dockerfile method, for machines that can pull debian:bookworm-slim.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const DOCKERFILE_DIR = fileURLToPath(new URL('../../image', import.meta.url));

export async function buildWithDockerfile(tags: string[], onLog?: (line: string) => void): Promise<void> {
  const args = ['build', ...tags.flatMap((t) => ['-t', t]), DOCKERFILE_DIR];
  const child = execa('docker', args, { all: true, buffer: false });
  child.all?.on('data', (chunk: Buffer) => onLog?.(chunk.toString('utf8').trimEnd()));
  await child;
}
