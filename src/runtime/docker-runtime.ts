import type Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import { environmentError, OverlabError } from '../core/errors.js';
import { tarSingleFile } from './tar.js';
import type {
  ContainerRuntime,
  ContainerDetails,
  ContainerSpec,
  ContainerSummary,
  EngineInfo,
  ExecOptions,
  ExecResult,
  NetworkSummary,
  StreamingExec,
} from './runtime.js';

const NOT_FOUND = 404;

function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES';
}

function engineUnreachable(error: unknown): OverlabError {
  const detail = error instanceof Error ? error.message : String(error);
  return environmentError(
    `no Docker engine answers (${detail})`,
    'start one: `bash scripts/setup.sh` installs docker.io and starts dockerd, or run `dockerd --bridge=none &` as root',
  );
}

async function collect(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** ContainerRuntime on a Docker engine through dockerode. */
export class DockerRuntime implements ContainerRuntime {
  private client?: Docker;

  constructor(docker?: Docker) {
    if (docker) this.client = docker;
  }

  /** dockerode (with its gRPC and SSH stacks) takes ~0.6 s to load: only commands that talk to
   * the engine pay for it. */
  private async connect(): Promise<Docker> {
    if (!this.client) {
      const { default: DockerClient } = await import('dockerode');
      this.client = new DockerClient();
    }
    return this.client;
  }

  private get docker(): Docker {
    if (!this.client) throw new Error('DockerRuntime used before connect()');
    return this.client;
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      await this.connect();
      return await operation();
    } catch (error) {
      if (isConnectionError(error)) throw engineUnreachable(error);
      throw error;
    }
  }

  async info(): Promise<EngineInfo> {
    const [info, version] = await this.call(() => Promise.all([this.docker.info(), this.docker.version()]));
    return {
      serverVersion: String(info.ServerVersion ?? version.Version),
      apiVersion: String(version.ApiVersion),
      kernelVersion: String(info.KernelVersion),
      operatingSystem: String(info.OperatingSystem),
    };
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.call(() => this.docker.getImage(ref).inspect());
      return true;
    } catch (error) {
      if (statusCode(error) === NOT_FOUND) return false;
      throw error;
    }
  }

  async importImage(tar: Readable, ref: string, changes: string[]): Promise<void> {
    const [repo, tag] = splitRef(ref);
    const query = new URLSearchParams({ fromSrc: '-', repo, tag });
    for (const change of changes) query.append('changes', change);
    // dockerode has no typed import; the modem speaks the Engine API directly.
    const stream = await this.call(
      () =>
        new Promise<Readable>((resolve, reject) => {
          this.docker.modem.dial(
            {
              path: `/images/create?${query.toString()}`,
              method: 'POST',
              file: tar,
              options: {},
              isStream: true,
              statusCodes: { 200: true, 500: 'server error' },
            },
            (error: unknown, response: unknown) => (error ? reject(error) : resolve(response as Readable)),
          );
        }),
    );
    const body = await collect(stream);
    const failure = body
      .split('\n')
      .filter((line) => line.includes('"error"'))
      .map((line) => line.trim())[0];
    if (failure) throw new Error(`docker import failed: ${failure}`);
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await this.call(() => this.docker.getImage(ref).remove({ force: true }));
    } catch (error) {
      if (statusCode(error) !== NOT_FOUND) throw error;
    }
  }

  async createAndStart(spec: ContainerSpec): Promise<string> {
    const container = await this.call(() =>
      this.docker.createContainer({
        name: spec.name,
        Hostname: spec.hostname,
        Image: spec.image,
        Cmd: spec.command,
        Labels: spec.labels,
        HostConfig: {
          NetworkMode: 'none',
          CapAdd: spec.capAdd,
          Devices: spec.devices.map((path) => ({ PathOnHost: path, PathInContainer: path, CgroupPermissions: 'rwm' })),
          Sysctls: spec.sysctls,
          Init: true,
          ...(spec.hostPid ? { PidMode: 'host' } : {}),
          ...(spec.mounts?.length
            ? { Mounts: spec.mounts.map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readonly })) }
            : {}),
        },
      }),
    );
    await this.call(() => container.start());
    return container.id;
  }

  async pidOf(container: string): Promise<number> {
    const state = await this.call(() => this.docker.getContainer(container).inspect());
    const pid = state.State.Pid;
    if (!state.State.Running || !pid) throw new Error(`container ${container} is not running`);
    return pid;
  }

  async inspectContainer(container: string): Promise<ContainerDetails> {
    const c = await this.call(() => this.docker.getContainer(container).inspect());
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      state: c.State.Status,
      running: Boolean(c.State.Running),
      pid: c.State.Pid ?? 0,
      sandboxKey: c.NetworkSettings?.SandboxKey ?? '',
      labels: c.Config?.Labels ?? {},
    };
  }

  async execDetached(container: string, command: string[]): Promise<void> {
    const exec = await this.call(() => this.docker.getContainer(container).exec({ Cmd: command, AttachStdout: false, AttachStderr: false }));
    const response = (await this.call(() => exec.start({ Detach: true }))) as unknown as Readable | undefined;
    // Drain the (empty) answer: left unread, its socket keeps this process alive for minutes.
    response?.resume?.();
  }

  async readFile(container: string, path: string): Promise<Buffer> {
    const stream = (await this.call(() => this.docker.getContainer(container).getArchive({ path }))) as unknown as Readable;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    return firstTarEntry(Buffer.concat(chunks));
  }

  async pause(container: string): Promise<void> {
    await this.call(() => this.docker.getContainer(container).pause());
  }

  async unpause(container: string): Promise<void> {
    await this.call(() => this.docker.getContainer(container).unpause());
  }

  async list(labelFilter: Record<string, string | true>): Promise<ContainerSummary[]> {
    const label = Object.entries(labelFilter).map(([key, value]) => (value === true ? key : `${key}=${value}`));
    const containers = await this.call(() => this.docker.listContainers({ all: true, filters: { label } }));
    return containers.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      state: c.State,
      labels: c.Labels ?? {},
    }));
  }

  async remove(container: string): Promise<void> {
    try {
      await this.call(() => this.docker.getContainer(container).remove({ force: true, v: true }));
    } catch (error) {
      // Already gone, or already being removed by a concurrent call: both mean "done".
      if (statusCode(error) !== NOT_FOUND && statusCode(error) !== 409) throw error;
    }
  }

  async stop(container: string): Promise<void> {
    try {
      await this.call(() => this.docker.getContainer(container).stop({ t: 1 }));
    } catch (error) {
      if (statusCode(error) !== 304) throw error; // 304: already stopped
    }
  }

  async start(container: string): Promise<void> {
    try {
      await this.call(() => this.docker.getContainer(container).start());
    } catch (error) {
      if (statusCode(error) !== 304) throw error; // 304: already running
    }
  }

  async exec(container: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const exec = await this.call(() =>
      this.docker.getContainer(container).exec({
        Cmd: command,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: options.stdin !== undefined,
      }),
    );
    const stream = await this.call(() => exec.start({ hijack: true, stdin: options.stdin !== undefined }));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.docker.modem.demuxStream(stream, stdout, stderr);
    if (options.stdin !== undefined) stream.end(options.stdin);
    const onAbort = () => stream.destroy();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    const outputs = Promise.all([collect(stdout), collect(stderr)]);
    await ended;
    stdout.end();
    stderr.end();
    const [out, err] = await outputs;
    options.signal?.removeEventListener('abort', onAbort);
    const inspected = await this.call(() => exec.inspect());
    return { stdout: out, stderr: err, exitCode: inspected.ExitCode ?? (options.signal?.aborted ? 130 : 1) };
  }

  async execStream(container: string, command: string[]): Promise<StreamingExec> {
    const exec = await this.call(() =>
      this.docker.getContainer(container).exec({ Cmd: command, AttachStdout: true, AttachStderr: true }),
    );
    const stream = await this.call(() => exec.start({ hijack: true, stdin: false }));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.docker.modem.demuxStream(stream, stdout, stderr);
    const exited = new Promise<number>((resolve) => {
      let settled = false;
      const finish = async () => {
        if (settled) return;
        settled = true;
        stdout.end();
        stderr.end();
        const inspected = await exec.inspect().catch(() => undefined);
        resolve(inspected?.ExitCode ?? 1);
      };
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
    return { stdout, stderr, exited };
  }

  async putFile(container: string, path: string, content: Buffer | string, mode = 0o644): Promise<void> {
    const slash = path.lastIndexOf('/');
    const directory = slash <= 0 ? '/' : path.slice(0, slash);
    const tar = tarSingleFile(path.slice(slash + 1), Buffer.from(content), mode);
    await this.putTar(container, directory, tar);
  }

  async putTar(container: string, directory: string, tar: Readable | Buffer): Promise<void> {
    await this.call(() => this.docker.getContainer(container).putArchive(tar, { path: directory }));
  }

  async listNetworks(): Promise<NetworkSummary[]> {
    const networks = await this.call(() => this.docker.listNetworks());
    return networks.map((n) => ({
      id: n.Id,
      name: n.Name,
      subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === 'string'),
      labels: n.Labels ?? {},
    }));
  }
}

/** The content of the first regular file in a ustar archive (the archive API's answer). */
function firstTarEntry(tar: Buffer): Buffer {
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 48);
    const body = offset + 512;
    if (type === '0' || type === '\0') return Buffer.from(tar.subarray(body, body + size));
    offset = body + Math.ceil(size / 512) * 512;
  }
  throw new Error('the archive holds no regular file');
}

function splitRef(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, 'latest'];
}
