// execAttached (a shell on a lab node) against a real HTTP server on a unix socket that imitates
// the engine: the terminal's raw bytes, stdin as it comes, the window's size, the exit code.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PassThrough, type Duplex } from 'node:stream';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { EngineError } from '../../src/runtime/engine-errors.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { frame, STDERR, STDOUT } from '../../src/runtime/stream-demux.js';
import { json, startFakeEngine, type FakeEngine } from '../support/fake-engine.js';

let engine: FakeEngine;
const runtime = (signal?: AbortSignal) => new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 2000, slowMs: 2000, livenessMs: 200 }, ...(signal ? { signal } : {}) });

/** The exec routes; `onStart` gets the hijacked socket; the exit code is `exitCode` once asked. */
function execRoutes(onStart: (socket: Duplex) => Promise<void> | void, exitCode = 0, resizeAnswers: number[] = [200]) {
  engine.routes.set('POST /containers/c1/exec', (_req, res) => json(res, 201, { Id: 'e1' }));
  engine.upgrades.set('POST /exec/e1/start', async (_req, socket) => onStart(socket));
  engine.routes.set('GET /exec/e1/json', (_req, res) => json(res, 200, { Running: false, ExitCode: exitCode }));
  let resizes = 0;
  engine.routes.set('POST /exec/e1/resize', (_req, res) => {
    const status = resizeAnswers[Math.min(resizes++, resizeAnswers.length - 1)]!;
    if (status === 200) res.writeHead(200).end();
    else json(res, status, { message: 'container is not running' });
  });
}

const body = (path: string) => JSON.parse(engine.requests.find((r) => r.url.pathname === path)!.body.toString()) as Record<string, unknown>;
const resizes = () => engine.requests.filter((r) => r.url.pathname === '/exec/e1/resize').map((r) => [Number(r.url.searchParams.get('h')), Number(r.url.searchParams.get('w'))]);
const collect = (stream: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString('utf8');
};

beforeEach(async () => {
  engine = await startFakeEngine();
});

afterEach(async () => {
  await engine.close();
});

describe('an exec with a terminal', () => {
  it('asks for a terminal of the window\'s size, passes keys as they come and the terminal\'s bytes untouched, then the exit code', async () => {
    const typed: string[] = [];
    let keyArrived: () => void = () => undefined;
    let shellSocket: Duplex | undefined;
    execRoutes((socket) => {
      shellSocket = socket;
      socket.on('data', (c: Buffer) => {
        typed.push(c.toString());
        keyArrived();
      });
      // Bytes that would be a frame header without a terminal: with one they are plain output.
      socket.write(Buffer.from([1, 0, 0, 0, 0, 0, 0, 3]));
      socket.write('root@host1:/# ');
    }, 5);
    const stdin = new PassThrough();
    const proc = await runtime().execAttached('c1', ['bash'], { tty: { rows: 33, columns: 101 }, stdin, env: ['TERM=xterm'] });
    const out = collect(proc.stdout);
    // A key reaches the shell before stdin ends (a person types one key at a time).
    const arrived = new Promise<void>((resolve) => (keyArrived = resolve));
    stdin.write('\u0003');
    await arrived;
    expect(typed.join('')).toBe('\u0003');
    await proc.resize({ rows: 40, columns: 120 });
    shellSocket!.end('exit\r\n');
    expect(await proc.exited).toBe(5);
    expect(out()).toBe('\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0003root@host1:/# exit\r\n');
    expect(body('/containers/c1/exec')).toMatchObject({ Cmd: ['bash'], Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true, Env: ['TERM=xterm'], ConsoleSize: [33, 101] });
    expect(body('/exec/e1/start')).toMatchObject({ Detach: false, Tty: true });
    expect(resizes()).toEqual([
      [33, 101],
      [40, 120],
    ]);
  });

  it('sizes the terminal again while the engine has not registered the process yet', async () => {
    execRoutes((socket) => void socket.end(), 0, [409, 500, 200]);
    const proc = await runtime().execAttached('c1', ['bash'], { tty: { rows: 10, columns: 20 }, stdin: new PassThrough() });
    expect(await proc.exited).toBe(0);
    expect(resizes()).toEqual([
      [10, 20],
      [10, 20],
      [10, 20],
    ]);
  });
});

describe('an exec without a terminal', () => {
  it('streams stdout and stderr apart as they come; the end of stdin closes the process\'s stdin', async () => {
    let stdinEnded = false;
    execRoutes(async (socket) => {
      socket.write(frame(STDOUT, 'first\n'));
      socket.on('data', (c: Buffer) => socket.write(frame(STDOUT, `got ${c.toString()}`)));
      socket.on('end', () => {
        stdinEnded = true;
        socket.write(frame(STDERR, 'bye\n'));
        socket.end();
      });
    }, 3);
    const stdin = new PassThrough();
    const proc = await runtime().execAttached('c1', ['cat'], { stdin });
    const out = collect(proc.stdout);
    const err = collect(proc.stderr);
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    expect(out()).toBe('first\n'); // before the process has ended
    stdin.end('x\n');
    expect(await proc.exited).toBe(3);
    expect(stdinEnded).toBe(true);
    expect(out()).toBe('first\ngot x\n');
    expect(err()).toBe('bye\n');
    expect(body('/containers/c1/exec')).toMatchObject({ Tty: false, AttachStdin: true });
    expect(body('/containers/c1/exec')).not.toHaveProperty('ConsoleSize');
    expect(resizes()).toEqual([]);
  });

  it('attaches no stdin unless asked, and ends with 130 when the command\'s signal fires', async () => {
    execRoutes((socket) => void socket.write(frame(STDOUT, 'listening\n')));
    const controller = new AbortController();
    const proc = await runtime(controller.signal).execAttached('c1', ['tcpdump']);
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    controller.abort();
    expect(await proc.exited).toBe(130);
    expect(body('/containers/c1/exec')).toMatchObject({ AttachStdin: false, Tty: false });
  });

  it('ends with the engine\'s timeout, not as an interrupt (130), when its engine stops answering (exec, logs -f)', async () => {
    execRoutes((socket) => {
      socket.write(frame(STDOUT, 'listening\n'));
      engine.hang = true;
    });
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 200, slowMs: 2000, livenessMs: 100 } });
    const proc = await rt.execAttached('c1', ['tail', '-F', '/var/log/overlab-agent.log'], { stdin: new PassThrough() });
    const out = collect(proc.stdout);
    const error = (await proc.exited.catch((e: unknown) => e)) as EngineError;
    expect(error).toBeInstanceOf(EngineError);
    expect(error.failure).toBe('timeout');
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).toBe(`the Docker engine at ${engine.socketPath} does not answer within 0.2 s (asked to run a command in container c1)`);
    expect(out()).toBe('listening\n');
  });
});
