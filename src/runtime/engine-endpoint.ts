// Where the Docker engine listens and how long overlab waits for it. overlab speaks the Engine
// API over a local unix socket only: no TCP, TLS or SSH transports (and none of their libraries).
import { environmentError } from '../core/errors.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** DOCKER_HOST → the socket path; anything but unix://… is an environment error (exit 3). */
export function engineSocketPath(env: Record<string, string | undefined> = process.env): string {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return DEFAULT_SOCKET;
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    if (path.startsWith('/')) return path;
  }
  throw environmentError(
    `DOCKER_HOST=${JSON.stringify(host).slice(1, -1).slice(0, 200)} is not a unix socket; overlab talks to the Docker engine only over a local unix socket`,
    `unset DOCKER_HOST to use ${DEFAULT_SOCKET}, or set DOCKER_HOST=unix:///path/to/docker.sock (a remote engine's socket can be forwarded with \`ssh -L /tmp/docker.sock:/var/run/docker.sock <host>\`)`,
  );
}

/** How long one request may wait for the engine's answer (connect + response headers). */
export interface EngineDeadlines {
  /** Inspect, list, exec set-up, archive reads: the engine answers these at once. */
  quickMs: number;
  /** Container create/start/remove/pause, archive writes: real work, many in parallel. */
  slowMs: number;
  /** Image import and build: after the upload, until the engine has stored the image. */
  imageMs: number;
  /** After Ctrl-C: is the engine still there, worth cleaning up with? */
  livenessMs: number;
}

function positiveMs(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw environmentError(`${name}=${raw.slice(0, 40)} is not a positive number of milliseconds`, `unset ${name}, or set it to e.g. 10000`);
  }
  return value;
}

export function engineDeadlines(env: Record<string, string | undefined> = process.env): EngineDeadlines {
  const quickMs = positiveMs(env, 'OVERLAB_ENGINE_TIMEOUT_MS', 10_000);
  return {
    quickMs,
    slowMs: positiveMs(env, 'OVERLAB_ENGINE_SLOW_TIMEOUT_MS', Math.max(quickMs, 60_000)),
    imageMs: positiveMs(env, 'OVERLAB_ENGINE_IMAGE_TIMEOUT_MS', Math.max(quickMs, 600_000)),
    livenessMs: Math.min(quickMs, 500),
  };
}
