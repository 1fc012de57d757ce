// One writer per lab across processes. `up`, `down`, `node add|rm`, `fault` and
// `workshop` hold the lab's lock while they change it; a verify holds its probe lock.
//
// The lock is a listening socket in Linux's abstract unix namespace, named after the engine
// (engineLockKey: its own ID, so every way of reaching one engine — /var/run/docker.sock,
// /run/docker.sock, a symlink, tcp:// — meets at one lock) and the lab: binding a name is atomic (a second bind fails with EADDRINUSE) and the
// kernel releases the name the moment its owner dies, SIGKILL included. So there is no stale
// lock to detect or break (a lock file would need PID + start-time checks and a race-free
// take-over), nothing to clean up, and no image or container needed (the engine's name
// reservation would need both, and cost two engine round trips per command). A contender
// connects to the name and the owner answers with who it is. The namespace belongs to the
// network namespace, so this serialises every overlab run on the machine against one engine.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { primaryRuntime } from '../runtime/routed-runtime.js';
import { requirePrimary } from './lab-discovery.js';
import { environmentError, interruptedError } from '../base/errors.js';
import { pollUntil, realClock, type Clock } from '../base/poll.js';
import { setting } from '../shared/settings.js';
import { debugLog } from '../base/debug-log.js';

export interface LockHolder {
  pid: number;
  /** The command line of the owner, as it described itself. */
  command: string;
  since: string;
}

export interface LabLock {
  readonly lab: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** The engine, as engineLockKey() names it (locks are per engine). */
  engine: string;
  lab: string;
  signal: AbortSignal;
  /** How long a second caller waits for the lab before saying who holds it. */
  waitMs?: number;
  intervalMs?: number;
  clock?: Clock;
  /** How this process describes itself to a contender. */
  command?: string;
  /** Which of the lab's locks: the writers' (default) or the probers' (LockScope). */
  scope?: LockScope;
}

/** A lab has two locks. `lab`: one writer at a time (up, down, node, fault, workshop, run).
 * `probes`: one verify at a time — two verifies of one lab would see each other's traffic, and
 * each would stop the other's captures as leftovers of a killed run (probe-reaper.ts). */
export type LockScope = 'lab' | 'probes';

const ACTIVITY: Record<LockScope, string> = { lab: 'changed', probes: 'verified' };

export const DEFAULT_LOCK_WAIT_MS = 5_000;
/** A verify waits longer for another verify of the same lab: it will end by itself, soon. */
export const DEFAULT_PROBE_LOCK_WAIT_MS = 120_000;

/** OVERLAB_LOCK_WAIT_MS or OVERLAB_PROBE_LOCK_WAIT_MS (src/shared/settings.ts): a bad value is exit 3, not the default. */
export function lockWaitMs(env: Record<string, string | undefined> = process.env, scope: LockScope = 'lab'): number {
  return scope === 'lab' ? setting('lockWaitMs', DEFAULT_LOCK_WAIT_MS, env) : setting('probeLockWaitMs', DEFAULT_PROBE_LOCK_WAIT_MS, env);
}

/** A unix socket's one name: the same file reached by /var/run/docker.sock and /run/docker.sock
 * (or any symlink) gives one path. Other endpoints (tcp://, ssh://) are kept as they are. */
export function canonicalEndpoint(endpoint: string): string {
  if (!endpoint.startsWith('/')) return endpoint;
  try {
    return realpathSync(endpoint);
  } catch {
    return resolve(endpoint);
  }
}

const lockKeys = new WeakMap<ContainerRuntime, Promise<string>>();

/**
 * What a lab's lock is named after: the engine's own ID (GET /info), which is the same however
 * the engine is reached; when the engine does not give one (or does not answer — then nothing
 * can change a lab anyway), its endpoint, canonical. Asked once per engine. A lab spread over
 * several engines locks on its first (primary) engine's key, whichever engine the command talks
 * to (the routed runtime's primary: the lab's, once its model was read).
 */
export function engineLockKey(routed: ContainerRuntime, signal?: AbortSignal): Promise<string> {
  const runtime = primaryRuntime(routed);
  let key = lockKeys.get(runtime);
  if (!key) {
    key = runtime.info(signal ? { signal } : {}).then(
      (info) => (info.id ? `engine-id:${info.id}` : `endpoint:${canonicalEndpoint(runtime.endpoint)}`),
      (error: unknown) => {
        lockKeys.delete(runtime); // an interruption or a hiccup must not stick to the runtime
        if ((error as { kind?: string } | null)?.kind === 'interrupted') throw error;
        return `endpoint:${canonicalEndpoint(runtime.endpoint)}`;
      },
    );
    lockKeys.set(runtime, key);
  }
  return key;
}

/** The abstract socket name (leading NUL) of a lab's lock on one engine. */
export function lockAddress(engine: string, lab: string, scope: LockScope = 'lab'): string {
  const key = createHash('sha256').update(engine).digest('hex').slice(0, 16);
  const name = `overlab-lock/${key}/${lab}${scope === 'lab' ? '' : `/${scope}`}`;
  return `\0${name.length <= 100 ? name : createHash('sha256').update(name).digest('hex')}`;
}

const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

/** This process, as a lock owner describes itself. */
export function describeThisProcess(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a)));
  return printable(['overlab', ...args].join(' ')).slice(0, 200);
}

function tryBind(address: string, holder: LockHolder): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(JSON.stringify(holder) + '\n');
    });
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen({ path: address }, () => {
      server.unref(); // a held lock never keeps the process alive
      resolve(server);
    });
  });
}

/** Who holds the lock, or undefined when nobody does. */
export function lockHolder(engine: string, lab: string, timeoutMs = 500, scope: LockScope = 'lab'): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: lockAddress(engine, lab, scope) });
    let text = '';
    const unknown: LockHolder = { pid: 0, command: 'another overlab process', since: '' };
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(unknown); // something holds the name but did not say who
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(text) as LockHolder;
        resolve({ pid: Number(parsed.pid) || 0, command: printable(String(parsed.command ?? '')).slice(0, 200), since: String(parsed.since ?? '') });
      } catch (error) {
        debugLog('lab', `read who holds the lock ${lab}`, error);
        resolve(unknown);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? undefined : unknown);
    });
  });
}

export function heldMessage(lab: string, holder: LockHolder, now = Date.now(), scope: LockScope = 'lab'): { message: string; hint: string } {
  const since = Date.parse(holder.since);
  const age = Number.isNaN(since) ? '' : `, for ${Math.max(0, Math.round((now - since) / 1000))} s`;
  const who = holder.pid ? `pid ${holder.pid}: \`${holder.command}\`${age}` : holder.command;
  return {
    message: `lab "${lab}" is being ${ACTIVITY[scope]} by another overlab process (${who})`,
    hint:
      (holder.pid ? `wait until it has finished and try again, or stop it (kill ${holder.pid})` : 'wait until it has finished and try again') +
      (scope === 'lab' ? '; `overlab ls` shows the lab\'s state' : ''),
  };
}

export async function acquireLabLock(options: LockOptions): Promise<LabLock> {
  const { engine, lab, signal, clock = realClock, scope = 'lab' } = options;
  const address = lockAddress(engine, lab, scope);
  const me: LockHolder = { pid: process.pid, command: options.command ?? describeThisProcess(), since: new Date(clock.now()).toISOString() };
  let server: net.Server | undefined;
  const got = await pollUntil(
    async () => {
      server = await tryBind(address, me);
      return server !== undefined;
    },
    { timeoutMs: options.waitMs ?? lockWaitMs(process.env, scope), intervalMs: options.intervalMs ?? 100, signal, clock },
  );
  if (!got || !server) {
    if (signal.aborted) throw interruptedError();
    const holder = (await lockHolder(engine, lab, undefined, scope)) ?? { pid: 0, command: 'another overlab process', since: '' };
    const { message, hint } = heldMessage(lab, holder, clock.now(), scope);
    throw environmentError(message, hint);
  }
  const held = server;
  let released = false;
  return {
    lab,
    release: () =>
      new Promise<void>((resolve) => {
        if (released) return resolve();
        released = true;
        held.close(() => resolve());
      }),
  };
}

/** Run `work` holding the lab's lock on its (primary) engine. */
export async function withLabLock<T>(runtime: ContainerRuntime, lab: string, signal: AbortSignal, work: () => Promise<T>, options: Partial<LockOptions> = {}): Promise<T> {
  // Talking to an engine of a lab spread over several that is not its primary: lock on the primary.
  // The engine's lock key is asked meanwhile: the engine talked to is the primary for nearly every
  // lab, and then locating the lab and asking the key are one round trip, not two in a row.
  engineLockKey(runtime, signal).catch(() => undefined);
  await requirePrimary(runtime, lab, { signal });
  const lock = await acquireLabLock({ engine: await engineLockKey(runtime, signal), lab, signal, ...options });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
