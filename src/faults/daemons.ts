// BIRD as bgp's faults stop and start it (the agent and etcd run under their node's supervisor,
// src/deploy/node-daemons.ts): found by its PID file, stopped with SIGTERM (SIGKILL if it does
// not go within 5 s), and started again with
// exactly the command line it had, read from /proc/<pid>/cmdline, its output appended to the
// same file — the argv travels as arguments of a constant shell text, never inside it.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { environmentError } from '../base/errors.js';
import { pollUntil } from '../base/poll.js';

export interface DaemonRecord {
  container: string;
  pid: number;
  argv: string[];
  /** Where its stdout/stderr went (a file in the container), if a regular file. */
  output?: string;
}

/** Constant shell text: append the command's output to $1, then become the command. */
const DAEMON_START_SCRIPT = 'f=$1; shift; exec "$@" >>"$f" 2>&1 </dev/null';

function daemonStartArgv(record: DaemonRecord): string[] {
  return ['sh', '-c', DAEMON_START_SCRIPT, 'sh', record.output ?? '/dev/null', ...record.argv];
}

const STOP_TIMEOUT_MS = 5_000;

/** A process's argv, or undefined when there is no such process. */
async function processArgv(runtime: ContainerRuntime, container: string, pid: number, signal?: AbortSignal): Promise<string[] | undefined> {
  const r = await runtime.exec(container, ['cat', `/proc/${pid}/cmdline`], signal ? { signal } : {});
  if (r.exitCode !== 0 || !r.stdout) return undefined;
  return r.stdout.split('\0').filter((w, i, all) => w !== '' || i < all.length - 1);
}

async function outputOf(runtime: ContainerRuntime, container: string, pid: number, signal?: AbortSignal): Promise<string | undefined> {
  const r = await runtime.exec(container, ['readlink', `/proc/${pid}/fd/2`], signal ? { signal } : {});
  const target = r.stdout.trim();
  return r.exitCode === 0 && /^\/(?:var\/log|run|tmp)\/[A-Za-z0-9_./-]+$/.test(target) && !target.includes('..') ? target : undefined;
}

export async function describeDaemon(runtime: ContainerRuntime, container: string, pid: number, signal?: AbortSignal): Promise<DaemonRecord | undefined> {
  const argv = await processArgv(runtime, container, pid, signal);
  if (!argv?.length) return undefined;
  const output = await outputOf(runtime, container, pid, signal);
  return { container, pid, argv, ...(output ? { output } : {}) };
}

async function isAlive(runtime: ContainerRuntime, container: string, pid: number, signal?: AbortSignal): Promise<boolean> {
  return (await runtime.exec(container, ['kill', '-0', String(pid)], signal ? { signal } : {})).exitCode === 0;
}

export async function stopDaemon(runtime: ContainerRuntime, record: DaemonRecord, signal: AbortSignal): Promise<void> {
  const { container, pid } = record;
  await runtime.exec(container, ['kill', '-TERM', String(pid)], { signal });
  const gone = async () => !(await isAlive(runtime, container, pid, signal));
  if (await pollUntil(gone, { timeoutMs: STOP_TIMEOUT_MS, intervalMs: 50, signal })) return;
  await runtime.exec(container, ['kill', '-KILL', String(pid)], { signal });
  if (!(await pollUntil(gone, { timeoutMs: STOP_TIMEOUT_MS, intervalMs: 50, signal }))) {
    throw environmentError(`process ${pid} (${record.argv.join(' ')}) in ${container} did not stop`);
  }
}

export async function startDaemon(runtime: ContainerRuntime, record: DaemonRecord, signal: AbortSignal): Promise<void> {
  await runtime.execDetached(record.container, daemonStartArgv(record), { signal });
}
