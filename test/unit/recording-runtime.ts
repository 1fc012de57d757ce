// A ContainerRuntime that records every call and changes nothing: for unit tests that must
// prove a bad input reached the engine not at all ("nothing created, nothing run").
import type { ContainerRuntime, ContainerDetails, ContainerSpec, ExecOptions, ExecResult, StreamingExec } from '../../src/runtime/runtime.js';
import { PassThrough } from 'node:stream';

export interface RecordedCall {
  method: string;
  args: unknown[];
}

export class RecordingRuntime implements ContainerRuntime {
  readonly calls: RecordedCall[] = [];
  /** What exec answers (default: success, no output). */
  execResult: (container: string, command: string[], options?: ExecOptions) => ExecResult = () => ({ stdout: '', stderr: '', exitCode: 0 });

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  /** Calls that create something or run a process. */
  get effects(): RecordedCall[] {
    return this.calls.filter((c) => ['createAndStart', 'exec', 'execStream', 'execDetached', 'putFile', 'putTar', 'importImage', 'start'].includes(c.method));
  }

  async info() {
    this.record('info');
    return { serverVersion: 'test', apiVersion: 'test', kernelVersion: 'test', operatingSystem: 'test' };
  }
  async imageExists(ref: string) {
    this.record('imageExists', ref);
    return true;
  }
  async importImage(...args: unknown[]) {
    this.record('importImage', ...args);
  }
  async removeImage(ref: string) {
    this.record('removeImage', ref);
  }
  async createAndStart(spec: ContainerSpec) {
    this.record('createAndStart', spec);
    return spec.name;
  }
  async inspectContainer(container: string): Promise<ContainerDetails> {
    this.record('inspectContainer', container);
    return { id: container, name: container, state: 'running', running: true, pid: 1, sandboxKey: `/var/run/docker/netns/${container}`, labels: {} };
  }
  async list(filter: Record<string, string | true>) {
    this.record('list', filter);
    return [];
  }
  async remove(container: string) {
    this.record('remove', container);
  }
  async stop(container: string) {
    this.record('stop', container);
  }
  async start(container: string) {
    this.record('start', container);
  }
  async exec(container: string, command: string[], options?: ExecOptions) {
    this.record('exec', container, command, options?.stdin);
    return this.execResult(container, command, options);
  }
  async execStream(container: string, command: string[]): Promise<StreamingExec> {
    this.record('execStream', container, command);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end();
    stderr.end();
    return { stdout, stderr, exited: Promise.resolve(0) };
  }
  async execDetached(container: string, command: string[]) {
    this.record('execDetached', container, command);
  }
  async readFile(container: string, path: string): Promise<Buffer> {
    this.record('readFile', container, path);
    throw Object.assign(new Error(`no ${path}`), { statusCode: 404 });
  }
  async pause(container: string) {
    this.record('pause', container);
  }
  async unpause(container: string) {
    this.record('unpause', container);
  }
  async putFile(container: string, path: string) {
    this.record('putFile', container, path);
  }
  async putTar(container: string, directory: string) {
    this.record('putTar', container, directory);
  }
  async listNetworks() {
    this.record('listNetworks');
    return [];
  }
}
