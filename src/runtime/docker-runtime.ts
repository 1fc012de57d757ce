// ContainerRuntime on a Docker engine, or Podman's Docker-compatible service: the Engine API over
// whichever transport reaches it (engine-client.ts). Where Podman's answers differ from Docker's,
// the difference is handled here and says so.
import { PassThrough, type Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { interruptedError } from '../base/errors.js';
import { EngineClient, type EngineClientOptions, type EngineConnection, type EngineRequest, type EngineStream } from './engine-client.js';
import { engineError, isEngineFailure, type EngineError } from './engine-errors.js';
import { FrameDemuxer, STDERR, STDOUT } from './stream-demux.js';
import { engineKind, type VersionAnswer } from './api-version.js';
import { firstRegularFile } from './tar.js';
import { execAttached, execExitCode } from './attached-exec.js';
import type {
  AttachedExec,
  AttachOptions,
  CallOptions,
  ContainerDetails,
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  ExecOptions,
  ExecResult,
  FollowOptions,
  ImageOptions,
  NetworkSummary,
  StreamingExec,
  StreamOptions,
} from './runtime.js';
import { tolerated } from '../base/debug-log.js';

const enc = encodeURIComponent;
const containerSubject = (container: string) => `container ${container}`;

interface RawContainer {
  Id: string;
  Names?: string[];
  State: string;
  Labels?: Record<string, string> | null;
}

interface RawInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Pid?: number; StartedAt?: string };
  Config?: { Labels?: Record<string, string> | null };
  NetworkSettings?: { SandboxKey?: string };
  Mounts?: { Source?: string; Destination?: string }[] | null;
}

function summary(c: RawContainer): ContainerSummary {
  return { id: c.Id, name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''), state: c.State, labels: c.Labels ?? {} };
}

function splitRef(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, 'latest'];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The engine's JSON-lines progress (import, build): each line to onLog, the first error thrown. */
async function followProgress(stream: Readable, onLine: (message: { stream?: string; status?: string; error?: string }) => void): Promise<void> {
  let rest = '';
  const handle = (line: string) => {
    if (!line.trim()) return;
    try {
      onLine(JSON.parse(line) as { stream?: string; status?: string; error?: string });
    } catch {
      onLine({ stream: line });
    }
  };
  for await (const chunk of stream) {
    rest += (chunk as Buffer).toString('utf8');
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(handle);
  }
  handle(rest);
}

/** Bytes from a hijacked exec connection (or a plain answer stream), demultiplexed. Resolves when
 * the engine closes it; `cut` when it ended by an abort or a socket error rather than the end. */
function readFrames(connection: EngineConnection | EngineStream, onFrame: (stream: number, payload: Buffer) => void): Promise<{ cut: boolean }> {
  const demux = new FrameDemuxer(onFrame);
  const source: Readable | Socket = 'socket' in connection ? connection.socket : connection.stream;
  if ('head' in connection && connection.head.length) demux.push(connection.head);
  return new Promise((resolve) => {
    let ended = false;
    source.on('data', (chunk: Buffer) => demux.push(chunk));
    source.on('end', () => {
      ended = true;
    });
    source.on('error', () => undefined);
    source.on('close', () => resolve({ cut: !ended }));
  });
}

/** Constant text, no values: bind /proc/sys/net onto itself, then make that mount writable. */
const WRITABLE_NET_SYSCTLS = 'mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net';

export class DockerRuntime implements ContainerRuntime {
  private readonly client: EngineClient;
  private engineKind?: Promise<'docker' | 'podman'> | undefined;
  /** Containers this runtime created with read-only /proc paths (Podman needs them fixed at start). */
  private readonly readonlyPathsOf = new Map<string, boolean>();

  constructor(options: EngineClientOptions = {}) {
    this.client = new EngineClient(options);
  }

  get endpoint(): string {
    return this.client.endpoint;
  }

  private json<T>(request: EngineRequest): Promise<T> {
    return this.client.json<T>(request);
  }

  async info(options: CallOptions = {}): Promise<EngineInfo> {
    const base = { method: 'GET' as const, operation: 'describe itself', signal: options.signal };
    const [info, version, negotiated] = await Promise.all([
      this.json<{ ID?: string; ServerVersion?: string; KernelVersion?: string; OperatingSystem?: string }>({ ...base, path: '/info' }),
      this.json<VersionAnswer>({ ...base, path: '/version' }),
      this.client.negotiatedApiVersion(options.signal ? { signal: options.signal } : {}),
    ]);
    const { kind, version: kindVersion } = engineKind(version);
    return {
      ...(typeof info.ID === 'string' && info.ID ? { id: info.ID } : {}),
      kind,
      serverVersion: kind === 'podman' ? kindVersion : (info.ServerVersion ?? kindVersion),
      apiVersion: negotiated,
      kernelVersion: String(info.KernelVersion ?? ''),
      operatingSystem: String(info.OperatingSystem ?? ''),
    };
  }

  async imageLabels(ref: string, options: CallOptions = {}): Promise<Record<string, string> | undefined> {
    try {
      const image = await this.client.json<{ Config?: { Labels?: Record<string, string> | null } }>({ method: 'GET', path: `/images/${enc(ref)}/json`, operation: 'look up', subject: `image ${ref}`, signal: options.signal });
      return image?.Config?.Labels ?? {};
    } catch (error) {
      if (isEngineFailure(error, 'not-found')) return undefined;
      throw error;
    }
  }

  async imageExists(ref: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.imageLabels(ref, options)) !== undefined;
  }

  async importImage(tar: Readable, ref: string, changes: string[], options: ImageOptions = {}): Promise<void> {
    const [repo, tag] = splitRef(ref);
    const { stream } = await this.client.stream({
      method: 'POST',
      path: '/images/create',
      query: { fromSrc: '-', repo, tag, changes },
      body: tar,
      contentType: 'application/x-tar',
      operation: 'import',
      subject: `image ${ref}`,
      deadline: 'image',
      signal: options.signal,
    });
    let failure: string | undefined;
    let imported: string | undefined;
    await followProgress(stream, (m) => {
      if (m.error) failure ??= m.error;
      else if (m.status) {
        if (/^sha256:[0-9a-f]{64}$/.test(m.status.trim())) imported = m.status.trim();
        options.onLog?.(m.status);
      }
    });
    if (failure) throw engineError('server', { engine: this.client.said, operation: 'import', subject: `image ${ref}`, detail: failure });
    // Podman's import ignores `tag` (it names the image <repo>:latest): tag what it made.
    if (imported && !(await this.imageExists(ref, options))) await this.tagImage(imported, ref, options);
  }

  async buildImage(context: Buffer | Readable, tags: string[], options: ImageOptions = {}): Promise<void> {
    const subject = `image ${tags[0] ?? ''}`;
    const { stream } = await this.client.stream({
      method: 'POST',
      path: '/build',
      query: { t: tags, rm: true, forcerm: true },
      body: context,
      contentType: 'application/x-tar',
      operation: 'build',
      subject,
      deadline: 'image',
      signal: options.signal,
    });
    let failure: string | undefined;
    await followProgress(stream, (m) => {
      if (m.error) failure ??= m.error;
      else if (m.stream) for (const line of m.stream.split('\n')) if (line.trim()) options.onLog?.(line.trimEnd());
    });
    if (failure) throw engineError('server', { engine: this.client.said, operation: 'build', subject, detail: failure });
  }

  async tagImage(source: string, target: string, options: CallOptions = {}): Promise<void> {
    const [repo, tag] = splitRef(target);
    await this.client.buffered({ method: 'POST', path: `/images/${enc(source)}/tag`, query: { repo, tag }, operation: `tag as ${target}`, subject: `image ${source}`, signal: options.signal });
  }

  async saveImages(refs: string[], options: CallOptions = {}): Promise<Readable> {
    const { stream } = await this.client.stream({ method: 'GET', path: '/images/get', query: { names: refs }, operation: 'export', subject: `image ${refs.join(', ')}`, deadline: 'image', signal: options.signal });
    return stream;
  }

  async loadImages(tar: Readable, options: ImageOptions = {}): Promise<void> {
    const { stream } = await this.client.stream({ method: 'POST', path: '/images/load', query: { quiet: true }, body: tar, contentType: 'application/x-tar', operation: 'load', subject: 'images', deadline: 'image', signal: options.signal });
    let failure: string | undefined;
    await followProgress(stream, (m) => {
      if (m.error) failure ??= m.error;
      else if (m.stream) options.onLog?.(m.stream.trim());
    });
    if (failure) throw engineError('server', { engine: this.client.said, operation: 'load', subject: 'images', detail: failure });
  }

  async createAndStart(spec: ContainerSpec, options: CallOptions = {}): Promise<string> {
    const id = await this.create(spec, options);
    await this.startAs(id, spec.name, Boolean(spec.readonlyPaths), options);
    return id;
  }

  async create(spec: ContainerSpec, options: CallOptions = {}): Promise<string> {
    const subject = containerSubject(spec.name);
    const created = await this.json<{ Id: string }>({
      method: 'POST',
      path: '/containers/create',
      query: { name: spec.name },
      json: {
        Hostname: spec.hostname,
        Image: spec.image,
        Cmd: spec.command,
        Labels: spec.labels,
        HostConfig: {
          NetworkMode: spec.networkMode ?? 'none',
          CapAdd: spec.capAdd,
          Devices: spec.devices.map((path) => ({ PathOnHost: path, PathInContainer: path, CgroupPermissions: 'rwm' })),
          Sysctls: spec.sysctls,
          Init: true,
          ...(spec.readonlyPaths ? { ReadonlyPaths: spec.readonlyPaths } : {}),
          ...(spec.mounts?.length
            ? { Mounts: spec.mounts.map((m) => ('volume' in m ? { Type: 'volume', Source: m.volume, Target: m.target, ReadOnly: m.readonly } : { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readonly })) }
            : {}),
          ...(spec.tmpfs?.length ? { Tmpfs: Object.fromEntries(spec.tmpfs.map((t) => [t.target, t.options ?? ''])) } : {}),
          ...(spec.cpuShares ? { CpuShares: spec.cpuShares } : {}),
          ...(spec.restartPolicy ? { RestartPolicy: { Name: spec.restartPolicy } } : {}),
        },
      },
      operation: 'create',
      subject,
      deadline: 'slow',
      signal: options.signal,
    });
    if (spec.readonlyPaths) this.readonlyPathsOf.set(spec.name, true);
    this.readonlyPathsOf.set(created.Id, Boolean(spec.readonlyPaths));
    return created.Id;
  }

  async start(container: string, options: CallOptions = {}): Promise<void> {
    await this.startAs(container, container, this.readonlyPathsOf.get(container) ?? false, options);
  }

  private async startAs(ref: string, name: string, readonlyPaths: boolean, options: CallOptions): Promise<void> {
    await this.client.buffered({ method: 'POST', path: `/containers/${enc(ref)}/start`, operation: 'start', subject: containerSubject(name), deadline: 'slow', accept: [204, 304], signal: options.signal });
    if (readonlyPaths && (await this.kind(options)) === 'podman') await this.writableNetSysctls(name, options);
  }

  async createVolume(name: string, labels: Record<string, string>, options: CallOptions = {}): Promise<void> {
    await this.client.buffered({ method: 'POST', path: '/volumes/create', json: { Name: name, Labels: labels }, operation: 'create', subject: `volume ${name}`, signal: options.signal });
  }

  async removeVolumes(labelFilter: Record<string, string>, options: CallOptions = {}): Promise<string[]> {
    const filters = JSON.stringify({ label: Object.entries(labelFilter).map(([k, v]) => `${k}=${v}`) });
    const answer = await this.json<{ Volumes?: { Name: string }[] | null }>({ method: 'GET', path: '/volumes', query: { filters }, operation: 'list volumes', signal: options.signal });
    const names = (answer.Volumes ?? []).map((v) => v.Name).sort();
    await Promise.all(
      names.map(async (name) => {
        try {
          await this.client.buffered({ method: 'DELETE', path: `/volumes/${enc(name)}`, query: { force: true }, operation: 'remove', subject: `volume ${name}`, signal: options.signal });
        } catch (error) {
          if (!isEngineFailure(error, 'not-found')) throw error;
        }
      }),
    );
    return names;
  }

  async kill(container: string, signal: 'SIGHUP' | 'SIGTERM' | 'SIGKILL', options: CallOptions = {}): Promise<void> {
    await this.client.buffered({ method: 'POST', path: `/containers/${enc(container)}/kill`, query: { signal }, operation: `send ${signal} to`, subject: containerSubject(container), accept: [204], signal: options.signal });
  }

  /** Docker or Podman, asked once per runtime. */
  private kind(options: CallOptions): Promise<'docker' | 'podman'> {
    this.engineKind ??= this.json<VersionAnswer>({ method: 'GET', path: '/version', operation: 'describe itself', signal: options.signal }).then((v) => engineKind(v).kind);
    this.engineKind.catch(() => {
      this.engineKind = undefined;
    });
    return this.engineKind;
  }

  /** Podman's compatible API ignores HostConfig.ReadonlyPaths and mounts all of /proc/sys
   * read-only: bind /proc/sys/net onto itself writable (the container has SYS_ADMIN), which is
   * what the read-only list asked for — net.* of the node's own namespace writable, the rest not. */
  private async writableNetSysctls(container: string, options: CallOptions): Promise<void> {
    const r = await this.exec(container, ['sh', '-c', WRITABLE_NET_SYSCTLS], options);
    if (r.exitCode !== 0) {
      throw engineError('server', { engine: this.client.said, operation: 'make /proc/sys/net writable in', subject: containerSubject(container), detail: r.stderr.trim() || `exit ${r.exitCode}` });
    }
  }

  async inspectContainer(container: string, options: CallOptions = {}): Promise<ContainerDetails> {
    const c = await this.json<RawInspect>({ method: 'GET', path: `/containers/${enc(container)}/json`, operation: 'inspect', subject: containerSubject(container), signal: options.signal });
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      state: c.State.Status,
      running: Boolean(c.State.Running),
      pid: c.State.Pid ?? 0,
      // Podman names no sandbox for a container without a network; its process's namespace
      // file is the same namespace, on the engine's machine as a sandbox key would be.
      sandboxKey: c.NetworkSettings?.SandboxKey || (c.State.Running && c.State.Pid ? `/proc/${c.State.Pid}/ns/net` : ''),
      labels: c.Config?.Labels ?? {},
      startedAt: c.State.StartedAt ?? '',
      mounts: (c.Mounts ?? []).map((m) => ({ source: m.Source ?? '', target: m.Destination ?? '' })),
    };
  }

  async list(labelFilter: Record<string, string | true>, options: CallOptions = {}): Promise<ContainerSummary[]> {
    const label = Object.entries(labelFilter).map(([key, value]) => (value === true ? key : `${key}=${value}`));
    const raw = await this.json<RawContainer[]>({
      method: 'GET',
      path: '/containers/json',
      query: { all: true, filters: JSON.stringify({ label }) },
      operation: 'list containers',
      signal: options.signal,
    });
    return raw.map(summary);
  }

  async listByName(names: string[], options: CallOptions = {}): Promise<ContainerSummary[]> {
    if (names.length === 0) return [];
    const raw = await this.json<RawContainer[]>({
      method: 'GET',
      path: '/containers/json',
      // `/?`: Docker matches the name with its leading slash, Podman without.
      query: { all: true, filters: JSON.stringify({ name: names.map((n) => `^/?${escapeRegExp(n)}$`) }) },
      operation: 'list containers by name',
      signal: options.signal,
    });
    const wanted = new Set(names);
    return raw.map(summary).filter((c) => wanted.has(c.name));
  }

  async remove(container: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.client.buffered({
        method: 'DELETE',
        path: `/containers/${enc(container)}`,
        query: { force: true, v: true },
        operation: 'remove',
        subject: containerSubject(container),
        deadline: 'slow',
        signal: options.signal,
      });
    } catch (error) {
      // Already gone, or already being removed by a concurrent call: both mean "done".
      if (isEngineFailure(error, 'not-found') || isEngineFailure(error, 'conflict')) return;
      throw error;
    }
  }

  private async createExec(container: string, command: string[], attach: { stdin: boolean; output: boolean }, signal: AbortSignal | undefined): Promise<string> {
    const created = await this.json<{ Id: string }>({
      method: 'POST',
      path: `/containers/${enc(container)}/exec`,
      json: { Cmd: command, AttachStdin: attach.stdin, AttachStdout: attach.output, AttachStderr: attach.output, Tty: false },
      operation: 'run a command in',
      subject: containerSubject(container),
      signal,
    });
    return created.Id;
  }

  private startAttached(id: string, container: string, signal: AbortSignal | undefined): Promise<EngineConnection | EngineStream> {
    return this.client.upgrade({
      method: 'POST',
      path: `/exec/${enc(id)}/start`,
      json: { Detach: false, Tty: false },
      operation: 'run a command in',
      subject: containerSubject(container),
      accept: [200, 101],
      signal,
    });
  }

  private exitCode(id: string, container: string, signal: AbortSignal | undefined): Promise<number> {
    return execExitCode(this.client, id, container, signal);
  }

  async exec(container: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const signal = this.client.signalFor(options.signal);
    const withStdin = options.stdin !== undefined;
    const id = await this.createExec(container, command, { stdin: withStdin, output: true }, signal);
    const connection = await this.startAttached(id, container, signal);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const done = readFrames(connection, (stream, payload) => (stream === STDERR ? err : out).push(payload));
    if (withStdin) {
      if (!('socket' in connection)) {
        connection.stream.destroy();
        throw engineError('server', { engine: this.client.said, operation: 'pass input to a command in', subject: containerSubject(container), detail: 'the engine did not hand over the connection' });
      }
      // Written, then half-closed: the engine closes the process's stdin at our end of stream.
      connection.socket.end(options.stdin ?? '');
    }
    const { cut } = await done;
    if (signal?.aborted) throw interruptedError();
    if (cut) throw this.silentEngine(container) ?? engineError('unreachable', { engine: this.client.said, operation: 'run a command in', subject: containerSubject(container), code: 'ECONNRESET' });
    const exitCode = await this.exitCode(id, container, signal);
    return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode };
  }

  /** An exec's connection the client cut because the engine stopped answering while the command
   * ran: the engine's timeout, as every request waiting on it gets (undefined when it answers). */
  private silentEngine(container: string): EngineError | undefined {
    const silentMs = this.client.silentForMs;
    return silentMs === undefined ? undefined : engineError('timeout', { engine: this.client.said, operation: 'run a command in', subject: containerSubject(container), timeoutMs: silentMs });
  }

  async execStream(container: string, command: string[], options: StreamOptions = {}): Promise<StreamingExec> {
    const signal = this.client.signalFor(options.signal);
    const holdStdin = options.holdStdin === true;
    const id = await this.createExec(container, command, { stdin: holdStdin, output: true }, signal);
    const connection = await this.startAttached(id, container, signal);
    // Nothing is written: the engine closes the process's stdin when this connection closes, and
    // the connection closes with this process, however it ends.
    if (holdStdin && !('socket' in connection)) {
      connection.stream.destroy();
      throw engineError('server', { engine: this.endpoint, operation: 'hold the input of a command in', subject: containerSubject(container), detail: 'the engine did not hand over the connection' });
    }
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const done = readFrames(connection, (stream, payload) => {
      if (stream === STDOUT) stdout.write(payload);
      else if (stream === STDERR) stderr.write(payload);
    });
    const exited = done.then(async ({ cut }) => {
      stdout.end();
      stderr.end();
      if (signal?.aborted) return 130;
      if (cut) {
        const silent = this.silentEngine(container);
        if (silent) throw silent;
        return 130;
      }
      return this.exitCode(id, container, signal).catch(tolerated('runtime', `read the exit code of an exec in ${container} (taken as 1)`, 1));
    });
    return { stdout, stderr, exited };
  }

  execAttached(container: string, command: string[], options: AttachOptions = {}): Promise<AttachedExec> {
    return execAttached(this.client, container, command, options);
  }

  async followOutput(container: string, take: (stream: 'stdout' | 'stderr', text: string) => boolean, options: FollowOptions = {}): Promise<boolean> {
    const signal = this.client.signalFor(options.signal);
    const answer = await this.client.stream({
      method: 'GET',
      path: `/containers/${enc(container)}/logs`,
      query: { follow: true, stdout: true, stderr: true },
      operation: 'read the output of',
      subject: containerSubject(container),
      ...(options.idleMs !== undefined ? { deadline: options.idleMs } : {}),
      signal,
    });
    let taken = false;
    let failure: Error | undefined;
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    answer.stream.on('error', (error: Error) => (failure ??= error));
    await readFrames(answer, (stream, payload) => {
      if (taken || (stream !== STDOUT && stream !== STDERR)) return;
      const name = stream === STDOUT ? 'stdout' : 'stderr';
      if (take(name, decoders[name].write(payload))) {
        taken = true;
        answer.stream.destroy();
      }
    });
    if (taken) return true;
    if (signal?.aborted) throw interruptedError();
    if (failure) throw failure;
    return false;
  }

  async execDetached(container: string, command: string[], options: CallOptions = {}): Promise<void> {
    const id = await this.createExec(container, command, { stdin: false, output: false }, options.signal);
    await this.client.buffered({
      method: 'POST',
      path: `/exec/${enc(id)}/start`,
      json: { Detach: true, Tty: false },
      operation: 'start a daemon in',
      subject: containerSubject(container),
      signal: options.signal,
    });
  }

  async readFile(container: string, path: string, options: CallOptions = {}): Promise<Buffer> {
    const r = await this.client.buffered({
      method: 'GET',
      path: `/containers/${enc(container)}/archive`,
      query: { path },
      operation: 'read',
      subject: `file ${path} in ${containerSubject(container)}`,
      signal: options.signal,
    });
    return firstRegularFile(r.body);
  }

  async pause(container: string, options: CallOptions = {}): Promise<void> {
    await this.client.buffered({ method: 'POST', path: `/containers/${enc(container)}/pause`, operation: 'pause', subject: containerSubject(container), deadline: 'slow', signal: options.signal });
  }

  async unpause(container: string, options: CallOptions = {}): Promise<void> {
    await this.client.buffered({ method: 'POST', path: `/containers/${enc(container)}/unpause`, operation: 'unpause', subject: containerSubject(container), deadline: 'slow', signal: options.signal });
  }

  async putTar(container: string, directory: string, tar: Readable | Buffer, options: CallOptions = {}): Promise<void> {
    try {
      await this.putTarOnce(container, directory, tar, options);
    } catch (error) {
      // A node's own boot makes its directories (mkdir -p /opt/overlab, /etc/overlab) while the
      // engine unpacks an archive's entry for one of them: the engine looks, finds nothing, and
      // its mkdir then fails with "file exists" (a 64-host up lost that race). The same archive
      // a second time finds the directory made; a stream cannot be sent twice.
      if (!Buffer.isBuffer(tar) || !isEngineFailure(error, 'server') || !/file exists/i.test(error instanceof Error ? error.message : '')) throw error;
      await this.putTarOnce(container, directory, tar, options);
    }
  }

  private async putTarOnce(container: string, directory: string, tar: Readable | Buffer, options: CallOptions): Promise<void> {
    await this.client.buffered({
      method: 'PUT',
      path: `/containers/${enc(container)}/archive`,
      query: { path: directory },
      body: tar,
      contentType: 'application/x-tar',
      operation: `copy files to ${directory} in`,
      subject: containerSubject(container),
      deadline: 'slow',
      signal: options.signal,
    });
  }

  async listNetworks(options: CallOptions = {}): Promise<NetworkSummary[]> {
    const networks = await this.json<{ Id: string; Name: string; IPAM?: { Config?: { Subnet?: string }[] | null }; Labels?: Record<string, string> | null }[]>({
      method: 'GET',
      path: '/networks',
      operation: 'list networks',
      signal: options.signal,
    });
    return networks.map((n) => ({
      id: n.Id,
      name: n.Name,
      subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === 'string'),
      labels: n.Labels ?? {},
    }));
  }
}
