// Engine failures as typed errors, each mapped onto overlab's exit codes with a sentence of our
// own and a fix. The engine's text is kept as `detail` and shown only after our sentence.
import { OverlabError, type ErrorKind } from '../base/errors.js';

export type EngineFailure = 'not-found' | 'conflict' | 'timeout' | 'unreachable' | 'server' | 'bad-request';

/** What overlab was doing when the engine failed, for the sentence: "create container x". */
export interface EngineCall {
  /** The engine: its socket path, tcp://host:port or ssh://user@host. */
  engine: string;
  /** A verb phrase: "create", "run a command in", "read a file from". */
  operation: string;
  /** What it was done to: "container overlab-a-host1", "image overlab/host:latest". */
  subject?: string;
}

export interface EngineFailureFacts extends EngineCall {
  status?: number;
  /** The engine's own message, or the socket error code (ENOENT, ECONNREFUSED, …). */
  detail?: string;
  code?: string;
  timeoutMs?: number;
  /** The engine began to answer, then sent nothing more for timeoutMs (a stalled body). */
  stalled?: boolean;
}

export class EngineError extends OverlabError {
  readonly failure: EngineFailure;
  readonly status?: number;
  readonly detail?: string;
  constructor(kind: ErrorKind, failure: EngineFailure, message: string, hint: string, facts: EngineFailureFacts) {
    super(kind, message, hint);
    this.name = 'EngineError';
    this.failure = failure;
    if (facts.status !== undefined) this.status = facts.status;
    if (facts.detail !== undefined) this.detail = facts.detail;
  }
}

export function isEngineFailure(error: unknown, failure: EngineFailure): error is EngineError {
  return error instanceof EngineError && error.failure === failure;
}

/** One line of the engine's text, printable and short: it is shown, never trusted. */
export function engineDetail(text: string | undefined): string | undefined {
  if (!text) return undefined;
  let message = text.trim();
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: plain text
  }
  const line = message.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (!line) return undefined;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

function what(facts: EngineCall): string {
  return facts.subject ? `${facts.operation} ${facts.subject}` : facts.operation;
}

function withDetail(sentence: string, detail: string | undefined): string {
  return detail ? `${sentence} (engine: ${detail})` : sentence;
}

interface Mapping {
  kind: ErrorKind;
  message: string;
  hint: string;
}

const START_ENGINE = 'start one as root: `dockerd --bridge=none &` (not installed? `apt-get install docker.io` first; `overlab doctor` checks the rest); or point DOCKER_HOST at a running engine\'s socket (unix:///…)';

const START_REMOTE_ENGINE = 'check that dockerd runs on that machine and listens there (`dockerd -H tcp://0.0.0.0:2376 --tlsverify …`), and that no firewall drops the port';

/** Node's and OpenSSL's names for a failed TLS handshake or certificate check. */
function isTlsCode(code: string): boolean {
  return /^(ERR_SSL_|ERR_TLS_|EPROTO$)/.test(code) || /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|LEAF_SIGNATURE/.test(code);
}

/** ssh failed before the engine was reached: what ssh said decides the advice. */
function sshFailure(facts: EngineFailureFacts, detail: string | undefined): Mapping {
  const said = detail ?? 'ssh failed';
  const base = `overlab could not reach the Docker engine at ${facts.engine} over ssh: ${said}`;
  if (/permission denied|no more authentication methods|too many authentication failures/i.test(said)) {
    return { kind: 'environment', message: base, hint: 'overlab runs ssh with BatchMode=yes, so it never asks for a password: load a key into your agent (`ssh-add`) or name one for that host in ~/.ssh/config, and check it is in the remote user\'s authorized_keys' };
  }
  if (/host key verification failed|remote host identification has changed/i.test(said)) {
    return { kind: 'environment', message: base, hint: 'ssh does not know (or no longer trusts) that machine\'s host key, and overlab never answers ssh\'s question for you: connect once by hand (`ssh user@host true`) and check the fingerprint' };
  }
  if (/command not found|no such file|not recognized|unknown command|dial-stdio/i.test(said)) {
    return { kind: 'environment', message: `ssh reached ${facts.engine}, but \`docker system dial-stdio\` does not work there: ${said}`, hint: 'the docker CLI must be installed on that machine (Debian: docker.io or docker-ce-cli) for the remote user, able to reach its engine (DOCKER_HOST there, or its default socket)' };
  }
  if (/could not resolve|name or service not known|connection refused|timed out|no route/i.test(said)) {
    return { kind: 'environment', message: base, hint: 'check the host name and port, that sshd runs there, and that no firewall drops it' };
  }
  return { kind: 'environment', message: base, hint: 'try `ssh -o BatchMode=yes user@host docker version` by hand: it must work without a prompt' };
}

function mapping(failure: EngineFailure, facts: EngineFailureFacts): Mapping {
  const detail = engineDetail(facts.detail);
  switch (failure) {
    case 'unreachable': {
      if (facts.code === 'EACCES' || facts.code === 'EPERM') {
        return {
          kind: 'environment',
          message: `overlab may not open the Docker engine's socket ${facts.engine} (permission denied)`,
          hint: 'run overlab as root, or as a member of the group that owns the socket (usually `docker`)',
        };
      }
      if (facts.code === 'ENOENT' || facts.code === 'ECONNREFUSED' || facts.code === 'ENOTSOCK') {
        const why = facts.code === 'ENOENT' ? 'the socket does not exist' : facts.code === 'ENOTSOCK' ? 'that path is not a socket' : 'nothing listens on it';
        return { kind: 'environment', message: `no Docker engine answers at ${facts.engine} (${why})`, hint: facts.engine.startsWith('/') ? START_ENGINE : START_REMOTE_ENGINE };
      }
      if (facts.code === 'ENOTFOUND' || facts.code === 'EAI_AGAIN' || facts.code === 'EHOSTUNREACH' || facts.code === 'ENETUNREACH') {
        const why = facts.code === 'ENOTFOUND' || facts.code === 'EAI_AGAIN' ? 'no such host name' : 'no route to that host';
        return { kind: 'environment', message: `no Docker engine answers at ${facts.engine} (${why})`, hint: 'check the address (`overlab doctor` tries every engine); a name must resolve on this machine' };
      }
      if (facts.code === 'ESSH_MISSING') {
        return { kind: 'environment', message: `overlab cannot reach ${facts.engine}: there is no \`ssh\` program on this machine`, hint: 'install the OpenSSH client (Debian: apt-get install openssh-client)' };
      }
      if (facts.code === 'ESSH') {
        return sshFailure(facts, detail);
      }
      if (facts.code && isTlsCode(facts.code)) {
        return {
          kind: 'environment',
          message: `the TLS handshake with the Docker engine at ${facts.engine} failed${detail ? `: ${detail}` : ` (${facts.code})`}`,
          hint: 'DOCKER_CERT_PATH (or the engine\'s certPath) must hold the ca.pem that signed the engine\'s certificate and a client cert.pem/key.pem the engine trusts; the engine\'s certificate must name the host or address overlab dials',
        };
      }
      return {
        kind: 'environment',
        message: `the Docker engine at ${facts.engine} closed the connection while overlab tried to ${what(facts)}${facts.code ? ` (${facts.code})` : ''}`,
        hint: 'the engine may have restarted or crashed: check its log (`journalctl -u docker`, or dockerd\'s log file), then try again',
      };
    }
    case 'timeout':
      return {
        kind: 'environment',
        message: facts.stalled
          ? `the Docker engine at ${facts.engine} began to answer, then sent nothing for ${seconds(facts.timeoutMs ?? 0)} (asked to ${what(facts)})`
          : `the Docker engine at ${facts.engine} does not answer within ${seconds(facts.timeoutMs ?? 0)} (asked to ${what(facts)})`,
        hint: 'check that dockerd is alive (`systemctl status docker` or its log) and restart it; if `docker version` answers while `docker info` or `docker network ls` hangs, dockerd is wedged (a lock held inside it for good, seen with docker.io 20.10 when many containers end at once): `kill -USR1 <dockerd pid>` writes its goroutine dump under /var/run/docker/ for a bug report, then restart it; if it is only slow, raise OVERLAB_ENGINE_TIMEOUT_MS (milliseconds)',
      };
    case 'not-found': {
      const subject = facts.subject ?? 'the object';
      const hint = subject.startsWith('image ')
        ? 'build it with `overlab image build` (offline, from Debian\'s packages; needs mmdebstrap)'
        : subject.startsWith('file ')
          ? 'the lab may have been built by an older overlab or not finished: `overlab down <lab>`, then `overlab up <spec>`'
          : '`overlab ls` shows which labs are up and whole; `overlab up <spec> --recreate` rebuilds a lab that lost a node';
      return { kind: 'environment', message: withDetail(`${subject} does not exist on the Docker engine (asked to ${facts.operation} it)`, detail), hint };
    }
    case 'conflict':
      return {
        kind: 'environment',
        message: withDetail(`the Docker engine refused to ${what(facts)}: it conflicts with the engine's current state`, detail),
        hint: 'a container may be stopped or paused, or its name taken by another: `overlab ls` shows the labs and their state; `overlab up <spec> --recreate` rebuilds one',
      };
    case 'bad-request':
      if (detail && /HTTP request to an HTTPS server/i.test(detail)) {
        return {
          kind: 'environment',
          message: `the Docker engine at ${facts.engine} speaks TLS, and overlab connected without it`,
          hint: 'set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory with ca.pem, cert.pem and key.pem (or give the engine a context with its TLS material)',
        };
      }
      return {
        kind: 'input',
        message: withDetail(`the Docker engine rejected the request to ${what(facts)} as invalid`, detail),
        hint: 'check the spec\'s image reference and node settings (`overlab validate <spec>`); if they are right, this is a bug in overlab: please report it with this message',
      };
    case 'server':
      return {
        kind: 'environment',
        message: withDetail(`the Docker engine failed to ${what(facts)}${facts.status ? ` (HTTP ${facts.status})` : ''}`, detail),
        hint: 'the engine\'s log says why (`journalctl -u docker`, or dockerd\'s log file); `overlab doctor` checks the set-up',
      };
  }
}

export function engineError(failure: EngineFailure, facts: EngineFailureFacts): EngineError {
  const { kind, message, hint } = mapping(failure, facts);
  return new EngineError(kind, failure, message, hint, facts);
}

/** An HTTP status the engine answered with, as a failure kind (2xx/304 are not failures). */
export function failureForStatus(status: number): EngineFailure {
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status >= 400 && status < 500) return 'bad-request';
  return 'server';
}

/** A socket-level error (no HTTP answer at all) as a failure kind. */
export function failureForSocketError(code: string | undefined): EngineFailure {
  return code === 'ETIMEDOUT' ? 'timeout' : 'unreachable';
}
