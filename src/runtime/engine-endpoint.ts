// Which engine a command talks to and how long overlab waits for it. The choice follows the
// docker CLI: `--context NAME`, else DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_TLS and
// DOCKER_CERT_PATH for tcp://), else DOCKER_CONTEXT, else the current context of the Docker
// configuration, else the local socket.
import { join } from 'node:path';
import { DEFAULT_CONTEXT, currentContext, dockerConfigDir, readDockerContext } from './docker-context.js';
import { DEFAULT_SOCKET, parseEngineAddress, type EngineAddress, type EngineTls } from './engine-address.js';
import { setting } from '../shared/settings.js';

export { DEFAULT_SOCKET };

type Env = Record<string, string | undefined>;

/** An engine to talk to, and the Docker context it came from (if any). */
export interface EngineTarget {
  address: EngineAddress;
  context?: string;
}

/** DOCKER_TLS_VERIFY / DOCKER_TLS and DOCKER_CERT_PATH, as the docker CLI reads them. */
export function tlsFromEnv(env: Env): EngineTls | undefined {
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  if (!verify && !env.DOCKER_TLS) return undefined;
  const certDir = env.DOCKER_CERT_PATH?.trim() || dockerConfigDir(env);
  return { verify, certDir };
}

function fromContext(name: string, env: Env, what: string, kind: 'input' | 'environment'): EngineTarget {
  if (name === DEFAULT_CONTEXT) return fromHost(env);
  const { context, address } = readDockerContext(name, env, { what, kind });
  return { address, context };
}

function fromHost(env: Env): EngineTarget {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { address: { kind: 'unix', path: DEFAULT_SOCKET } };
  return { address: parseEngineAddress(host, { what: 'DOCKER_HOST', kind: 'environment' }, tlsFromEnv(env)) };
}

/** The engine a command talks to when no lab names engines of its own. */
export function resolveEngineTarget(env: Env = process.env, options: { context?: string } = {}): EngineTarget {
  if (options.context) return fromContext(options.context, env, '--context', 'input');
  if (env.DOCKER_HOST?.trim()) return fromHost(env);
  const named = env.DOCKER_CONTEXT?.trim();
  if (named) return fromContext(named, env, 'DOCKER_CONTEXT', 'environment');
  const current = currentContext(env);
  if (current) return fromContext(current, env, `currentContext in ${join(dockerConfigDir(env), 'config.json')}`, 'environment');
  return fromHost(env);
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

export function engineDeadlines(env: Record<string, string | undefined> = process.env): EngineDeadlines {
  const quickMs = setting('engineTimeoutMs', 10_000, env);
  return {
    quickMs,
    slowMs: setting('engineSlowTimeoutMs', Math.max(quickMs, 60_000), env),
    imageMs: setting('engineImageTimeoutMs', Math.max(quickMs, 600_000), env),
    livenessMs: Math.min(quickMs, 500),
  };
}
