// A process in a container that a person (or a pipe) talks to while it runs, as `docker exec -i`
// and `docker exec -it` do: output as it comes, stdin streamed in, and with a terminal a
// pseudo-terminal of the engine's (raw bytes both ways, one output stream) that follows the
// window's size. Only EngineClient's json() and upgrade() are used, so any transport that carries
// a hijacked connection carries this too.
import { PassThrough } from 'node:stream';
import { interruptedError } from '../base/errors.js';
import { pollUntil } from '../base/poll.js';
import type { EngineClient, EngineConnection, EngineStream } from './engine-client.js';
import { engineError, isEngineFailure } from './engine-errors.js';
import { FrameDemuxer, STDERR, STDOUT } from './stream-demux.js';
import type { AttachedExec, AttachOptions, TerminalSize } from './runtime.js';
import { tolerated } from '../base/debug-log.js';

const enc = encodeURIComponent;
const subjectOf = (container: string) => `container ${container}`;

/** The exit code, once the engine has recorded it (it may lag the end of the stream a little). */
export async function execExitCode(client: EngineClient, id: string, container: string, signal: AbortSignal | undefined): Promise<number> {
  let state: { Running: boolean; ExitCode: number | null } | undefined;
  const read = async () => {
    state = await client.json<{ Running: boolean; ExitCode: number | null }>({
      method: 'GET',
      path: `/exec/${enc(id)}/json`,
      operation: 'read the exit code of a command in',
      subject: subjectOf(container),
      signal,
    });
    return !state.Running;
  };
  await pollUntil(read, { timeoutMs: 5_000, intervalMs: 10, signal: signal ?? new AbortController().signal });
  if (!state || state.Running || state.ExitCode === null) {
    throw engineError('server', { engine: client.endpoint, operation: 'report the exit code of a command in', subject: subjectOf(container), detail: 'the command still runs after its output ended' });
  }
  return state.ExitCode;
}

/** The engine's pseudo-terminal takes a new size (rows × columns). Right after the start the
 * process may not be registered yet: the engine then answers 404/409/500, so it is asked again. */
async function resizeTerminal(client: EngineClient, id: string, container: string, size: TerminalSize, signal: AbortSignal | undefined): Promise<void> {
  const rows = Math.max(1, Math.floor(size.rows));
  const columns = Math.max(1, Math.floor(size.columns));
  let lastError: Error | undefined;
  const attempt = async () => {
    try {
      await client.buffered({ method: 'POST', path: `/exec/${enc(id)}/resize`, query: { h: rows, w: columns }, operation: 'resize the terminal of a command in', subject: subjectOf(container), signal });
      return true;
    } catch (error) {
      if (isEngineFailure(error, 'not-found') || isEngineFailure(error, 'conflict') || isEngineFailure(error, 'server')) {
        lastError = error;
        return false;
      }
      throw error;
    }
  };
  const done = await pollUntil(attempt, { timeoutMs: 1_000, intervalMs: 20, signal: signal ?? new AbortController().signal });
  if (!done && lastError) throw lastError;
}

export async function execAttached(client: EngineClient, container: string, command: string[], options: AttachOptions = {}): Promise<AttachedExec> {
  const signal = client.signalFor(options.signal);
  const tty = options.tty;
  const consoleSize = tty ? [Math.max(1, tty.rows), Math.max(1, tty.columns)] : undefined;
  const created = await client.json<{ Id: string }>({
    method: 'POST',
    path: `/containers/${enc(container)}/exec`,
    json: {
      Cmd: command,
      AttachStdin: options.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: true,
      Tty: Boolean(tty),
      ...(options.env?.length ? { Env: options.env } : {}),
      // Engines from API 1.42 start the terminal at this size; older ones ignore it and get resized.
      ...(consoleSize ? { ConsoleSize: consoleSize } : {}),
    },
    operation: 'run a command in',
    subject: subjectOf(container),
    signal,
  });
  const id = created.Id;
  const connection: EngineConnection | EngineStream = await client.upgrade({
    method: 'POST',
    path: `/exec/${enc(id)}/start`,
    json: { Detach: false, Tty: Boolean(tty), ...(consoleSize ? { ConsoleSize: consoleSize } : {}) },
    operation: 'run a command in',
    subject: subjectOf(container),
    accept: [200, 101],
    signal,
  });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const source = 'socket' in connection ? connection.socket : connection.stream;
  // With a terminal the engine sends the terminal's bytes as they are; without, framed streams.
  const demux = tty ? undefined : new FrameDemuxer((stream, payload) => (stream === STDERR ? stderr : stream === STDOUT ? stdout : stdout).write(payload));
  const push = (chunk: Buffer) => (demux ? demux.push(chunk) : stdout.write(chunk));
  if ('head' in connection && connection.head.length) push(connection.head);
  const closed = new Promise<{ cut: boolean }>((resolve) => {
    let ended = false;
    source.on('data', push);
    source.on('end', () => {
      ended = true;
    });
    source.on('error', () => undefined);
    source.on('close', () => resolve({ cut: !ended }));
  });

  if (options.stdin) {
    if (!('socket' in connection)) {
      connection.stream.destroy();
      throw engineError('server', { engine: client.endpoint, operation: 'pass input to a command in', subject: subjectOf(container), detail: 'the engine did not hand over the connection' });
    }
    const socket = connection.socket;
    const input = options.stdin;
    const forward = (chunk: Buffer) => {
      if (!socket.destroyed) socket.write(chunk);
    };
    // The end of the input closes the process's stdin (half-close); the output still comes.
    const finish = () => {
      if (!socket.destroyed) socket.end();
    };
    input.on('data', forward);
    input.once('end', finish);
    void closed.then(() => {
      input.off('data', forward);
      input.off('end', finish);
    });
  }

  const exited = closed.then(async ({ cut }) => {
    stdout.end();
    stderr.end();
    if (signal?.aborted) return 130;
    if (cut) {
      // Cut by the client because the engine stopped answering while the command ran: its
      // timeout, as exec and execStream report it (a person's Ctrl-C is the abort above).
      const silentMs = client.silentForMs;
      if (silentMs !== undefined) throw engineError('timeout', { engine: client.said, operation: 'run a command in', subject: subjectOf(container), timeoutMs: silentMs });
      return 130;
    }
    return execExitCode(client, id, container, signal).catch(tolerated('runtime', `read the exit code of an exec in ${container} (taken as 1)`, 1));
  });
  const resize = async (size: TerminalSize) => {
    if (!tty) return;
    if (signal?.aborted) throw interruptedError();
    await resizeTerminal(client, id, container, size, signal);
  };
  if (tty) await resize(tty).catch(tolerated('runtime', 'size the terminal of an exec (it works at the wrong size)'));
  return { stdout, stderr, exited, resize };
}
