// The udp backend's native data path: the `udp-proxy` helper (native/udp-proxy.c, flannel's
// proxy.c) forwards every packet; the agent only feeds it the subnet table and reads its counters.
//
//   udp-proxy --tun-fd 3 --bind <publicIp>:<port>      fd 3 = the agent's attached TUN descriptor
//
// Control channel: the child's stdin (commands, one per line) and stdout (exactly one reply line
// per command, in order; first the "ready <pid>" line after the bind). The proxy exits when its
// stdin closes, i.e. when the agent exits or dies, and has PR_SET_PDEATHSIG as a second guard.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from '../log.js';

export const PROXY_COUNTERS = [
  'tunToUdp',
  'udpToTun',
  'tunToUdpBytes',
  'udpToTunBytes',
  'unknownSubnetDrops',
  'netUnreachableSent',
  'ttlDrops',
  'malformedDrops',
  'otherDrops',
  'sendErrors',
  'tunWriteErrors',
] as const;
export type ProxyCounterName = (typeof PROXY_COUNTERS)[number];
export type ProxyCounters = Record<ProxyCounterName, number>;

/** Parses the proxy's reply to `stats`: "stats tunToUdp 1 udpToTun 2 …" (unknown names ignored). */
export function parseProxyStats(line: string): ProxyCounters | null {
  const t = line.trim().split(/\s+/);
  if (t[0] !== 'stats') return null;
  const out = Object.fromEntries(PROXY_COUNTERS.map((k) => [k, 0])) as ProxyCounters;
  for (let i = 1; i + 1 < t.length; i += 2) {
    const k = t[i] as string;
    const v = Number(t[i + 1]);
    if ((PROXY_COUNTERS as readonly string[]).includes(k) && Number.isFinite(v)) out[k as ProxyCounterName] = v;
  }
  return out;
}

interface Pending {
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

export interface ProxyOptions {
  path: string;
  tunFd: number;
  bindIp: string;
  port: number;
  log: Logger;
  /** Called when the proxy exits without stop() (crash, killed). */
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** One running udp-proxy child. */
export class UdpProxy {
  private readonly child: ChildProcess;
  private readonly pending: Pending[] = [];
  private buf = '';
  private readyLine: Pending | null = null;
  private exited = false;
  private stopping = false;
  private readonly exitPromise: Promise<void>;
  private exitResolve: () => void = () => undefined;

  private constructor(private readonly o: ProxyOptions) {
    this.child = spawn(o.path, ['--tun-fd', '3', '--bind', `${o.bindIp}:${o.port}`], { stdio: ['pipe', 'pipe', 'pipe', o.tunFd] });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (d: string) => this.onData(d));
    this.child.stderr?.setEncoding('utf8');
    let errBuf = '';
    this.child.stderr?.on('data', (d: string) => {
      errBuf += d;
      let i: number;
      while ((i = errBuf.indexOf('\n')) >= 0) {
        const line = errBuf.slice(0, i).trim();
        errBuf = errBuf.slice(i + 1);
        if (line) o.log.warn(`udp-proxy: ${line}`);
      }
    });
    this.child.stdin?.on('error', () => undefined); // EPIPE after the child died: reported via exit
    this.exitPromise = new Promise((resolve) => {
      this.exitResolve = resolve;
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        const e = new Error(`udp-proxy exited (${signal ?? `code ${String(code)}`})`);
        this.readyLine?.reject(e);
        this.readyLine = null;
        for (const p of this.pending.splice(0)) p.reject(e);
        if (!this.stopping) o.onExit(code, signal);
        resolve();
      });
    });
    this.child.once('error', (e) => {
      // spawn failure (ENOENT, EACCES): no 'exit' follows
      if (this.exited) return;
      this.exited = true;
      this.readyLine?.reject(e);
      this.readyLine = null;
      for (const p of this.pending.splice(0)) p.reject(e);
      this.exitResolve();
    });
  }

  /** Spawns the proxy and waits (up to 15 s: it retries a busy port for 10 s) until it has bound the port. */
  static async start(o: ProxyOptions): Promise<UdpProxy> {
    const p = new UdpProxy(o);
    const line = await new Promise<string>((resolve, reject) => {
      p.readyLine = { resolve, reject };
      setTimeout(() => reject(new Error('udp-proxy did not report ready within 15 s')), 15_000).unref();
    }).catch(async (e: Error) => {
      await p.stop();
      throw e;
    });
    if (!/^ready \d+$/.test(line)) {
      await p.stop();
      throw new Error(`udp-proxy: unexpected first line ${JSON.stringify(line)}`);
    }
    return p;
  }

  get pid(): number | undefined {
    return this.exited ? undefined : this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      if (this.readyLine) {
        const r = this.readyLine;
        this.readyLine = null;
        r.resolve(line);
        continue;
      }
      const p = this.pending.shift();
      if (!p) this.o.log.warn(`udp-proxy: unexpected output ${JSON.stringify(line)}`);
      else if (line.startsWith('err ')) p.reject(new Error(`udp-proxy: ${line.slice(4)}`));
      else p.resolve(line);
    }
  }

  /** Sends one command; resolves with its reply line ("ok", "stats …"), rejects on "err …". */
  command(cmd: string): Promise<string> {
    if (this.exited || !this.child.stdin) return Promise.reject(new Error('udp-proxy is not running'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin?.write(cmd + '\n');
    });
  }

  async stats(): Promise<ProxyCounters> {
    const line = await this.command('stats');
    const s = parseProxyStats(line);
    if (!s) throw new Error(`udp-proxy: bad stats reply ${JSON.stringify(line)}`);
    return s;
  }

  /** Closes the control channel (the proxy exits on EOF); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    this.child.stdin?.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exitPromise;
    clearTimeout(t);
  }
}
