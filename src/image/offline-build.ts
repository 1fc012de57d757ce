// The offline method: a Debian root filesystem made with mmdebstrap from Debian's own
// packages, streamed into `docker import`. Needs no container registry.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { environmentError } from '../base/errors.js';
import { HOST_PACKAGES, importChanges } from './host-image.js';
import { setting } from '../shared/settings.js';
import { debugLog, tolerated } from '../base/debug-log.js';

export interface OfflineBuildOptions {
  suite?: string;
  mirror?: string;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export function debianSuite(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^VERSION_CODENAME=(\w+)/m.exec(release)?.[1] ?? 'bookworm';
  } catch (error) {
    debugLog('image', 'read /etc/os-release (building bookworm)', error);
    return 'bookworm';
  }
}

/** The apt source lines mmdebstrap uses: Debian's main, updates and security suites only. */
export function debianSources(suite: string, mirror: string): string[] {
  const security = mirror.replace(/\/debian\/?$/, '/debian-security');
  return [`deb ${mirror} ${suite} main`, `deb ${mirror} ${suite}-updates main`, `deb ${security} ${suite}-security main`];
}

export function mmdebstrapArgs(suite: string, mirror: string): string[] {
  return [
    '--variant=minbase',
    `--include=${HOST_PACKAGES.join(',')}`,
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    '--format=tar',
    suite,
    '-',
    ...debianSources(suite, mirror),
  ];
}

export async function buildOffline(runtime: ContainerRuntime, tags: string[], options: OfflineBuildOptions = {}): Promise<void> {
  const suite = options.suite ?? debianSuite();
  const mirror = options.mirror ?? setting('debianMirror', 'http://deb.debian.org/debian');
  const which = await execa('sh', ['-c', 'command -v mmdebstrap'], { reject: false });
  if (which.exitCode !== 0) {
    throw environmentError('mmdebstrap is not installed', 'install it as root: apt-get install mmdebstrap; then overlab image build again');
  }
  const child = execa('mmdebstrap', mmdebstrapArgs(suite, mirror), {
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderrTail = (stderrTail + text).slice(-2000);
    for (const line of text.split('\n')) if (line.trim()) options.onLog?.(line);
  });
  const [first, ...rest] = tags;
  if (!first) throw new Error('no image tag given');
  const imported = runtime.importImage(child.stdout!, first, importChanges(), options.signal ? { signal: options.signal } : {});
  const finished = await child.catch((error: unknown) => error as { exitCode?: number });
  if ((finished as { exitCode?: number }).exitCode !== 0) {
    await imported.catch(tolerated('image', 'import the image mmdebstrap was writing'));
    throw environmentError(`mmdebstrap failed: ${stderrTail.trim().split('\n').slice(-3).join(' / ')}`, 'check that Debian\'s package mirror is reachable (apt-get update)');
  }
  await imported;
  for (const tag of rest) await runtime.tagImage(first, tag, options.signal ? { signal: options.signal } : {});
}
