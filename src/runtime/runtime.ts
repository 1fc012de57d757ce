// The only contract the rest of overlab has with a container engine. One implementation per
// engine API (docker-runtime.ts: the Engine API of Docker or Podman, over any transport); unit tests use the in-memory
// fake in test/support/fake-runtime.ts. Every call takes an optional last `options` with an
// AbortSignal; the implementation also aborts every call in flight on the command's Ctrl-C and
// gives each a deadline, so no call waits forever on a hung engine.
import type { Readable } from 'node:stream';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface StreamOptions extends CallOptions {
  /** Keep the process's stdin open for as long as this process holds the stream (nothing is
   * written to it): when this process ends, even by SIGKILL, the engine closes it, and a probe
   * wrapped to watch it (probes/stdin-bound.ts) stops. */
  holdStdin?: boolean;
}

export interface FollowOptions extends CallOptions {
  /** How long the output may stay silent before the engine is taken as hung. */
  idleMs?: number;
}

export interface ExecOptions extends CallOptions {
  /** Written to the process's stdin, which is then closed. */
  stdin?: string;
}

export interface ImageOptions extends CallOptions {
  /** The engine's progress, line by line. */
  onLog?: (line: string) => void;
}

/** A file or directory of the engine's machine bound into a container. */
export interface BindMount {
  source: string;
  target: string;
  readonly: boolean;
}

/** A volume of the engine (made with createVolume) mounted into a container. */
export interface VolumeMount {
  volume: string;
  target: string;
  readonly: boolean;
}

/** A memory-backed directory (tmpfs) inside a container: data that needs no disk (etcd's). */
export interface TmpfsMount {
  target: string;
  /** mount(8) options, e.g. `size=64m,mode=0700`. */
  options?: string;
}

export interface ContainerDetails {
  id: string;
  name: string;
  state: string; // running, exited, paused, created, ...
  running: boolean;
  pid: number; // 0 when not running
  /** The engine's handle on the container's network namespace (a file on the engine's machine);
   * bound into other lab containers so they can reach it without seeing any process table. */
  sandboxKey: string;
  labels: Record<string, string>;
  /** When its current run began (the engine's State.StartedAt): a restart changes it. */
  startedAt: string;
  /** What is bound into it from the engine's machine (source → target). */
  mounts: { source: string; target: string }[];
}

/** A process started in a container whose output is consumed while it runs (tcpdump, agents). */
export interface StreamingExec {
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code once the process has ended and its output is drained (130 when
   * the stream was aborted). It rejects only when the engine stopped answering while the command
   * ran: with the engine's timeout, as `exec` throws it. */
  exited: Promise<number>;
}

/** A terminal's size, in character cells. */
export interface TerminalSize {
  rows: number;
  columns: number;
}

export interface AttachOptions extends CallOptions {
  /** Give the process a pseudo-terminal of this size (`docker exec -t`): its output then comes
   * as one stream of the terminal's bytes, on stdout. */
  tty?: TerminalSize;
  /** Streamed to the process's stdin as it comes (`docker exec -i`); its end closes that stdin. */
  stdin?: Readable;
  /** Environment entries for the process ("TERM=xterm-256color"). */
  env?: string[];
}

/** A process that is talked to while it runs (a shell on a lab node). */
export interface AttachedExec extends StreamingExec {
  /** The terminal follows the window (SIGWINCH); nothing without a terminal. */
  resize(size: TerminalSize): Promise<void>;
}

export interface ContainerSpec {
  name: string;
  hostname: string;
  image: string;
  labels: Record<string, string>;
  command: string[];
  capAdd: string[];
  devices: string[];
  sysctls: Record<string, string>;
  mounts?: (BindMount | VolumeMount)[];
  /** Paths of /proc the engine mounts read-only (its HostConfig.ReadonlyPaths); absent: the
   * engine's default list, which includes all of /proc/sys. */
  readonlyPaths?: string[];
  tmpfs?: TmpfsMount[];
  /** Relative CPU weight when the machine is busy (the engine's default: 1024). */
  cpuShares?: number;
  /** `none` (every lab node: no way out), or `host` for the one short-lived helper that makes a
   * lab's tunnel device in the engine machine's namespace and moves it into the lab's switch. */
  networkMode?: 'none' | 'host';
  /** The engine starts the container again when its process ends or the engine restarts,
   * unless it was stopped on purpose. */
  restartPolicy?: 'unless-stopped';
}

export interface ContainerSummary {
  id: string;
  name: string;
  state: string; // running, exited, created, ...
  labels: Record<string, string>;
}

export interface NetworkSummary {
  id: string;
  name: string;
  subnets: string[];
  labels: Record<string, string>;
}

export interface EngineInfo {
  /** The engine's own ID (Docker's /info "ID"): one engine, however it is reached. */
  id?: string;
  /** Docker, or Podman's Docker-compatible service. */
  kind?: 'docker' | 'podman';
  /** The engine's own version (Docker's or Podman's, not the API's). */
  serverVersion: string;
  /** The Engine API version overlab speaks to it (negotiated). */
  apiVersion: string;
  kernelVersion: string;
  operatingSystem: string;
}

export interface ContainerRuntime {
  /** Where the engine is (its socket path): lab locks and messages name it. */
  readonly endpoint: string;
  info(options?: CallOptions): Promise<EngineInfo>;
  imageExists(ref: string, options?: CallOptions): Promise<boolean>;
  /** The image's labels; undefined when there is no such image. */
  imageLabels(ref: string, options?: CallOptions): Promise<Record<string, string> | undefined>;
  /** A root filesystem tar becomes image `ref` (`docker import`). */
  importImage(tar: Readable, ref: string, changes: string[], options?: ImageOptions): Promise<void>;
  /** A build context tar (with its Dockerfile) becomes an image with these tags (`docker build`). */
  buildImage(context: Buffer | Readable, tags: string[], options?: ImageOptions): Promise<void>;
  tagImage(source: string, target: string, options?: CallOptions): Promise<void>;
  /** The images as one docker-archive tar (`docker save`), streamed. */
  saveImages(refs: string[], options?: CallOptions): Promise<Readable>;
  /** A docker-archive tar becomes the images it holds (`docker load`). */
  loadImages(tar: Readable, options?: ImageOptions): Promise<void>;
  createAndStart(spec: ContainerSpec, options?: CallOptions): Promise<string>;
  /** The container made but not started (files may be put into it, its volumes included). */
  create(spec: ContainerSpec, options?: CallOptions): Promise<string>;
  start(container: string, options?: CallOptions): Promise<void>;
  /** A named volume with these labels (an existing one of that name is an error). */
  createVolume(name: string, labels: Record<string, string>, options?: CallOptions): Promise<void>;
  /** Remove every volume carrying these labels (none: nothing to do). Call once no container uses them. */
  removeVolumes(labelFilter: Record<string, string>, options?: CallOptions): Promise<string[]>;
  /** A container's state and its sandbox key (the switch's network namespace file, bound into every node). */
  inspectContainer(container: string, options?: CallOptions): Promise<ContainerDetails>;
  list(labelFilter: Record<string, string | true>, options?: CallOptions): Promise<ContainerSummary[]>;
  /** The containers with exactly these names, whoever made them (name collisions). */
  listByName(names: string[], options?: CallOptions): Promise<ContainerSummary[]>;
  /** Force-remove; a container that is already gone is not an error. */
  remove(container: string, options?: CallOptions): Promise<void>;
  exec(container: string, command: string[], options?: ExecOptions): Promise<ExecResult>;
  execStream(container: string, command: string[], options?: StreamOptions): Promise<StreamingExec>;
  /** A process with its stdin streamed in and, optionally, a terminal (`docker exec -it`). */
  execAttached(container: string, command: string[], options?: AttachOptions): Promise<AttachedExec>;
  /** Start a process in the container and return at once (daemons: etcd, the agent). */
  execDetached(container: string, command: string[], options?: CallOptions): Promise<void>;
  /** One file's content, through the engine's archive API (no process started). */
  readFile(container: string, path: string, options?: CallOptions): Promise<Buffer>;
  /** A started container's output (its log, from its start on), chunk by chunk as it comes, until
   * `take` says it has what it needs (then true) or the output ends (false: the container stopped). */
  followOutput(container: string, take: (stream: 'stdout' | 'stderr', text: string) => boolean, options?: FollowOptions): Promise<boolean>;
  /** Start a container that exists and is stopped (its files kept). */
  start(container: string, options?: CallOptions): Promise<void>;
  /** Send a signal to the container's own process (its init passes it on). */
  kill(container: string, signal: 'SIGHUP' | 'SIGTERM' | 'SIGKILL', options?: CallOptions): Promise<void>;
  pause(container: string, options?: CallOptions): Promise<void>;
  unpause(container: string, options?: CallOptions): Promise<void>;
  /** Unpack a tar into a directory of the container, through the archive API. */
  putTar(container: string, directory: string, tar: Readable | Buffer, options?: CallOptions): Promise<void>;
  listNetworks(options?: CallOptions): Promise<NetworkSummary[]>;
}
