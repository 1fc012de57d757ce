// Engine failures as typed errors, each mapped onto overlab's exit codes with a sentence of our
// own and a fix. The engine's text is kept as `detail` and shown only after our sentence.
import { OverlabError, type ErrorKind } from '../core/errors.js';

export type EngineFailure = 'not-found' | 'conflict' | 'timeout' | 'unreachable' | 'server' | 'bad-request';

/** What overlab was doing when the engine failed, for the sentence: "create container x". */
export interface EngineCall {
  /** The engine's socket path. */
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

const START_ENGINE = 'start one: `bash scripts/setup.sh` installs docker.io and starts dockerd, or run `dockerd --bridge=none &` as root; or point DOCKER_HOST at the engine\'s socket (unix:///…)';

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
        return { kind: 'environment', message: `no Docker engine answers at ${facts.engine} (${why})`, hint: START_ENGINE };
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
        message: `the Docker engine at ${facts.engine} does not answer within ${seconds(facts.timeoutMs ?? 0)} (asked to ${what(facts)})`,
        hint: 'check that dockerd is alive (`systemctl status docker` or its log) and restart it; if it is only slow, raise OVERLAB_ENGINE_TIMEOUT_MS (milliseconds)',
      };
    case 'not-found': {
      const subject = facts.subject ?? 'the object';
      const hint = subject.startsWith('image ')
        ? 'build it with `overlab image build` (or `bash scripts/setup.sh`)'
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
