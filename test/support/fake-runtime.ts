// An in-memory ContainerRuntime for unit tests of orchestration (up phases, rollback, locks,
// state, agent waits): containers with labels, state and files; scriptable exec results; failure
// injection per method; a hook before every call to interleave concurrent callers. It answers
// with the same typed errors the Docker runtime raises (engine-errors.ts).
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { interruptedError } from '../../src/base/errors.js';
import { engineError } from '../../src/runtime/engine-errors.js';
import { readTar } from '../../src/runtime/tar.js';
import { BOOT_WIRED_LINE, BOOT_WIRING_FAILED_LINE, bootWiringInput } from '../../src/plan/node-boot-wiring.js';
import { RUNNER_ARGV } from '../../src/plan/step-runner.js';
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
} from '../../src/runtime/runtime.js';

export interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  state: 'running' | 'exited' | 'paused' | 'created';
  pid: number;
  labels: Record<string, string>;
  files: Map<string, Buffer>;
  /** When its current run began; `restart()` changes it. */
  startedAt: string;
  /** Signals sent to its own process (`kill`). */
  signals: string[];
}

export interface ExecCall {
  container: string;
  command: string[];
  stdin?: string;
}

/** Answers an exec, or undefined to let the next handler (or the default: exit 0) answer. */
export type ExecHandler = (call: ExecCall) => Partial<ExecResult> | undefined | Promise<Partial<ExecResult> | undefined>;

export type Method = keyof Omit<ContainerRuntime, 'endpoint'>;

interface Failure {
  method: Method;
  when: (args: unknown[]) => boolean;
  error: () => Error;
  times: number;
}

export class FakeRuntime implements ContainerRuntime {
  readonly endpoint = `fake:${randomUUID()}`;
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>(['overlab/host:latest']);
  /** Every call, in order: the method and its arguments (options left out). */
  readonly calls: { method: Method; args: unknown[] }[] = [];
  /** Runs before every call answers: await something here to interleave callers. */
  before?: (method: Method, args: unknown[]) => void | Promise<void>;
  private readonly execHandlers: ExecHandler[] = [];
  private readonly failures: Failure[] = [];
  private nextPid = 1000;
  private starts = 0;

  private startTime(): string {
    return new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ++this.starts)).toISOString();
  }

  /** What a `docker restart` does to a container: a new run (new PID, new start time). */
  restart(name: string): FakeContainer {
    const c = this.find(name, 'restart');
    c.state = 'running';
    c.pid = this.nextPid++;
    c.startedAt = this.startTime();
    return c;
  }

  onExec(handler: ExecHandler): this {
    this.execHandlers.push(handler);
    return this;
  }

  /** Make `method` throw (the next `times` calls whose arguments match `when`). */
  failOn(method: Method, error: Error | (() => Error), options: { when?: (args: unknown[]) => boolean; times?: number } = {}): this {
    this.failures.push({ method, error: typeof error === 'function' ? error : () => error, when: options.when ?? (() => true), times: options.times ?? Infinity });
    return this;
  }

  /** A container made by someone else (another lab, another run, a foreign tool). */
  addContainer(name: string, labels: Record<string, string>, state: FakeContainer['state'] = 'running'): FakeContainer {
    const spec: ContainerSpec = { name, hostname: name, image: 'overlab/host:latest', labels, command: [], capAdd: [], devices: [], sysctls: {} };
    const c: FakeContainer = { id: `id-${name}`, name, spec, state, pid: state === 'running' ? this.nextPid++ : 0, labels, files: new Map(), startedAt: this.startTime(), signals: [] };
    this.containers.set(name, c);
    return c;
  }

  file(container: string, path: string): string | undefined {
    return this.containers.get(container)?.files.get(path)?.toString('utf8');
  }

  names(): string[] {
    return [...this.containers.keys()].sort();
  }

  private async enter(method: Method, args: unknown[], options?: CallOptions): Promise<void> {
    this.calls.push({ method, args });
    if (options?.signal?.aborted) throw interruptedError();
    await this.before?.(method, args);
    if (options?.signal?.aborted) throw interruptedError();
    const failure = this.failures.find((f) => f.method === method && f.times > 0 && f.when(args));
    if (failure) {
      failure.times--;
      throw failure.error();
    }
  }

  private find(ref: string, operation: string): FakeContainer {
    const c = this.containers.get(ref) ?? [...this.containers.values()].find((x) => x.id === ref);
    if (!c) throw engineError('not-found', { engine: this.endpoint, operation, subject: `container ${ref}`, detail: `No such container: ${ref}` });
    return c;
  }

  private running(ref: string, operation: string): FakeContainer {
    const c = this.find(ref, operation);
    if (c.state !== 'running') throw engineError('conflict', { engine: this.endpoint, operation, subject: `container ${ref}`, detail: `Container ${c.id} is not running` });
    return c;
  }

  async info(options?: CallOptions): Promise<EngineInfo> {
    await this.enter('info', [], options);
    return { serverVersion: 'fake', apiVersion: '1.45', kernelVersion: 'fake', operatingSystem: 'fake' };
  }

  async imageExists(ref: string, options?: CallOptions): Promise<boolean> {
    await this.enter('imageExists', [ref], options);
    return this.images.has(ref);
  }

  /** Labels of images in `images`, when a test gives them some. */
  readonly imageLabelsOf = new Map<string, Record<string, string>>();

  async imageLabels(ref: string, options?: CallOptions): Promise<Record<string, string> | undefined> {
    await this.enter('imageLabels', [ref], options);
    return this.images.has(ref) ? (this.imageLabelsOf.get(ref) ?? {}) : undefined;
  }

  async importImage(tar: Readable, ref: string, changes: string[], options?: ImageOptions): Promise<void> {
    await this.enter('importImage', [ref, changes], options);
    for await (const _ of tar) void _;
    this.images.add(ref);
  }

  async buildImage(_context: Buffer | Readable, tags: string[], options?: ImageOptions): Promise<void> {
    await this.enter('buildImage', [tags], options);
    for (const t of tags) this.images.add(t);
  }

  async tagImage(source: string, target: string, options?: CallOptions): Promise<void> {
    await this.enter('tagImage', [source, target], options);
    if (!this.images.has(source)) throw engineError('not-found', { engine: this.endpoint, operation: 'tag', subject: `image ${source}` });
    this.images.add(target);
  }

  /** `saveImages` streams the refs as JSON lines; `loadImages` adds the refs it reads back. */
  async saveImages(refs: string[], options?: CallOptions): Promise<Readable> {
    await this.enter('saveImages', [refs], options);
    for (const r of refs) if (!this.images.has(r)) throw engineError('not-found', { engine: this.endpoint, operation: 'export', subject: `image ${r}` });
    const { Readable: R } = await import('node:stream');
    return R.from([Buffer.from(JSON.stringify(refs))]);
  }

  async loadImages(tar: Readable, options?: ImageOptions): Promise<void> {
    await this.enter('loadImages', [], options);
    const chunks: Buffer[] = [];
    for await (const c of tar) chunks.push(c as Buffer);
    for (const r of JSON.parse(Buffer.concat(chunks).toString() || '[]') as string[]) this.images.add(r);
  }

  readonly volumes = new Map<string, Record<string, string>>();

  async createVolume(name: string, labels: Record<string, string>, options?: CallOptions): Promise<void> {
    await this.enter('createVolume', [name, labels], options);
    if (this.volumes.has(name)) throw engineError('conflict', { engine: this.endpoint, operation: 'create', subject: `volume ${name}` });
    this.volumes.set(name, { ...labels });
  }

  async removeVolumes(labelFilter: Record<string, string>, options?: CallOptions): Promise<string[]> {
    await this.enter('removeVolumes', [labelFilter], options);
    const names = [...this.volumes].filter(([, labels]) => Object.entries(labelFilter).every(([k, v]) => labels[k] === v)).map(([name]) => name).sort();
    for (const name of names) this.volumes.delete(name);
    return names;
  }

  async create(spec: ContainerSpec, options?: CallOptions): Promise<string> {
    await this.enter('create', [spec], options);
    return this.make(spec, 'created');
  }

  async createAndStart(spec: ContainerSpec, options?: CallOptions): Promise<string> {
    await this.enter('createAndStart', [spec], options);
    return this.make(spec, 'running');
  }

  private make(spec: ContainerSpec, state: FakeContainer['state']): string {
    if (this.containers.has(spec.name)) {
      throw engineError('conflict', { engine: this.endpoint, operation: 'create', subject: `container ${spec.name}`, detail: `Conflict. The container name "/${spec.name}" is already in use` });
    }
    if (!this.images.has(spec.image)) throw engineError('not-found', { engine: this.endpoint, operation: 'create', subject: `image ${spec.image}` });
    const c: FakeContainer = { id: `id-${spec.name}`, name: spec.name, spec, state, pid: this.nextPid++, labels: { ...spec.labels }, files: new Map(), startedAt: this.startTime(), signals: [] };
    this.containers.set(spec.name, c);
    return c.id;
  }

  async start(container: string, options?: CallOptions): Promise<void> {
    await this.enter('start', [container], options);
    const c = this.find(container, 'start');
    if (c.state !== 'running') this.restart(c.name);
  }

  async kill(container: string, signal: 'SIGHUP' | 'SIGTERM' | 'SIGKILL', options?: CallOptions): Promise<void> {
    await this.enter('kill', [container, signal], options);
    this.running(container, `send ${signal} to`).signals.push(signal);
  }


  async inspectContainer(container: string, options?: CallOptions): Promise<ContainerDetails> {
    await this.enter('inspectContainer', [container], options);
    const c = this.find(container, 'inspect');
    return { id: c.id, name: c.name, state: c.state, running: c.state === 'running', pid: c.pid, sandboxKey: `/var/run/docker/netns/${c.id}`, labels: c.labels, startedAt: c.startedAt, mounts: (c.spec.mounts ?? []).map((m) => ({ source: 'volume' in m ? m.volume : m.source, target: m.target })) };
  }

  private summary(c: FakeContainer): ContainerSummary {
    return { id: c.id, name: c.name, state: c.state, labels: c.labels };
  }

  async list(labelFilter: Record<string, string | true>, options?: CallOptions): Promise<ContainerSummary[]> {
    await this.enter('list', [labelFilter], options);
    const matches = (c: FakeContainer) => Object.entries(labelFilter).every(([k, v]) => (v === true ? k in c.labels : c.labels[k] === v));
    return [...this.containers.values()].filter(matches).map((c) => this.summary(c));
  }

  async listByName(names: string[], options?: CallOptions): Promise<ContainerSummary[]> {
    await this.enter('listByName', [names], options);
    return names.flatMap((n) => (this.containers.has(n) ? [this.summary(this.containers.get(n)!)] : []));
  }

  async remove(container: string, options?: CallOptions): Promise<void> {
    await this.enter('remove', [container], options);
    const c = this.containers.get(container) ?? [...this.containers.values()].find((x) => x.id === container);
    if (c) this.containers.delete(c.name);
  }

  private async answer(call: ExecCall): Promise<ExecResult> {
    for (const handler of this.execHandlers) {
      const r = await handler(call);
      if (r) return { stdout: '', stderr: '', exitCode: 0, ...r };
    }
    return { stdout: '', stderr: '', exitCode: 0 };
  }

  async exec(container: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    await this.enter('exec', [container, command, options.stdin], options);
    this.running(container, 'run a command in');
    return this.answer({ container, command, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
  }

  async execStream(container: string, command: string[], options?: StreamOptions): Promise<StreamingExec> {
    await this.enter('execStream', [container, command], options);
    this.running(container, 'run a command in');
    const r = await this.answer({ container, command });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end(r.stdout);
    stderr.end(r.stderr);
    return { stdout, stderr, exited: Promise.resolve(r.exitCode) };
  }

  async execAttached(container: string, command: string[], options: AttachOptions = {}): Promise<AttachedExec> {
    await this.enter('execAttached', [container, command], options);
    this.running(container, 'run a command in');
    let stdin: string | undefined;
    if (options.stdin) {
      const chunks: Buffer[] = [];
      for await (const chunk of options.stdin) chunks.push(Buffer.from(chunk as Buffer));
      stdin = Buffer.concat(chunks).toString('utf8');
    }
    const r = await this.answer({ container, command, ...(stdin !== undefined ? { stdin } : {}) });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end(r.stdout);
    stderr.end(r.stderr);
    return { stdout, stderr, exited: Promise.resolve(r.exitCode), resize: async () => undefined };
  }

  /** A container whose command wires it as it boots (src/plan/node-boot-wiring.ts) writes the
   * outcome of that wiring, answered as an exec of the step runner with its steps would be. */
  async followOutput(container: string, take: (stream: 'stdout' | 'stderr', text: string) => boolean, options?: FollowOptions): Promise<boolean> {
    await this.enter('followOutput', [container], options);
    const c = this.running(container, 'read the output of');
    const input = bootWiringInput(c.spec.command);
    if (input === undefined) return false;
    const r = await this.answer({ container, command: [...RUNNER_ARGV], stdin: input });
    const text = r.exitCode === 0 ? `${BOOT_WIRED_LINE}\n` : `${r.stderr}${r.stderr.endsWith('\n') || !r.stderr ? '' : '\n'}${BOOT_WIRING_FAILED_LINE}${r.exitCode}\n`;
    return take('stderr', text);
  }

  async execDetached(container: string, command: string[], options?: CallOptions): Promise<void> {
    await this.enter('execDetached', [container, command], options);
    this.running(container, 'start a daemon in');
    await this.answer({ container, command });
  }

  async readFile(container: string, path: string, options?: CallOptions): Promise<Buffer> {
    await this.enter('readFile', [container, path], options);
    const content = this.find(container, 'read').files.get(path);
    if (!content) throw engineError('not-found', { engine: this.endpoint, operation: 'read', subject: `file ${path} in container ${container}` });
    return content;
  }

  async pause(container: string, options?: CallOptions): Promise<void> {
    await this.enter('pause', [container], options);
    this.running(container, 'pause').state = 'paused';
  }

  async unpause(container: string, options?: CallOptions): Promise<void> {
    await this.enter('unpause', [container], options);
    const c = this.find(container, 'unpause');
    if (c.state === 'paused') c.state = 'running';
  }

  async putTar(container: string, directory: string, tar: Readable | Buffer, options?: CallOptions): Promise<void> {
    const bytes = Buffer.isBuffer(tar) ? tar : Buffer.concat(await (async () => { const parts: Buffer[] = []; for await (const p of tar) parts.push(p as Buffer); return parts; })());
    await this.enter('putTar', [container, directory, readTar(bytes).map((m) => m.name)], options);
    const c = this.find(container, `copy files to ${directory} in`);
    for (const member of readTar(bytes)) {
      if (member.type === '0') c.files.set(`${directory.replace(/\/$/, '')}/${member.name}`, member.content);
    }
  }

  async listNetworks(options?: CallOptions): Promise<NetworkSummary[]> {
    await this.enter('listNetworks', [], options);
    return [];
  }
}
