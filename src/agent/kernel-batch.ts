// Many `ip` (or `bridge`) commands in one process: `ip -force -batch -` reads one command per
// line from stdin, carries on past a failing line and names it on stderr ("Command failed -:N").
// The argv of the process is fixed; only the batch text varies, and every token of it must be a
// plain word (no blanks, quotes, `;`, `#`, newlines), so no value can split a line or start another.

import type { BatchTool } from './batch-session.js';
import type { CommandRunner } from './kernel.js';
import { shown } from './lease-rules.js';


const TOKEN_RE = /^[A-Za-z0-9_.:/-]+$/;

export class BatchTokenError extends Error {}

/** One batch line from an argv list (`['ip', 'route', 'replace', …]` gives `route replace …`). */
export function batchLine(tool: BatchTool, argv: readonly string[]): string {
  if (argv[0] !== tool) throw new BatchTokenError(`a ${tool} batch cannot run ${shown(argv[0])}`);
  const words = argv.slice(1);
  if (words.length === 0) throw new BatchTokenError('empty batch command');
  for (const w of words) if (!TOKEN_RE.test(w)) throw new BatchTokenError(`refusing ${shown(w)} in a batch line: not a plain word`);
  return words.join(' ');
}

export interface BatchFailure {
  argv: string[];
  error: string;
}

export interface BatchResult {
  /** Commands that succeeded, in order. */
  done: string[][];
  failed: BatchFailure[];
  /** Processes started (0 for an empty batch, else 1). */
  processes: number;
}

/** Runs argv lists of one tool in one process — the runner's long-lived one when it keeps one
 * (batch-session.ts) and `persistent` is asked for, else a new one; reports per command what failed. */
export async function runBatch(runner: CommandRunner, tool: BatchTool, commands: readonly string[][], options: { persistent?: boolean } = {}): Promise<BatchResult> {
  if (commands.length === 0) return { done: [], failed: [], processes: 0 };
  const lines = commands.map((argv) => batchLine(tool, argv));
  const session = options.persistent ? runner.batchSession?.(tool) : undefined;
  const kept = session ? await session.run(lines) : null;
  if (kept) return split(commands, kept.failedAt, kept.processes);
  const r = await runner.run([tool, '-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
  if (r.code === 0) return { done: [...commands], failed: [], processes: 1 };
  // stderr: the error text of a failing line, then "Command failed -:<line>"
  const failedAt = new Map<number, string>();
  let pending: string[] = [];
  for (const line of r.stderr.split('\n')) {
    const m = /^Command failed -:(\d+)\s*$/.exec(line.trim());
    if (m) {
      failedAt.set(Number(m[1]) - 1, pending.join(' ').trim() || 'failed');
      pending = [];
    } else if (line.trim()) pending.push(line.trim());
  }
  if (failedAt.size === 0) {
    // no line named (the tool itself failed): count every command as failed
    const error = r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`;
    return { done: [], failed: commands.map((argv) => ({ argv: [...argv], error })), processes: 1 };
  }
  return split(commands, failedAt, 1);
}

function split(commands: readonly string[][], failedAt: Map<number, string>, processes: number): BatchResult {
  const done: string[][] = [];
  const failed: BatchFailure[] = [];
  commands.forEach((argv, i) => {
    const error = failedAt.get(i);
    if (error === undefined) done.push([...argv]);
    else failed.push({ argv: [...argv], error });
  });
  return { done, failed, processes };
}
