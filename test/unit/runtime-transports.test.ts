// The engine client over each way to an engine, against the fake engine (real sockets, real HTTP):
// the API version asked once and named in every path, mutual TLS with certificates openssl made
// for this test, and ssh as the docker CLI does it (a stand-in `ssh` first on PATH relays to the
// fake engine as `docker system dial-stdio` would, so the plumbing and the argv are what is tested).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { frame, STDOUT } from '../../src/runtime/stream-demux.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { json, startFakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { controlPath } from '../../src/runtime/ssh-dial.js';
import { makeTlsMaterial, type TlsMaterial } from '../support/tls-material.js';

const quick = { quickMs: 3000, slowMs: 3000, livenessMs: 200 };
let engine: FakeEngine | undefined;

afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

function containerRoutes(e: FakeEngine) {
  e.routes.set('GET /containers/json', (_req, res) => json(res, 200, [{ Id: 'c1', Names: ['/overlab-a-host1'], State: 'running', Labels: { 'overlab.lab': 'a' } }]));
  e.routes.set('GET /info', (_req, res) => json(res, 200, { ServerVersion: '20.10.24', KernelVersion: '6.1', OperatingSystem: 'Debian' }));
}

describe('API version negotiation', () => {
  it('asks /version once and puts the version in every later path; _ping stays unversioned', async () => {
    engine = await startFakeEngine();
    containerRoutes(engine);
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: quick });
    await Promise.all([rt.list({ 'overlab.lab': true }), rt.list({ 'overlab.lab': 'a' }), rt.list({ 'overlab.lab': 'b' })]);
    expect(engine.versionAsked).toBe(1);
    expect(engine.prefixes).toEqual(['/v1.41', '/v1.41', '/v1.41']);
  });

  it('refuses an engine too old for overlab before asking it anything else (exit 3, named)', async () => {
    engine = await startFakeEngine();
    containerRoutes(engine);
    engine.routes.set('GET /version', (_req, res) => json(res, 200, { Version: '18.09.1', ApiVersion: '1.39', MinAPIVersion: '1.12', Components: [{ Name: 'Engine', Version: '18.09.1' }] }));
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: quick });
    const error = (await rt.list({ 'overlab.lab': true }).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(`the engine at ${engine.socketPath} (Docker 18.09.1) speaks Engine API 1.39; overlab needs 1.40 or newer`);
    expect(exitCodeFor(error)).toBe(3);
    expect(engine.requests.map((r) => r.url.pathname)).toEqual(['/version']);
  });

  it('a failed /version is not remembered: the next call asks again', async () => {
    engine = await startFakeEngine();
    containerRoutes(engine);
    let calls = 0;
    engine.routes.set('GET /version', (_req, res) => (calls++ === 0 ? json(res, 500, { message: 'starting up' }) : json(res, 200, { ApiVersion: '1.43', MinAPIVersion: '1.24' })));
    const rt = new DockerRuntime({ socketPath: engine.socketPath, deadlines: quick });
    const first = (await rt.list({ 'overlab.lab': true }).catch((e: unknown) => e)) as Error;
    expect(first.message).toBe(`the Docker engine failed to list containers (HTTP 500) (engine: starting up)`);
    await rt.list({ 'overlab.lab': true });
    expect(engine.prefixes).toEqual(['/v1.43']);
  });
});

describe('tcp:// with mutual TLS', () => {
  let tls: TlsMaterial;
  let other: TlsMaterial;
  beforeAll(() => {
    tls = makeTlsMaterial(['IP:127.0.0.1']);
    other = makeTlsMaterial(['IP:127.0.0.1'], 'another-ca');
  });
  afterAll(() => {
    rmSync(tls.dir, { recursive: true, force: true });
    rmSync(other.dir, { recursive: true, force: true });
  });

  const tlsEngine = () =>
    startFakeEngine({
      tls: {
        key: readFileSync(join(tls.serverDir, 'key.pem')),
        cert: readFileSync(join(tls.serverDir, 'cert.pem')),
        ca: readFileSync(join(tls.serverDir, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
    });

  it('talks to the engine with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, exec hijack and stdin half-close included', async () => {
    engine = await tlsEngine();
    containerRoutes(engine);
    engine.routes.set('POST /containers/c1/exec', (_req, res) => json(res, 201, { Id: 'e1' }));
    engine.upgrades.set('POST /exec/e1/start', async (_req, socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => socket.end(frame(STDOUT, Buffer.concat(chunks))));
    });
    engine.routes.set('GET /exec/e1/json', (_req, res) => json(res, 200, { Running: false, ExitCode: 0 }));
    const rt = new DockerRuntime({ env: { DOCKER_HOST: `tcp://127.0.0.1:${engine.port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tls.clientDir }, deadlines: quick });
    expect(rt.endpoint).toBe(`tcp://127.0.0.1:${engine.port}`);
    expect((await rt.list({ 'overlab.lab': true })).map((c) => c.name)).toEqual(['overlab-a-host1']);
    expect(await rt.exec('c1', ['cat'], { stdin: 'through TLS\n' })).toEqual({ stdout: 'through TLS\n', stderr: '', exitCode: 0 });
  });

  it('an engine whose certificate another CA signed: the TLS sentence, exit 3', async () => {
    engine = await tlsEngine();
    containerRoutes(engine);
    const rt = new DockerRuntime({ env: { DOCKER_HOST: `tcp://127.0.0.1:${engine.port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: other.clientDir }, deadlines: quick });
    const error = (await rt.list({ 'overlab.lab': true }).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error.message).toMatch(new RegExp(`^the TLS handshake with the Docker engine at tcp://127\\.0\\.0\\.1:${engine.port} failed`));
    expect(error.hint).toContain('ca.pem');
    expect(exitCodeFor(error)).toBe(3);
  });

  it('missing certificate files are named before anything is sent', async () => {
    const rt = new DockerRuntime({ env: { DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent-certs' }, deadlines: quick });
    const error = (await rt.info().catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('cannot read /nonexistent-certs/ca.pem for the TLS connection to tcp://127.0.0.1:1: ENOENT');
    expect(exitCodeFor(error)).toBe(3);
  });

  it('nothing listening on a tcp:// address says so, with advice for a remote engine', async () => {
    const rt = new DockerRuntime({ env: { DOCKER_HOST: 'tcp://127.0.0.1:1' }, deadlines: quick });
    const error = (await rt.info().catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error.message).toBe('no Docker engine answers at tcp://127.0.0.1:1 (nothing listens on it)');
    expect(error.hint).toContain('firewall');
    expect(exitCodeFor(error)).toBe(3);
  });
});

describe('ssh:// as the docker CLI does it', () => {
  let bin: string;
  let log: string;
  const PATH = process.env.PATH ?? '';
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'overlab-fake-ssh-'));
    symlinkSync(fileURLToPath(new URL('../support/fake-ssh.mjs', import.meta.url)), join(bin, 'ssh'));
    log = join(bin, 'argv.log');
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const sshEnv = (extra: Record<string, string> = {}) => ({ PATH: `${bin}:${PATH}`, FAKE_SSH_SOCKET: engine!.socketPath, FAKE_SSH_LOG: log, DOCKER_HOST: 'ssh://alice@build-box:2222', ...extra });

  it('every connection is `ssh -o BatchMode=yes … -p 2222 -l alice -- build-box docker system dial-stdio`; exec stdin is half-closed through it', async () => {
    engine = await startFakeEngine();
    containerRoutes(engine);
    engine.routes.set('POST /containers/c1/exec', (_req, res) => json(res, 201, { Id: 'e1' }));
    engine.upgrades.set('POST /exec/e1/start', async (_req, socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => socket.end(frame(STDOUT, Buffer.from(Buffer.concat(chunks).toString().toUpperCase()))));
    });
    engine.routes.set('GET /exec/e1/json', (_req, res) => json(res, 200, { Running: false, ExitCode: 0 }));
    const rt = new DockerRuntime({ env: sshEnv({ OVERLAB_SSH_MULTIPLEX: '0' }), deadlines: quick });
    expect(rt.endpoint).toBe('ssh://alice@build-box:2222');
    expect((await rt.list({ 'overlab.lab': true })).map((c) => c.name)).toEqual(['overlab-a-host1']);
    expect(await rt.exec('c1', ['cat'], { stdin: 'over ssh\n' })).toEqual({ stdout: 'OVER SSH\n', stderr: '', exitCode: 0 });
    // Without stdin the engine ends the stream; the connection must close with it.
    engine.upgrades.set('POST /exec/e1/start', async (_req, socket) => {
      socket.end(frame(STDOUT, Buffer.from('no input\n')));
    });
    expect(await rt.exec('c1', ['echo'])).toEqual({ stdout: 'no input\n', stderr: '', exitCode: 0 });
    const argvs = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    expect(argvs.length).toBeGreaterThanOrEqual(3); // /version, list, exec create, exec start, exec state
    expect(argvs[0]).toEqual(['-o', 'BatchMode=yes', '-T', '-p', '2222', '-l', 'alice', '--', 'build-box', 'docker', 'system', 'dial-stdio']);
  }, 10_000); // a connection that never closes would hang the exec: fail fast instead

  it('shares one ssh session per host (ControlMaster in a private directory) unless told not to', async () => {
    engine = await startFakeEngine();
    containerRoutes(engine);
    rmSync(log, { force: true });
    const rt = new DockerRuntime({ env: sshEnv(), deadlines: quick });
    await rt.list({ 'overlab.lab': true });
    const argv = JSON.parse(readFileSync(log, 'utf8').split('\n')[0]!) as string[];
    expect(argv).toContain('ControlMaster=auto');
    expect(argv.find((a) => a.startsWith('ControlPath='))).toMatch(/overlab-ssh-\d+\/[0-9a-f]{12}-%C$/);
    expect(argv).toContain('ControlPersist=10s');
  });

  it('never shares a session between two ssh configs (or network namespaces) that name the same user@host', () => {
    // Two test rigs on one machine both have root@10.99.0.12, each in its own namespace with its
    // own config: ssh's %C alone is the same for both, so one rig's commands reached the other's engine.
    const a = controlPath('/tmp/x', { OVERLAB_SSH_CONFIG: '/run/rig1/ssh/config' });
    const b = controlPath('/tmp/x', { OVERLAB_SSH_CONFIG: '/run/rig2/ssh/config' });
    expect(a).not.toBe(b);
    expect(controlPath('/tmp/x', { OVERLAB_SSH_CONFIG: '/run/rig1/ssh/config' })).toBe(a);
    expect(a).toMatch(/^\/tmp\/x\/[0-9a-f]{12}-%C$/);
  });

  it('ssh refusing the key: ssh\'s words, then what to do (no password prompt ever), exit 3', async () => {
    engine = await startFakeEngine();
    const rt = new DockerRuntime({ env: sshEnv({ FAKE_SSH_FAIL: '255:alice@build-box: Permission denied (publickey).' }), deadlines: quick });
    const error = (await rt.info().catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error.message).toBe('overlab could not reach the Docker engine at ssh://alice@build-box:2222 over ssh: alice@build-box: Permission denied (publickey).');
    expect(error.hint).toContain('BatchMode=yes');
    expect(error.hint).toContain('ssh-add');
    expect(exitCodeFor(error)).toBe(3);
  });

  it('no docker CLI on the far side: says dial-stdio does not work there', async () => {
    engine = await startFakeEngine();
    const rt = new DockerRuntime({ env: sshEnv({ FAKE_SSH_FAIL: '127:bash: line 1: docker: command not found' }), deadlines: quick });
    const error = (await rt.info().catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error.message).toBe('ssh reached ssh://alice@build-box:2222, but `docker system dial-stdio` does not work there: bash: line 1: docker: command not found');
    expect(error.hint).toContain('docker CLI must be installed');
  });
});
