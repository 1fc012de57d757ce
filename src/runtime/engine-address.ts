// Where an engine is and how to reach it, as the docker CLI spells it: `unix:///path`,
// `tcp://host[:port]` (plain, or TLS with certificates), `ssh://[user@]host[:port]`. Pure: files
// (certificates, contexts) are only named here and read when a connection is made.
import { OverlabError, type ErrorKind } from '../base/errors.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** Mutual TLS for a tcp:// engine: the docker CLI's DOCKER_CERT_PATH layout. */
export interface EngineTls {
  /** Check the engine's certificate against ca.pem (DOCKER_TLS_VERIFY); else encrypt only. */
  verify: boolean;
  /** Directory with ca.pem, cert.pem, key.pem. */
  certDir: string;
}

export type EngineAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number; tls?: EngineTls }
  | { kind: 'ssh'; host: string; user?: string; port?: number };

/** Where the text of an address came from, for messages and exit codes: a value the user typed
 * on this command line or in a spec is bad input (2); one from the environment or a Docker
 * configuration file is the machine's set-up (3). */
export interface AddressSource {
  /** "DOCKER_HOST", "--engine b", "engines.b.host in lab.yaml", "Docker context prod". */
  what: string;
  kind: Extract<ErrorKind, 'input' | 'environment'>;
}

/** A host name, IPv4 or bracketed IPv6 address: no spaces, no option-like leading dash. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

const printable = (text: string) => JSON.stringify(text.slice(0, 200)).slice(1, -1);

function refused(source: AddressSource, value: string, why: string, hint: string): OverlabError {
  return new OverlabError(source.kind, `${source.what}=${printable(value)} ${why}`, hint);
}

const FORMS = 'unix:///path/to/docker.sock, tcp://host:2376 (with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for mutual TLS) or ssh://user@host[:port]';

function port(text: string, source: AddressSource, value: string): number | undefined {
  if (text === '') return undefined;
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw refused(source, value, `has port ${printable(text)}, not a number from 1 to 65535`, `write it as ${FORMS}`);
  return n;
}

/** `tls` applies to tcp:// only (the docker CLI's DOCKER_TLS_VERIFY / DOCKER_CERT_PATH). */
export function parseEngineAddress(value: string, source: AddressSource, tls?: EngineTls): EngineAddress {
  const text = value.trim();
  const scheme = /^([a-z]+):\/\//.exec(text)?.[1];
  if (scheme === 'unix') {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/') || /[\u0000-\u001f]/.test(path)) throw refused(source, value, 'is not a unix socket path (unix:///absolute/path)', `write it as ${FORMS}`);
    return { kind: 'unix', path };
  }
  if (scheme === 'tcp' || scheme === 'ssh') {
    const rest = text.slice(scheme.length + 3);
    const at = rest.lastIndexOf('@');
    const user = at >= 0 ? rest.slice(0, at) : undefined;
    const hostPort = at >= 0 ? rest.slice(at + 1) : rest;
    const slash = hostPort.indexOf('/');
    if (slash >= 0 && hostPort.slice(slash) !== '/') {
      throw refused(source, value, `has a path (${printable(hostPort.slice(slash))}); a ${scheme}:// engine address is host and port only`, `write it as ${FORMS}`);
    }
    const authority = slash >= 0 ? hostPort.slice(0, slash) : hostPort;
    const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority);
    const host = m?.[1] ?? '';
    if (!HOST.test(host)) throw refused(source, value, `has no usable host name (${printable(host) || 'empty'})`, `write it as ${FORMS}`);
    const p = port(m?.[2] ?? '', source, value);
    if (scheme === 'tcp') {
      if (user !== undefined) throw refused(source, value, 'names a user; tcp:// engines authenticate with TLS certificates, not users', `use ssh://user@host, or ${FORMS}`);
      return { kind: 'tcp', host, port: p ?? (tls ? 2376 : 2375), ...(tls ? { tls } : {}) };
    }
    if (user !== undefined && !USER.test(user)) throw refused(source, value, `has user ${printable(user)}, which ssh would not take as a plain user name`, 'user names are letters, digits, `.`, `_` and `-`');
    return { kind: 'ssh', host, ...(user !== undefined ? { user } : {}), ...(p !== undefined ? { port: p } : {}) };
  }
  const hint = scheme === 'npipe' ? 'named pipes exist on Windows only; ' : scheme === 'fd' ? 'systemd socket activation (fd://) is for dockerd itself; ' : '';
  throw refused(source, value, 'is not an engine address overlab can reach', `${hint}write it as ${FORMS}`);
}

/** How messages name the engine: a unix socket by its path (as overlab always has), others as a URL. */
export function displayAddress(address: EngineAddress): string {
  switch (address.kind) {
    case 'unix':
      return address.path;
    case 'tcp':
      return `tcp://${address.host}:${address.port}`;
    case 'ssh':
      return `ssh://${address.user ? `${address.user}@` : ''}${address.host}${address.port ? `:${address.port}` : ''}`;
  }
}
