// The daemons of a lab node, through its supervisor (src/plan/node-init.ts): declare them, want
// them up or down, read their status. No process is started for any of it: files go through the
// engine's archive API and the supervisor is told by a SIGHUP through the engine's kill API.
import type { CallOptions, ContainerRuntime } from '../runtime/runtime.js';
import { tarEntries } from '../runtime/tar.js';
import { readReplacedFile } from '../runtime/replaced-file.js';
import { DAEMON_STATE_DIR, DAEMON_STOP_GRACE_SECONDS, daemonStatusFile, declarationEntries, parseDaemonStatus, wantEntries, type DaemonDeclaration, type DaemonStatus, type DaemonWant } from '../plan/node-init.js';
import { environmentError } from '../base/errors.js';
import { pollUntil } from '../base/poll.js';

/** The supervisor writes this once it listens for SIGHUP (a SIGHUP before would end it). */
const INIT_PID_FILE = `${DAEMON_STATE_DIR}/init.pid`;
const INIT_READY_MS = 10_000;

async function supervisorListening(runtime: ContainerRuntime, container: string, options: CallOptions): Promise<void> {
  const ready = () =>
    runtime
      .readFile(container, INIT_PID_FILE, options)
      .then((b) => /^\d+\s*$/.test(b.toString('utf8')))
      .catch(() => false);
  if (await ready()) return;
  const ok = await pollUntil(ready, { timeoutMs: INIT_READY_MS, intervalMs: 50, signal: options.signal ?? new AbortController().signal });
  if (!ok) throw environmentError(`the supervisor of ${container} did not start within ${INIT_READY_MS / 1000} s`, `\`docker logs ${container}\` shows why; \`overlab up <spec> --recreate\` rebuilds the lab`);
}

async function tellSupervisor(runtime: ContainerRuntime, container: string, options: CallOptions): Promise<void> {
  await supervisorListening(runtime, container, options);
  await runtime.kill(container, 'SIGHUP', options);
}

/** Declare daemons (or declare them again, changed): the supervisor starts each that is not
 * running and keeps it running. */
export async function declareDaemons(runtime: ContainerRuntime, container: string, daemons: DaemonDeclaration[], options: CallOptions = {}): Promise<void> {
  if (daemons.length === 0) return;
  await runtime.putTar(container, '/', tarEntries(declarationEntries(daemons, 'up')), options);
  await tellSupervisor(runtime, container, options);
}

/** Want declared daemons up (started now, even out of their backoff) or down (stopped, and not
 * started again until wanted up: what `stop-agent` and `stop-etcd` faults do). */
export async function setDaemonWant(runtime: ContainerRuntime, container: string, names: string[], want: DaemonWant, options: CallOptions = {}): Promise<void> {
  if (names.length === 0) return;
  await runtime.putTar(container, '/', tarEntries(wantEntries(names, want)), options);
  await tellSupervisor(runtime, container, options);
}

/** Tell the supervisor to start at once every daemon waiting out its backoff (after a repair
 * gave it what it was missing). */
export async function wakeDaemons(runtime: ContainerRuntime, container: string, options: CallOptions = {}): Promise<void> {
  await tellSupervisor(runtime, container, options);
}

/** A daemon's status as its supervisor last wrote it; undefined when it has none (not declared,
 * or the container was made before daemons had a supervisor). */
export async function readDaemonStatus(runtime: ContainerRuntime, container: string, name: string, options: CallOptions = {}): Promise<DaemonStatus | undefined> {
  // The supervisor replaces the file whole (mv), which the archive API can still tear.
  const text = await readReplacedFile(runtime, container, daemonStatusFile(name), (t) => parseDaemonStatus(t) !== undefined, options).catch(() => '');
  return parseDaemonStatus(text);
}

/** Wait until a daemon's status satisfies `done`; the last status seen, or undefined on time out. */
export async function waitForDaemon(
  runtime: ContainerRuntime,
  container: string,
  name: string,
  done: (s: DaemonStatus) => boolean,
  { timeoutMs, signal }: { timeoutMs: number; signal: AbortSignal },
): Promise<DaemonStatus | undefined> {
  let last: DaemonStatus | undefined;
  const ok = await pollUntil(
    async () => {
      last = await readDaemonStatus(runtime, container, name, { signal });
      return last !== undefined && done(last);
    },
    { timeoutMs, intervalMs: 50, signal },
  );
  return ok ? last : undefined;
}

/** Want daemons down and wait until their supervisor holds each (its process gone): what a
 * `systemctl stop` is. */
export async function stopDaemons(runtime: ContainerRuntime, container: string, names: string[], signal: AbortSignal): Promise<void> {
  await setDaemonWant(runtime, container, names, 'down', { signal });
  for (const name of names) {
    const held = await waitForDaemon(runtime, container, name, (s) => s.state === 'held', { timeoutMs: (DAEMON_STOP_GRACE_SECONDS + 5) * 1000, signal });
    if (!held) throw environmentError(`${name} in ${container} did not stop within ${DAEMON_STOP_GRACE_SECONDS + 5} s`, `\`overlab exec <lab> <node> -- overlab-daemon status\` shows it`);
  }
}
