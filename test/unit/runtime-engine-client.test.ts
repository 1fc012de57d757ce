// The engine client against a real HTTP server on a unix socket that imitates the engine.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Readable, type Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { EngineError } from '../../src/runtime/engine-errors.js';
import { frame, STDERR, STDOUT } from '../../src/runtime/stream-demux.js';
import { tarEntries } from '../../src/runtime/tar.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { json, startFakeEngine, type FakeEngine } from '../support/fake-engine.js';

let engine: FakeEngine;
const runtime = (options: { signal?: AbortSignal; quickMs?: number } = {}) =>
  new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: options.quickMs ?? 2000, slowMs: 2000, livenessMs: 200 }, ...(options.signal ? { signal: options.signal } : {}) });

/** Write chunks one after another, each on a later turn of the event loop. */
async function dribble(socket: Duplex, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    socket.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Cut a buffer into pieces at the given offsets. */
function cut(data: Buffer, at: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const to of [...at, data.length]) {
    pieces.push(data.subarray(from, to));
    from = to;
  }
  return pieces.filter((p) => p.length > 0);
}

function execRoutes(onStart: (socket: Duplex, stdin: Promise<Buffer>) => Promise<void>, exitCodes: (number | null)[]) {
  engine.routes.set('POST /containers/c1/exec', (_req, res) => json(res, 201, { Id: 'e1' }));
  engine.upgrades.set('POST /exec/e1/start', async (_req, socket) => {
    const stdin = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
    });
    await onStart(socket, stdin);
  });
  let polls = 0;
  engine.routes.set('GET /exec/e1/json', (_req, res) => {
    const code = exitCodes[Math.min(polls++, exitCodes.length - 1)] ?? null;
    json(res, 200, { Running: code === null, ExitCode: code });
  });
}

beforeEach(async () => {
  engine = await startFakeEngine();
});

afterEach(async () => {
  await engine.close();
});

describe('requests', () => {
  it('lists containers with label filters and reads the answer', async () => {
    engine.routes.set('GET /containers/json', (_req, res) =>
      json(res, 200, [{ Id: 'abc', Names: ['/overlab-a-host1'], State: 'running', Labels: { 'overlab.lab': 'a' } }]),
    );
    const list = await runtime().list({ 'overlab.lab': 'a', 'overlab.run': true });
    expect(list).toEqual([{ id: 'abc', name: 'overlab-a-host1', state: 'running', labels: { 'overlab.lab': 'a' } }]);
    const url = engine.requests[0]!.url;
    expect(url.searchParams.get('all')).toBe('1');
    expect(JSON.parse(url.searchParams.get('filters')!)).toEqual({ label: ['overlab.lab=a', 'overlab.run'] });
  });

  it('finds containers by exact name only', async () => {
    engine.routes.set('GET /containers/json', (_req, res) =>
      json(res, 200, [
        { Id: '1', Names: ['/overlab-hx-a-b-host1'], State: 'running', Labels: { 'overlab.lab': 'hx-a-b' } },
        { Id: '2', Names: ['/overlab-hx-a-b-host10'], State: 'running', Labels: {} },
      ]),
    );
    const found = await runtime().listByName(['overlab-hx-a-b-host1']);
    expect(found.map((c) => c.name)).toEqual(['overlab-hx-a-b-host1']);
    expect(JSON.parse(engine.requests[0]!.url.searchParams.get('filters')!)).toEqual({ name: ['^/?overlab-hx-a-b-host1$'] });
  });

  it('creates and starts a container with the spec\'s settings and mounts', async () => {
    engine.routes.set('POST /containers/create', (_req, res) => json(res, 201, { Id: 'new1' }));
    engine.routes.set('POST /containers/new1/start', (_req, res) => res.writeHead(204).end());
    const id = await runtime().createAndStart({
      name: 'overlab-a-host1', hostname: 'host1', image: 'overlab/host:latest', labels: { 'overlab.lab': 'a' }, command: ['sleep', 'infinity'],
      capAdd: ['NET_ADMIN'], devices: ['/dev/net/tun'], sysctls: {}, mounts: [{ source: '/run/netns/x', target: '/run/switch-netns', readonly: true }],
    });
    expect(id).toBe('new1');
    const create = engine.requests[0]!;
    expect(create.url.searchParams.get('name')).toBe('overlab-a-host1');
    const body = JSON.parse(create.body.toString());
    expect(body.HostConfig).toMatchObject({ NetworkMode: 'none', CapAdd: ['NET_ADMIN'], Init: true, Mounts: [{ Type: 'bind', Source: '/run/netns/x', Target: '/run/switch-netns', ReadOnly: true }] });
    expect(body.HostConfig.Privileged).toBeUndefined();
  });

  it('mounts a named volume, and creates and starts a container in two steps', async () => {
    engine.routes.set('POST /containers/create', (_req, res) => json(res, 201, { Id: 'new2' }));
    engine.routes.set('POST /containers/overlab-a-switch/start', (_req, res) => res.writeHead(204).end());
    const id = await runtime().create({
      name: 'overlab-a-switch', hostname: 'switch', image: 'overlab/host:latest', labels: {}, command: ['sleep', 'infinity'],
      capAdd: [], devices: [], sysctls: {}, mounts: [{ volume: 'overlab-a-share', target: '/run/overlab/share', readonly: false }],
    });
    expect(id).toBe('new2');
    expect(JSON.parse(engine.requests[0]!.body.toString()).HostConfig.Mounts).toEqual([{ Type: 'volume', Source: 'overlab-a-share', Target: '/run/overlab/share', ReadOnly: false }]);
    await runtime().start('overlab-a-switch');
    expect(engine.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(['POST /containers/create', 'POST /containers/overlab-a-switch/start']);
  });

  it('creates a labelled volume and removes the volumes a label filter finds, one already gone included', async () => {
    engine.routes.set('POST /volumes/create', (_req, res) => json(res, 201, { Name: 'overlab-a-share' }));
    engine.routes.set('GET /volumes', (_req, res) => json(res, 200, { Volumes: [{ Name: 'overlab-a-share' }, { Name: 'overlab-a-old' }] }));
    engine.routes.set('DELETE /volumes/overlab-a-share', (_req, res) => res.writeHead(204).end());
    engine.routes.set('DELETE /volumes/overlab-a-old', (_req, res) => json(res, 404, { message: 'no such volume' }));
    await runtime().createVolume('overlab-a-share', { 'overlab.lab': 'a', 'overlab.run': 'r1' });
    expect(JSON.parse(engine.requests[0]!.body.toString())).toEqual({ Name: 'overlab-a-share', Labels: { 'overlab.lab': 'a', 'overlab.run': 'r1' } });
    expect(await runtime().removeVolumes({ 'overlab.lab': 'a' })).toEqual(['overlab-a-old', 'overlab-a-share']);
    expect(JSON.parse(engine.requests[1]!.url.searchParams.get('filters')!)).toEqual({ label: ['overlab.lab=a'] });
    expect(engine.requests.slice(2).map((r) => `${r.method} ${r.url.pathname}`).sort()).toEqual(['DELETE /volumes/overlab-a-old', 'DELETE /volumes/overlab-a-share']);
  });

  it('reads a file through the archive API and writes a tar', async () => {
    engine.routes.set('GET /containers/sw/archive', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' }).end(tarEntries([{ name: 'lab.json', content: Buffer.from('{"name":"a"}') }]));
    });
    engine.routes.set('PUT /containers/sw/archive', (_req, res) => res.writeHead(200).end());
    expect((await runtime().readFile('sw', '/etc/overlab/lab.json')).toString()).toBe('{"name":"a"}');
    expect(engine.requests[0]!.url.searchParams.get('path')).toBe('/etc/overlab/lab.json');
    const tar = tarEntries([{ name: 'overlab/' }, { name: 'overlab/x', content: Buffer.from('x') }]);
    await runtime().putTar('sw', '/etc', tar);
    expect(engine.requests[1]!.url.searchParams.get('path')).toBe('/etc');
    expect(engine.requests[1]!.body.equals(tar)).toBe(true);
  });

  it('sends an archive again when the engine lost the race with the container making a directory, and only then', async () => {
    // What dockerd 20.10 answered when a node's boot ran mkdir -p /opt/overlab during the unpack.
    let puts = 0;
    engine.routes.set('PUT /containers/h6/archive', (_req, res) =>
      ++puts === 1 ? json(res, 500, { message: 'Error processing tar file(exit status 1): mkdir /opt/overlab: file exists' }) : res.writeHead(200).end(),
    );
    const tar = tarEntries([{ name: 'opt/overlab/' }, { name: 'opt/overlab/x', content: Buffer.from('x') }]);
    await runtime().putTar('h6', '/', tar);
    expect(engine.requests.map((r) => r.body.equals(tar))).toEqual([true, true]);
    engine.routes.set('PUT /containers/h7/archive', (_req, res) => json(res, 500, { message: 'Error processing tar file(exit status 1): no space left on device' }));
    await expect(runtime().putTar('h7', '/', tar)).rejects.toThrow(/no space left on device/);
    expect(engine.requests).toHaveLength(3);
  });

  it('treats a container that is already gone as removed', async () => {
    engine.routes.set('DELETE /containers/gone', (_req, res) => json(res, 404, { message: 'No such container: gone' }));
    await expect(runtime().remove('gone')).resolves.toBeUndefined();
  });
});

describe('images', () => {
  it('streams a root filesystem into an import and reports its progress; an error line fails it', async () => {
    engine.routes.set('POST /images/create', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.body.length === 3 * 65536 ? '{"status":"sha256:abc"}\n' : '{"error":"short upload"}\n');
    });
    const logs: string[] = [];
    const chunks = [0, 1, 2].map(() => Buffer.alloc(65536, 7));
    await runtime().importImage(Readable.from(chunks), 'overlab/host:0.1.0', ['CMD ["sleep", "infinity"]'], { onLog: (l) => logs.push(l) });
    expect(logs).toEqual(['sha256:abc']);
    const url = engine.requests[0]!.url;
    expect([url.searchParams.get('fromSrc'), url.searchParams.get('repo'), url.searchParams.get('tag'), url.searchParams.getAll('changes')]).toEqual(['-', 'overlab/host', '0.1.0', ['CMD ["sleep", "infinity"]']]);
    const error = (await runtime().importImage(Readable.from([Buffer.from('x')]), 'overlab/host:0.1.0', []).catch((e: unknown) => e)) as EngineError;
    expect(error.failure).toBe('server');
    expect(error.message).toBe('the Docker engine failed to import image overlab/host:0.1.0 (engine: short upload)');
  });

  it('builds from a context tar with every tag, passing the build log on', async () => {
    engine.routes.set('POST /build', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"stream":"Step 1/2 : FROM debian\\n"}\n{"stream":" ---> 1234\\n"}\n{"aux":{"ID":"sha256:1"}}\n');
    });
    const logs: string[] = [];
    await runtime().buildImage(tarEntries([{ name: 'Dockerfile', content: Buffer.from('FROM debian\n') }]), ['a/b:1', 'a/b:latest'], { onLog: (l) => logs.push(l) });
    expect(logs).toEqual(['Step 1/2 : FROM debian', ' ---> 1234']);
    expect(engine.requests[0]!.url.searchParams.getAll('t')).toEqual(['a/b:1', 'a/b:latest']);
  });
});

describe('a body that stalls', () => {
  const slowImages = (imageMs: number) => new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 2000, slowMs: 2000, imageMs, livenessMs: 200 } });
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('fails when the engine began to answer and then sent nothing for the deadline (exit 3)', async () => {
    engine.routes.set('POST /images/load', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"stream":"Loading layer"}\n'); // and never another byte, never the end
    });
    const logs: string[] = [];
    const error = await slowImages(500).loadImages(Readable.from([Buffer.from('tar')]), { onLog: (l) => logs.push(l) }).catch((e: unknown) => e);
    expect(logs).toEqual(['Loading layer']);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).failure).toBe('timeout');
    expect((error as Error).message).toBe(`the Docker engine at ${engine.socketPath} began to answer, then sent nothing for 0.5 s (asked to load images)`);
    expect(exitCodeFor(error)).toBe(3);
  });

  it('bounds the silences, not the whole answer: a body that keeps coming may take longer than the deadline', async () => {
    engine.routes.set('POST /images/load', async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 1; i <= 6; i++) {
        res.write(`{"stream":"layer ${i}"}\n`);
        await pause(300); // 1.8 s in all, each silence well under the 1.5 s deadline
      }
      res.end();
    });
    const logs: string[] = [];
    await slowImages(1500).loadImages(Readable.from([Buffer.from('tar')]), { onLog: (l) => logs.push(l) });
    expect(logs).toEqual(['layer 1', 'layer 2', 'layer 3', 'layer 4', 'layer 5', 'layer 6']);
  });

  it('does not count the time its reader spends not reading', async () => {
    const image = Buffer.alloc(1 << 20, 9); // far more than the buffers between engine and reader hold
    engine.routes.set('GET /images/get', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      res.end(image);
    });
    const stream = await slowImages(500).saveImages(['overlab/host:latest']);
    await pause(2000); // the reader is busy elsewhere: backpressure, not a stalled engine
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(image)).toBe(true);
  });

  it('leaves an exec alone: its command may be silent longer than any deadline', async () => {
    // Silent for three deadlines. The deadlines are 0.3 s, not less: the engine's own answers
    // (create, start, the pings while the exec is open) must fit them on a loaded machine.
    execRoutes(async (socket) => {
      await pause(900);
      socket.end(frame(STDOUT, 'done'));
    }, [0]);
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 300, slowMs: 300, imageMs: 300, livenessMs: 300 } });
    expect(await rt.exec('c1', ['sleep', '0.9'])).toEqual({ stdout: 'done', stderr: '', exitCode: 0 });
  });
});

describe('exec over a hijacked connection', () => {
  it('demultiplexes frames that arrive late and split across chunks, writes stdin, reads the exit code', async () => {
    let received: Buffer | undefined;
    execRoutes(async (socket, stdin) => {
      received = await stdin; // the client half-closes after writing stdin
      const stream = Buffer.concat([frame(STDOUT, 'hello '), frame(STDERR, 'warning: x\n'), frame(STDOUT, 'world\n'), frame(STDERR, '')]);
      // Split inside the first header, inside a payload, and across the frame boundaries.
      await dribble(socket, cut(stream, [3, 9, 12, 14, 30, 31, 40]));
      socket.end();
    }, [null, null, 7]);
    const result = await runtime().exec('c1', ['ip', '-batch', '-'], { stdin: 'link add x type dummy\n' });
    expect(result).toEqual({ stdout: 'hello world\n', stderr: 'warning: x\n', exitCode: 7 });
    expect(received?.toString()).toBe('link add x type dummy\n');
    const create = JSON.parse(engine.requests.find((r) => r.url.pathname === '/containers/c1/exec')!.body.toString());
    expect(create).toMatchObject({ Cmd: ['ip', '-batch', '-'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
  });

  it('streams output while the process runs and reports the exit code at the end', async () => {
    let finish: () => void = () => undefined;
    execRoutes(async (socket) => {
      socket.write(frame(STDOUT, 'first'));
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      socket.write(frame(STDOUT, 'second'));
      socket.end();
    }, [0]);
    const proc = await runtime().execStream('c1', ['tcpdump']);
    const seen: string[] = [];
    proc.stdout.on('data', (c: Buffer) => seen.push(c.toString()));
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    expect(seen).toEqual(['first']);
    finish();
    expect(await proc.exited).toBe(0);
    expect(seen.join('')).toBe('firstsecond');
  });

  it('ends a stream that never finishes when aborted: the engine sees the connection closed', async () => {
    let streaming: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (streaming = resolve));
    let closed = false;
    execRoutes(async (socket) => {
      socket.on('close', () => (closed = true));
      socket.write(frame(STDOUT, 'partial'));
      streaming();
    }, [null]);
    const controller = new AbortController();
    const pending = runtime().exec('c1', ['sleep', 'infinity'], { signal: controller.signal });
    await started;
    expect(closed).toBe(false);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'interrupted' });
    await vi.waitFor(() => expect(closed).toBe(true));
  });

  it('ends an open exec stream when the command\'s signal fires (Ctrl-C reaches streams too)', async () => {
    execRoutes(async (socket) => {
      socket.write(frame(STDOUT, 'listening'));
    }, [null]);
    const controller = new AbortController();
    const proc = await runtime({ signal: controller.signal }).execStream('c1', ['tcpdump']);
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    controller.abort();
    expect(await proc.exited).toBe(130);
  });

  it('ends an exec whose engine stops answering while the command runs, with the engine\'s timeout instead of a wait forever', async () => {
    execRoutes(async (socket) => {
      socket.write(frame(STDOUT, 'started'));
      engine.hang = true; // the engine freezes (a SIGSTOPped dockerd): it accepts, nothing answers
    }, [null]);
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 200, slowMs: 2000, livenessMs: 100 } });
    const error = (await rt.exec('c1', ['sleep', 'infinity']).catch((e: unknown) => e)) as EngineError;
    expect(error).toBeInstanceOf(EngineError);
    expect(error.failure).toBe('timeout');
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).toBe(`the Docker engine at ${engine.socketPath} does not answer within 0.2 s (asked to run a command in container c1)`);
  });

  it('ends an exec stream whose engine stops answering with the same timeout as exec, not as an interrupt (130)', async () => {
    execRoutes(async (socket) => {
      socket.write(frame(STDOUT, 'listening'));
      engine.hang = true;
    }, [null]);
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 300, slowMs: 3000, livenessMs: 300 } });
    const proc = await rt.execStream('c1', ['tcpdump'], { holdStdin: true });
    const out: string[] = [];
    proc.stdout.on('data', (c: Buffer) => out.push(c.toString()));
    const error = (await proc.exited.catch((e: unknown) => e)) as EngineError;
    expect(error).toBeInstanceOf(EngineError);
    expect(error.failure).toBe('timeout');
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).toBe(`the Docker engine at ${engine.socketPath} does not answer within 0.3 s (asked to run a command in container c1)`);
    await finished(proc.stdout); // the output ends with it
    expect(out.join('')).toBe('listening');
  });

  it('starts a detached process and returns', async () => {
    engine.routes.set('POST /containers/c1/exec', (_req, res) => json(res, 201, { Id: 'd1' }));
    engine.routes.set('POST /exec/d1/start', (_req, res) => res.writeHead(200).end());
    await runtime().execDetached('c1', ['etcd']);
    expect(JSON.parse(engine.requests[0]!.body.toString())).toMatchObject({ AttachStdout: false, AttachStderr: false });
    expect(JSON.parse(engine.requests[1]!.body.toString())).toEqual({ Detach: true, Tty: false });
  });
});

describe('a hung engine', () => {
  it('gives a timeout error (exit 3) naming the socket and the deadline', async () => {
    engine.hang = true;
    const error = await runtime({ quickMs: 300 }).list({ 'overlab.lab': true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).failure).toBe('timeout');
    expect((error as Error).message).toBe(`the Docker engine at ${engine.socketPath} does not answer within 0.3 s (asked to list containers)`);
    expect(exitCodeFor(error)).toBe(3);
  });

  it('costs one deadline: once a question ran out of time, every later request fails at once with the same sentence', async () => {
    engine.hang = true;
    const rt = runtime({ quickMs: 300 });
    const started = Date.now();
    const first = await rt.info().catch((e: unknown) => e);
    const firstTook = Date.now() - started;
    expect((first as EngineError).failure).toBe('timeout');
    const before = engine.connections;
    const errors = await Promise.all([rt.list({ 'overlab.lab': true }), rt.listNetworks(), rt.inspectContainer('c1')].map((p) => p.catch((e: unknown) => e)));
    // One short ping, shared by the three, decided the engine is hung; none of them was sent.
    expect(engine.connections - before).toBe(1);
    expect(errors.map((e) => (e as EngineError).failure)).toEqual(['timeout', 'timeout', 'timeout']);
    expect((errors[1] as Error).message).toBe(`the Docker engine at ${engine.socketPath} does not answer within 0.3 s (asked to list networks)`);
    expect(firstTook).toBeGreaterThanOrEqual(300);
    // Nothing more was sent to the engine after it first failed to answer.
    const connections = engine.connections;
    await rt.list({ 'overlab.lab': true }).catch(() => undefined);
    expect(engine.connections).toBe(connections);
  });

  it('names the engine of a lab spread over several by its name in the lab, after its address', async () => {
    engine.hang = true;
    const rt = new DockerRuntime({ socketPath: engine.socketPath, name: 'e2', deadlines: { quickMs: 200, slowMs: 2000, livenessMs: 200 } });
    expect(((await rt.list({}).catch((e: unknown) => e)) as Error).message).toBe(`the Docker engine at ${engine.socketPath} (engine e2) does not answer within 0.2 s (asked to list containers)`);
    expect(rt.endpoint).toBe(engine.socketPath); // lock keys and ls keep the address alone
  });

  it('an engine that was only slow (it answers a ping) is asked again', async () => {
    let slow = true;
    engine.routes.set('GET /containers/json', (_req, res) => {
      if (slow) return; // this one never answers
      json(res, 200, []);
    });
    engine.routes.set('GET /_ping', (_req, res) => res.writeHead(200).end('OK'));
    const rt = runtime({ quickMs: 300 });
    expect(((await rt.list({}).catch((e: unknown) => e)) as EngineError).failure).toBe('timeout');
    slow = false;
    expect(await rt.list({})).toEqual([]);
  });

  it('a slow request (create, start) that runs out of its longer deadline does not condemn the engine', async () => {
    engine.routes.set('POST /containers/c1/pause', () => undefined); // never answers
    engine.routes.set('GET /containers/c1/json', (_req, res) => json(res, 200, { Id: 'c1', Name: '/c1', State: { Status: 'running', Running: true, Pid: 7 } }));
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 2000, slowMs: 200, livenessMs: 200 } });
    expect(((await rt.pause('c1').catch((e: unknown) => e)) as EngineError).failure).toBe('timeout');
    expect((await rt.inspectContainer('c1')).running).toBe(true);
  });

  it('a long request (create, pause) on an engine that stopped answering fails after a quick deadline and a ping, not its own long one', async () => {
    engine.hang = true;
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 200, slowMs: 20_000, livenessMs: 100 } });
    const error = (await rt.pause('c1').catch((e: unknown) => e)) as EngineError;
    expect(error.failure).toBe('timeout');
    // The quick deadline it missed (0.2 s), not the pause's own 20 s (the test would time out first).
    expect(error.message).toBe(`the Docker engine at ${engine.socketPath} does not answer within 0.2 s (asked to pause container c1)`);
  });

  it('a long request on a busy engine that answers the ping goes on to its own deadline', async () => {
    let answer: (() => void) | undefined;
    engine.routes.set('POST /containers/c1/pause', (_req, res) => (answer = () => res.writeHead(204).end()));
    engine.routes.set('GET /_ping', (_req, res) => res.writeHead(200).end('OK'));
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: { quickMs: 300, slowMs: 20_000, livenessMs: 300 } });
    const pausing = rt.pause('c1');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // several quick deadlines and pings
    answer!();
    await expect(pausing).resolves.toBeUndefined();
  });

  it('aborts every request in flight when the client\'s signal fires, and gives up clean-up at once', async () => {
    engine.hang = true;
    const controller = new AbortController();
    const rt = runtime({ signal: controller.signal, quickMs: 5000 });
    const inFlight = [rt.list({ 'overlab.lab': true }), rt.exec('c1', ['true']), rt.inspectContainer('c1')].map((p) => p.catch((e: unknown) => e));
    await vi.waitFor(() => expect(engine.connections).toBeGreaterThanOrEqual(1)); // asked, unanswered
    controller.abort();
    const errors = await Promise.all(inFlight);
    expect(errors.map((e) => (e as { kind?: string }).kind)).toEqual(['interrupted', 'interrupted', 'interrupted']);
    // A clean-up request after Ctrl-C: one short ping (its 0.2 s deadline) decides the engine is
    // gone, and the clean-up itself is never sent.
    const before = engine.connections;
    const cleanup = await rt.remove('c1').catch((e: unknown) => e);
    expect((cleanup as EngineError).failure).toBe('timeout');
    expect((cleanup as Error).message).toContain('within 0.2 s');
    expect(engine.connections - before).toBe(1);
  });

  it('still cleans up after Ctrl-C when the engine answers', async () => {
    const controller = new AbortController();
    engine.routes.set('GET /_ping', (_req, res) => res.writeHead(200).end('OK'));
    engine.routes.set('DELETE /containers/c1', (_req, res) => res.writeHead(204).end());
    const rt = runtime({ signal: controller.signal });
    controller.abort();
    await rt.remove('c1');
    expect(engine.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(['GET /_ping', 'DELETE /containers/c1']);
  });
});

describe('engine failures', () => {
  it.each([
    [404, 'not-found', 3, /^container c1 does not exist on the Docker engine/],
    [409, 'conflict', 3, /^the Docker engine refused to inspect container c1/],
    [400, 'bad-request', 2, /^the Docker engine rejected the request to inspect container c1 as invalid/],
    [500, 'server', 3, /^the Docker engine failed to inspect container c1 \(HTTP 500\)/],
  ])('HTTP %i becomes %s (exit %i) with our sentence first', async (status, failure, exit, message) => {
    engine.routes.set('GET /containers/c1/json', (_req, res) => json(res, status, { message: 'raw \u001b[31mengine\u001b[0m text' }));
    const error = (await runtime().inspectContainer('c1').catch((e: unknown) => e)) as EngineError;
    expect(error.failure).toBe(failure);
    expect(exitCodeFor(error)).toBe(exit);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\u001b');
    expect(error.hint).toBeTruthy();
  });

  it('says no engine answers when the socket is missing', async () => {
    const rt = new DockerRuntime({ socketPath: `${engine.socketPath}.missing` });
    const error = (await rt.info().catch((e: unknown) => e)) as EngineError;
    expect(error.failure).toBe('unreachable');
    expect(error.message).toContain('no Docker engine answers at');
    expect(exitCodeFor(error)).toBe(3);
  });

  it('refuses DOCKER_HOST values that name no way overlab can reach an engine', async () => {
    const rt = new DockerRuntime({ env: { DOCKER_HOST: 'npipe:////./pipe/docker_engine' } });
    const error = (await rt.info().catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('DOCKER_HOST=npipe:////./pipe/docker_engine is not an engine address overlab can reach');
    expect(exitCodeFor(error)).toBe(3);
    expect(new DockerRuntime({ env: { DOCKER_HOST: 'unix:///run/x.sock' } }).endpoint).toBe('/run/x.sock');
    expect(new DockerRuntime({ env: {} }).endpoint).toBe('/var/run/docker.sock');
  });
});
