// ssh://user@host as the docker CLI reaches it: every connection is `ssh … -- host docker system
// dial-stdio`, the remote docker CLI relaying the bytes to its engine's socket. BatchMode=yes: no
// prompt ever waits for a password or a host key (a missing key fails at once, and says so).
// The user's ssh config and agent apply as for any ssh they run. Connections to one host share
// one ssh session (ControlMaster, in a private directory, closing itself 10 s after the last
// use), so an exec costs a channel, not a handshake.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { setting } from '../shared/settings.js';
import { debugLog } from '../base/debug-log.js';

type Env = Record<string, string | undefined>;

export interface SshDestination {
  host: string;
  user?: string;
  port?: number;
}

/** How long the shared ssh session outlives its last connection. */
const CONTROL_PERSIST = '10s';

/** A directory only we may use for ControlMaster sockets, or none (then each connection is its own session). */
function controlDirectory(env: Env): string | undefined {
  if (setting('sshMultiplex', '1', env) === '0') return undefined;
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `overlab-ssh-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch {
    // exists (checked below) or cannot be made
  }
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
    return dir;
  } catch (error) {
    debugLog('runtime', `use ${dir} for ssh control sockets`, error);
    return undefined;
  }
}

/** This process's network namespace ("net:[4026531840]"): the same user@host:port seen from two
 * namespaces (two test rigs, two VPNs) may be two machines, so they never share a session. */
function networkNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return '';
  }
}

/** The shared session's socket: ssh's own %C (local host, remote host, port, user) after a prefix
 * for what %C does not see — the network namespace and the ssh config file overlab was told to use. */
export function controlPath(directory: string, env: Env): string {
  const scope = createHash('sha256').update(JSON.stringify([networkNamespace(), setting('sshConfig', '', env)])).digest('hex').slice(0, 12);
  return join(directory, `${scope}-%C`);
}

/** sshd refuses a crowd of unauthenticated connections (MaxStartups): while the first
 * connection to a destination sets up the shared session, the others wait for its socket. */
const masters = new Map<string, Promise<void>>();

function destinationKey(d: SshDestination, env: Env): string {
  return JSON.stringify([d.user ?? '', d.host, d.port ?? 0, setting('sshConfig', '', env)]);
}

/** Resolves when a connection to `destination` may start: at once for the first (it becomes
 * the shared session) and once that session's socket exists (or the first has ended) for the rest. */
export function sshTurn(destination: SshDestination, env: Env, first: () => SshDialStream): Promise<SshDialStream> {
  if (!controlDirectory(env)) return Promise.resolve(first());
  const key = destinationKey(destination, env);
  const ready = masters.get(key);
  if (ready) return ready.then(() => first());
  const stream = first();
  let settle!: () => void;
  const waiting = new Promise<void>((resolve) => (settle = resolve));
  masters.set(key, waiting);
  let polls = 0;
  const poll = setInterval(() => {
    // The session is up once some connection relayed a byte, or ssh ended either way.
    if (stream.answered || stream.destroyed || stream.readableEnded || ++polls > 600) {
      clearInterval(poll);
      settle();
      // A session that failed is not remembered: the next command tries again.
      if (!stream.answered) masters.delete(key);
    }
  }, 20);
  poll.unref();
  return Promise.resolve(stream);
}

/** The argv of one ssh connection (no shell: the remote command is constant text). */
export function sshDialArgv(destination: SshDestination, env: Env = process.env): string[] {
  const argv = ['-o', 'BatchMode=yes', '-T'];
  const config = setting('sshConfig', undefined, env);
  if (config) argv.push('-F', config);
  const control = controlDirectory(env);
  if (control) argv.push('-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath(control, env)}`, '-o', `ControlPersist=${CONTROL_PERSIST}`);
  if (destination.port !== undefined) argv.push('-p', String(destination.port));
  if (destination.user !== undefined) argv.push('-l', destination.user);
  // `--` and a host that never starts with `-` (engine-address.ts): the host is never an option.
  argv.push('--', destination.host.replace(/^\[(.*)\]$/, '$1'), 'docker', 'system', 'dial-stdio');
  return argv;
}

/** Raised when ssh itself fails (code ESSH): `stderr` is what ssh (or the remote shell) said. */
export class SshDialError extends Error {
  readonly code = 'ESSH';
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(exitCode: number | null, stderr: string) {
    const said = stderr.trim().split('\n').filter((l) => l.trim()).at(-1) ?? '';
    super(said || `ssh exited with ${exitCode ?? 'a signal'}`);
    this.name = 'SshDialError';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** The bytes of one ssh dial-stdio process as a socket-like stream for node:http. */
export class SshDialStream extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private received = false;

  /** Bytes came back through ssh: the session (and the engine behind it) answered. */
  get answered(): boolean {
    return this.received;
  }

  constructor(destination: SshDestination, env: Env = process.env) {
    // As a net.Socket: when ssh ends its output, our side ends too (then the stream closes).
    super({ allowHalfOpen: false });
    this.child = spawn('ssh', sshDialArgv(destination, env), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } as NodeJS.ProcessEnv });
    const { child } = this;
    let stdoutEnded = false;
    let exit: number | null | undefined;
    let stderrEnded = false;
    // ssh that failed before relaying a byte is an error with ssh's own words; otherwise the end
    // of its output is the end of the connection.
    const settle = () => {
      if (!stdoutEnded || exit === undefined || this.destroyed) return;
      if (this.received || exit === 0) {
        this.push(null);
        return;
      }
      const fail = () => {
        if (!this.destroyed) this.destroy(new SshDialError(exit ?? null, this.stderr));
      };
      if (stderrEnded) fail();
      else setTimeout(fail, 100).unref();
      child.stderr.once('end', fail);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      this.received = true;
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stdout.on('end', () => {
      stdoutEnded = true;
      if (this.received) this.push(null);
      else settle();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 8192) this.stderr += chunk.toString('utf8');
    });
    child.stderr.on('end', () => {
      stderrEnded = true;
    });
    child.stdin.on('error', () => undefined); // ssh gone: its exit says why
    child.on('error', (error) => this.destroy(Object.assign(new SshDialError(null, error.message), { code: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'ESSH_MISSING' : 'ESSH' })));
    child.on('exit', (code) => {
      exit = code;
      // A shared ssh session keeps ssh's stderr open after this client has gone: stop reading it
      // soon, so nothing holds the command's event loop for the session's lifetime.
      setTimeout(() => child.stderr.destroy(), 150).unref();
      if (!this.received) settle();
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (stdin.destroyed || stdin.writableEnded) return callback(); // ssh is gone: its exit says why
    stdin.write(chunk, () => callback());
  }

  /** Half-close: ssh sends EOF on the channel. Done however ssh's stdin ends (finished, broken
   * because ssh already left, closed) — a callback that never came would keep this stream, and
   * the exec reading it, open forever. */
  override _final(callback: (error?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (stdin.destroyed || stdin.writableFinished) return callback();
    let called = false;
    const done = () => {
      if (called) return;
      called = true;
      callback();
    };
    stdin.once('finish', done);
    stdin.once('error', done);
    stdin.once('close', done);
    this.child.once('exit', done);
    stdin.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    this.child.stdout.destroy();
    callback(error);
  }

  // node:http treats its connection as a net.Socket; timeouts and Nagle have no meaning for a
  // pipe, but ref/unref do: an idle kept-alive connection must not hold the command open.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { ref?: () => void }[]) s.ref?.();
    return this;
  }
  unref(): this {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
    return this;
  }
}
