// Docker contexts are plain files the docker CLI writes (`docker context create`): the current one
// is `currentContext` in <config>/config.json; each context's endpoint is in
// <config>/contexts/meta/<sha256(name)>/meta.json and its TLS material, when it has any, in
// <config>/contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem. <config> is DOCKER_CONFIG or
// ~/.docker. overlab reads them; it never writes them.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OverlabError } from '../base/errors.js';
import { parseEngineAddress, type AddressSource, type EngineAddress } from './engine-address.js';
import { debugLog } from '../base/debug-log.js';

type Env = Record<string, string | undefined>;

/** The docker CLI's own rule for context names. */
const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/;
/** `default` is no file: it is DOCKER_HOST, or the local socket. */
export const DEFAULT_CONTEXT = 'default';

export function dockerConfigDir(env: Env): string {
  const dir = env.DOCKER_CONFIG?.trim();
  return dir ? dir : join(env.HOME || homedir(), '.docker');
}

/** The context's directory name: the hex SHA-256 of its name. */
export function contextId(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/** `currentContext` of config.json, when there is one (a missing or unreadable file has none). */
export function currentContext(env: Env): string | undefined {
  const file = join(dockerConfigDir(env), 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    debugLog('runtime', `read ${file} (no Docker context chosen there)`, error);
    return undefined;
  }
  try {
    const value = (JSON.parse(text) as { currentContext?: unknown }).currentContext;
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  } catch {
    throw new OverlabError('environment', `${file} is not valid JSON, so overlab cannot tell which Docker context is current`, 'fix the file (the docker CLI cannot read it either), or set DOCKER_HOST or DOCKER_CONTEXT');
  }
}

interface ContextMeta {
  Name?: unknown;
  Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } };
}

export interface ContextEndpoint {
  context: string;
  address: EngineAddress;
}

/** A named context's engine. `source` says who named it (flag, spec, env, config.json). */
export function readDockerContext(name: string, env: Env, source: AddressSource): ContextEndpoint {
  if (!CONTEXT_NAME.test(name) || name.length > 200) {
    throw new OverlabError(source.kind, `${source.what} names Docker context ${JSON.stringify(name.slice(0, 80))}, which is not a context name`, 'context names are letters, digits, `_`, `.`, `+` and `-` (`docker context ls` lists them)');
  }
  const config = dockerConfigDir(env);
  const id = contextId(name);
  const metaFile = join(config, 'contexts', 'meta', id, 'meta.json');
  let meta: ContextMeta;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as ContextMeta;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new OverlabError(
      source.kind,
      missing ? `Docker context "${name}" (${source.what}) does not exist: there is no ${metaFile}` : `Docker context "${name}" (${source.what}) cannot be read: ${metaFile}: ${(error as Error).message}`,
      missing ? '`docker context ls` lists the contexts; `docker context create NAME --docker host=ssh://user@host` makes one' : 'fix or recreate the context with `docker context create`',
    );
  }
  const host = meta.Endpoints?.docker?.Host;
  if (typeof host !== 'string' || !host) {
    throw new OverlabError(source.kind, `Docker context "${name}" has no docker endpoint (Endpoints.docker.Host in ${metaFile})`, 'recreate it: `docker context create NAME --docker host=…`');
  }
  const tlsDir = join(config, 'contexts', 'tls', id, 'docker');
  const hasTls = ['ca.pem', 'cert.pem', 'key.pem'].some((f) => existsSync(join(tlsDir, f)));
  const tls = hasTls ? { verify: meta.Endpoints?.docker?.SkipTLSVerify !== true, certDir: tlsDir } : undefined;
  const address = parseEngineAddress(host, { what: `the docker endpoint of context "${name}"`, kind: source.kind }, tls);
  return { context: name, address };
}
