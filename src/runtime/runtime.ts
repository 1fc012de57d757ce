// The only contract the rest of overlab has with a container engine. One implementation per
// engine (docker-runtime.ts); unit tests use in-memory fakes.
import type { Readable } from 'node:stream';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  stdin?: string;
  signal?: AbortSignal;
}

/** A file or directory of the engine's machine bound into a container. */
export interface BindMount {
  source: string;
  target: string;
  readonly: boolean;
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
}

/** A process started in a container whose output is consumed while it runs (tcpdump, agents). */
export interface StreamingExec {
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code once the process has ended and its output is drained. */
  exited: Promise<number>;
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
  /** Share the engine's PID namespace: only the lab's underlay switch needs this (to reach the
   * other nodes' network namespaces by PID when it wires veth pairs). */
  hostPid?: boolean;
  mounts?: BindMount[];
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
  serverVersion: string;
  apiVersion: string;
  kernelVersion: string;
  operatingSystem: string;
}

export interface ContainerRuntime {
  info(): Promise<EngineInfo>;
  imageExists(ref: string): Promise<boolean>;
  importImage(tar: Readable, ref: string, changes: string[]): Promise<void>;
  removeImage(ref: string): Promise<void>;
  createAndStart(spec: ContainerSpec): Promise<string>;
  pidOf(container: string): Promise<number>;
  inspectContainer(container: string): Promise<ContainerDetails>;
  list(labelFilter: Record<string, string | true>): Promise<ContainerSummary[]>;
  remove(container: string): Promise<void>;
  stop(container: string): Promise<void>;
  start(container: string): Promise<void>;
  exec(container: string, command: string[], options?: ExecOptions): Promise<ExecResult>;
  execStream(container: string, command: string[]): Promise<StreamingExec>;
  /** Start a process in the container and return at once (daemons: etcd, the agent). */
  execDetached(container: string, command: string[]): Promise<void>;
  /** One file's content, through the engine's archive API (no process started). */
  readFile(container: string, path: string): Promise<Buffer>;
  pause(container: string): Promise<void>;
  unpause(container: string): Promise<void>;
  putFile(container: string, path: string, content: Buffer | string, mode?: number): Promise<void>;
  putTar(container: string, directory: string, tar: Readable | Buffer): Promise<void>;
  listNetworks(): Promise<NetworkSummary[]>;
}
