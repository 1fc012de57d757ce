// A runtime for one engine a lab names: by address (unix://, tcp:// with its certificates, ssh://)
// or by Docker context — the same client, deadlines and error sentences as the command's own engine.
import { OverlabError } from '../base/errors.js';
import { readDockerContext } from './docker-context.js';
import { parseEngineAddress, type EngineTls } from './engine-address.js';
import { resolve } from 'node:path';
import { tlsFromEnv } from './engine-endpoint.js';
import { DockerRuntime } from './docker-runtime.js';
import type { ContainerRuntime } from './runtime.js';

type Env = Record<string, string | undefined>;

/** How a lab says where one of its engines is (a spec's engines: entry, or --engine). */
export interface EngineReach {
  name: string;
  host?: string;
  context?: string;
  certPath?: string;
  tlsVerify?: boolean;
}

export interface EngineRuntimeOptions {
  env?: Env;
  signal?: AbortSignal;
  /** Where the reach was written, for messages ("engines.b in lab.yaml", "--engine b"). */
  source?: string;
}

function tlsFor(reach: EngineReach, env: Env): EngineTls | undefined {
  if (reach.certPath) return { verify: reach.tlsVerify ?? true, certDir: reach.certPath };
  return tlsFromEnv(env);
}

/** A tcp:// engine reached with the TLS material of this command's environment (DOCKER_TLS_VERIFY,
 * DOCKER_CERT_PATH) keeps it in the lab's model: a later command talking to another engine of
 * the lab (another environment) reaches this one the same way. */
export function withEnvironmentTls(reach: EngineReach, env: Env = process.env): EngineReach {
  if (!reach.host?.startsWith('tcp://') || reach.certPath !== undefined) return reach;
  const tls = tlsFromEnv(env);
  return tls ? { ...reach, certPath: resolve(tls.certDir), tlsVerify: tls.verify } : reach;
}

export function runtimeForEngine(reach: EngineReach, options: EngineRuntimeOptions = {}): ContainerRuntime {
  const env = options.env ?? process.env;
  const what = options.source ?? `engine ${reach.name}`;
  const signal = options.signal ? { signal: options.signal } : {};
  if (reach.context) {
    const { address, context } = readDockerContext(reach.context, env, { what, kind: 'input' });
    return new DockerRuntime({ address, context, env, name: reach.name, ...signal });
  }
  if (reach.host) {
    const address = parseEngineAddress(reach.host, { what, kind: 'input' }, reach.host.startsWith('tcp://') ? tlsFor(reach, env) : undefined);
    return new DockerRuntime({ address, env, name: reach.name, ...signal });
  }
  throw new OverlabError('input', `${what} says neither host nor context`, 'give it host: (unix://…, tcp://…, ssh://…) or context: NAME');
}

/** `--engine NAME=ENDPOINT`: ENDPOINT is unix://, tcp:// or ssh://, or a Docker context name. */
export function parseEngineFlag(value: string): EngineReach {
  const eq = value.indexOf('=');
  const name = eq > 0 ? value.slice(0, eq) : '';
  const endpoint = eq > 0 ? value.slice(eq + 1).trim() : '';
  if (!/^[a-z][a-z0-9-]{0,14}$/.test(name) || !endpoint) {
    throw new OverlabError('input', `--engine ${JSON.stringify(value.slice(0, 100))} is not NAME=ENDPOINT`, 'e.g. --engine b=ssh://user@10.0.0.2 or --engine c=tcp://10.0.0.3:2376 or --engine d=my-context (names: a lowercase letter, then letters, digits or -, at most 15)');
  }
  return /^[a-z]+:\/\//.test(endpoint) ? { name, host: endpoint } : { name, context: endpoint };
}
