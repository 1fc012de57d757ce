// A long-lived `ip -force -batch -` (or `bridge …`): the peer sync writes its lines to the stdin of
// a process that is already running instead of starting one per sync. When 64 hosts program a
// joining peer at the same moment on a small machine, starting two processes each was most of the
// 1–2 s it took; writing a few lines to a pipe is not.
//
// Where a group of lines ends: after them comes a sentinel command that always fails without
// ending the process (`link show dev overlab-sentinel`: 16 characters, longer than any interface
// name can be), so its "Command failed -:<line>" on stderr says every line before it was run, and
// any failure of those lines was reported before it (stderr is written in order, unbuffered).
// iproute2 caches interface indexes for the life of the process, so after a group with a failure
// the process is replaced. A process that dies or stalls gives `null`: the caller runs the group
// in a fresh one-shot process instead.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
/** The iproute2 tools that read a batch on stdin. */
export type BatchTool = 'ip' | 'bridge';

export const SENTINEL: Record<BatchTool, string> = {
  ip: 'link show dev overlab-sentinel',
  bridge: 'fdb show dev overlab-sentinel',
};

export interface SessionResult {
  /** Index (in the group) → the error text iproute2 printed for that line. */
  failedAt: Map<number, string>;
  /** Processes started for this group (0 or 1). */
  processes: number;
}

export type Spawner = (tool: string, args: string[]) => ChildProcessWithoutNullStreams;

const defaultSpawn: Spawner = (tool, args) => spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });

interface Waiting {
  /** Line numbers (1-based, counted over the process's life) of the group's first line and sentinel. */
  first: number;
  sentinel: number;
  resolve: (r: SessionResult | null) => void;
  timer: NodeJS.Timeout;
  processes: number;
}

export class BatchSession {
  private child: ChildProcessWithoutNullStreams | null = null;
  private written = 0;
  private stderr = '';
  private waiting: Waiting | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly tool: BatchTool,
    private readonly spawner: Spawner = defaultSpawn,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Runs the lines (already checked batch lines) in order; one group at a time. */
  run(lines: string[]): Promise<SessionResult | null> {
    const next = this.queue.then(() => this.once(lines));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = this.spawner(this.tool, ['-force', '-batch', '-']);
    this.child = child;
    this.written = 0;
    this.stderr = '';
    child.stdout.resume(); // the commands sent print nothing; never let a full pipe stall it
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => this.onStderr(chunk));
    child.stdin.on('error', () => this.lost(child));
    child.on('error', () => this.lost(child));
    child.on('exit', () => this.lost(child));
    return child;
  }

  private once(lines: string[]): Promise<SessionResult | null> {
    if (this.closed || lines.length === 0) return Promise.resolve(lines.length === 0 ? { failedAt: new Map(), processes: 0 } : null);
    let processes = 0;
    let child = this.child;
    if (!child) {
      child = this.start();
      processes = 1;
    }
    const first = this.written + 1;
    const sentinel = this.written + lines.length + 1;
    this.written = sentinel;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.discard();
        this.settle(null);
      }, this.timeoutMs);
      this.waiting = { first, sentinel, resolve, timer, processes };
      child.stdin.write(`${lines.join('\n')}\n${SENTINEL[this.tool]}\n`);
    });
  }

  private onStderr(chunk: string): void {
    this.stderr += chunk;
    const w = this.waiting;
    if (!w) {
      this.stderr = this.stderr.slice(-4096);
      return;
    }
    const done = new RegExp(`(?:^|\\n)Command failed -:${w.sentinel}\\s*\\n`).exec(this.stderr);
    if (!done) return;
    const text = this.stderr.slice(0, done.index);
    this.stderr = this.stderr.slice(done.index + done[0].length);
    const failedAt = failuresIn(text, w.first);
    if (failedAt.size > 0) this.discard(); // its cached interface indexes may be stale
    this.settle({ failedAt, processes: w.processes });
  }

  private settle(result: SessionResult | null): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = null;
    clearTimeout(w.timer);
    w.resolve(result);
  }

  private lost(child: ChildProcessWithoutNullStreams): void {
    if (this.child !== child) return;
    this.child = null;
    this.settle(null);
  }

  /** Ends the current process (the next group starts a new one). */
  private discard(): void {
    const child = this.child;
    this.child = null;
    if (!child) return;
    child.stdin.end();
    child.kill('SIGTERM');
  }

  /** No more groups; the process ends. */
  close(): void {
    this.closed = true;
    this.discard();
    this.settle(null);
  }
}

/** Pure: the failures stderr reports for the lines numbered from `first` on (each failure's text
 * comes before its "Command failed -:<line>"), as group indexes. */
export function failuresIn(stderr: string, first: number): Map<number, string> {
  const failedAt = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Command failed -:(\d+)\s*$/.exec(line.trim());
    if (m) {
      const index = Number(m[1]) - first;
      if (index >= 0) failedAt.set(index, pending.join(' ').trim() || 'failed');
      pending = [];
    } else if (line.trim()) pending.push(line.trim());
  }
  return failedAt;
}
