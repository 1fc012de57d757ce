// The wrapper that ends a probe with its caller, run for real (the same sh text as in the lab
// containers): stdin's end stops the probe's whole process group; a probe that ends by itself
// ends the wrapper with its status; values stay positional.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { endingWithCaller } from '../../src/probes/stdin-bound.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

function run(argv: string[]): { child: ChildProcess; exited: Promise<number | null>; stdout: () => string } {
  const [cmd, ...args] = endingWithCaller(argv);
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  return { child, exited: new Promise((r) => child.on('exit', (code) => r(code))), stdout: () => out };
}

async function until<T>(what: string, read: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a probe ends with its caller (ENDS_WITH_STDIN_SCRIPT)', () => {
  it("stops the probe's whole process group when stdin ends, background children included", async () => {
    const p = run(['sh', '-c', 'sleep 300 & echo "bg $!"; sleep 301 & echo "bg $!"; wait']);
    const pids = await until('two background sleeps', () => {
      const found = [...p.stdout().matchAll(/^bg (\d+)$/gm)].map((m) => Number(m[1]));
      return found.length === 2 ? found : undefined;
    });
    for (const pid of pids) expect(alive(pid)).toBe(true);
    const closed = Date.now();
    p.child.stdin!.end(); // what the engine does when the CLI's exec connection closes
    await p.exited;
    expect(Date.now() - closed).toBeLessThan(2_000);
    await until('every sleep gone', () => (pids.every((pid) => !alive(pid)) ? true : undefined));
  });

  it('a probe that ends by itself ends the wrapper with its exit status', async () => {
    const p = run(['sh', '-c', 'exit 7']);
    expect(await p.exited).toBe(7);
  });

  it('passes values as arguments, never as shell text', async () => {
    const dir = mkdtempSync('/tmp/overlab-stdin-bound-');
    const trap = join(dir, 'pwned');
    const p = run(['echo', `$(touch ${trap})`, ';', 'id']);
    expect(await p.exited).toBe(0);
    expect(p.stdout()).toBe(`$(touch ${trap}) ; id\n`);
    expect(existsSync(trap)).toBe(false);
  });
});
