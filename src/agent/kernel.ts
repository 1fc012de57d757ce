// Running `ip` / `bridge` / `iptables` (the only side effects on kernel state), behind an interface.

import { execFile } from 'node:child_process';
import { BatchSession } from './batch-session.js';
import type { BatchTool } from './batch-session.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  run(argv: string[], opts?: { input?: string }): Promise<RunResult>;
  /** A long-lived `<tool> -force -batch -` for frequent batches (peer syncs); optional. */
  batchSession?(tool: BatchTool): BatchSession;
  /** Ends what the runner keeps running. */
  close?(): void;
}

export class ExecRunner implements CommandRunner {
  private readonly sessions = new Map<BatchTool, BatchSession>();

  batchSession(tool: BatchTool): BatchSession {
    let session = this.sessions.get(tool);
    if (!session) {
      session = new BatchSession(tool);
      this.sessions.set(tool, session);
    }
    return session;
  }

  close(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
  }

  run(argv: string[], opts: { input?: string } = {}): Promise<RunResult> {
    const [cmd, ...args] = argv;
    if (!cmd) return Promise.resolve({ code: 2, stdout: '', stderr: 'empty command' });
    return new Promise((resolve) => {
      const child = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024, timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && code === 127 ? err.message : '')) });
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    super(`${argv.join(' ')}: exit ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Runs and throws CommandError on a non-zero exit. */
export async function mustRun(r: CommandRunner, argv: string[]): Promise<string> {
  const res = await r.run(argv);
  if (res.code !== 0) throw new CommandError(argv, res);
  return res.stdout;
}

/** Runs a read command; a missing device ("does not exist") yields "". */
export async function readQuiet(r: CommandRunner, argv: string[]): Promise<string> {
  const res = await r.run(argv);
  return res.code === 0 ? res.stdout : '';
}
