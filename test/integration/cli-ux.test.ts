// The CLI as people already use docker and kubectl, on one real lab (flannel VXLAN, so there is
// an agent whose log to follow): progress on stderr and the result alone on stdout, a shell on a
// node through a real pseudo-terminal, streamed output, logs --follow, report --out -.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, downLabs, overlab, overlabJson, ROOT, seedAs } from './harness.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { withLabLock } from '../../src/lab/lab-lock.js';

const LAB = 'cli-ux';
const HOST1 = `overlab-${LAB}-host1`;
let dir: string;
let up: { exitCode: number; stdout: string; stderr: string };

/** A running overlab whose output is collected as it comes. */
function start(args: string[]) {
  const child = spawn('node', [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), wake()));
  child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), wake()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (wake(), resolve(code))));
  const until = async (pattern: RegExp, what: string) => {
    const deadline = Date.now() + 20_000;
    while (!pattern.test(stdout)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${what} (exit ${child.exitCode}); stdout: ${stdout}; stderr: ${stderr}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  return { child, exited, until, out: () => stdout, err: () => stderr };
}

/** Processes in a lab container whose command line contains `text`. */
async function processesIn(container: string, text: string): Promise<string[]> {
  const r = await execa('docker', ['exec', container, 'pgrep', '-af', '--', text], { reject: false });
  return r.stdout.split('\n').filter((l) => l.includes(text) && !l.includes('pgrep'));
}

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-cli-ux-');
  await downLabs([LAB]);
  // `overlab up x > out`: stdout to a file, as a shell redirection gives it.
  const r = await execa('node', [CLI, 'up', await seedAs('flannel-vxlan', LAB)], { cwd: ROOT, reject: false, stdout: { file: `${dir}/out` }, env: { NO_COLOR: '1' } });
  up = { exitCode: r.exitCode ?? 1, stdout: await readFile(`${dir}/out`, 'utf8'), stderr: r.stderr };
}, 240_000);

afterAll(async () => {
  await downLabs([LAB]);
  await rm(dir, { recursive: true, force: true });
});

describe('output where it belongs', () => {
  it('`overlab up x > out` writes only the result to out; the phases go to stderr', () => {
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`^✓ lab ${LAB} is up \\(\\d+\\.\\d s\\)\\n`));
    expect(up.stdout).toContain(`next: overlab verify ${LAB}`);
    expect(up.stdout).not.toMatch(/Start the underlay switch|Mark the lab complete|✔|❯/);
    expect(up.stderr).toMatch(/Start the underlay switch/);
    expect(up.stderr).toMatch(/Mark the lab complete/);
  });

  it('report --out - writes the page to stdout while each check and trace shows on stderr', async () => {
    const r = await overlab(['report', LAB, '--out', '-', '--trace', 'host1/pod1:host2/pod1']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^<!doctype html>/i);
    expect(r.stdout.trimEnd()).toMatch(/<\/html>$/);
    expect(r.stderr).toMatch(/^✓ a pod on host1 reaches a pod on host2 \(\d+\.\d s\)$/m);
    expect(r.stderr).toMatch(/^✓ host1\/pod1 → host2\/pod1: delivered in \d+ hops/m);
    expect(r.stderr).toMatch(/wrote the page to stdout/);
    const json = await overlab(['report', LAB, '--out', '-', '--json']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 2, message: expect.stringContaining('--out -') });
  });
});

describe('exec', () => {
  it('without a command opens a shell with a terminal: the window\'s size and its changes, Ctrl-C to the shell, its exit code', async () => {
    const steps = [
      { size: [33, 101] },
      { expect: '(host1/pod1)root@host1:' }, // the prompt names the pod, in the pod's namespace
      { send: 'stty size; tty; ip -br link show eth0\n' },
      { expect: '33 101' },
      { expect: '/dev/pts/' },
      { size: [40, 120] }, // SIGWINCH to overlab, which resizes the lab's terminal
      { sendUntil: 'stty size\n', expect: '40 120', timeout: 10 },
      // The command says when it runs (the typed line's echo says only that bash read it).
      { send: "sh -c 'echo sleeping-now; exec sleep 30'\n" },
      { expect: 'sleeping-now\r\n' },
      { send: '\u0003' }, // Ctrl-C: a byte for the shell's terminal, not a signal to overlab
      { send: 'echo "after-$?"\n' },
      { expect: 'after-130' },
      { send: 'exit 5\n' },
    ];
    // After overlab, the terminal's own settings must be back (cooked: canonical input, echo, output processing).
    const shellLine = `node ${CLI} exec ${LAB} host1/pod1; echo "overlab-exit=$?"; stty -a`;
    const r = await execa('python3', [`${ROOT}test/support/pty-session.py`, JSON.stringify(steps), 'sh', '-c', shellLine], { cwd: ROOT, reject: false });
    const session = JSON.parse(r.stdout) as { exitCode: number; transcript: string; failed: string | null };
    expect(session.failed, session.transcript).toBeNull();
    expect(session.transcript).toContain('overlab-exit=5');
    const after = session.transcript.slice(session.transcript.indexOf('overlab-exit=5'));
    expect(after).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(after).toMatch(/(^|\s)echo(\s|$)/m);
    expect(after).toMatch(/(^|\s)opost(\s|$)/m);
    expect(session.transcript).toMatch(/eth0@\S+\s+UP/);
    expect(session.transcript).not.toContain('\r\r\n'); // output passed on as the lab's terminal made it
    expect(await processesIn(HOST1, 'sleep 30')).toEqual([]);
  });

  it('with a command streams stdout and stderr apart as they come, and passes the exit code on', async () => {
    const marker = `/tmp/cli-ux-go-${process.pid}`;
    const run = start(['exec', LAB, 'host1', '--', 'sh', '-c', `echo ready; echo oops >&2; while [ ! -e ${marker} ]; do sleep 0.05; done; echo done; exit 4`]);
    await run.until(/^ready\n$/, '"ready" while the command still runs');
    expect(run.child.exitCode).toBeNull(); // output came before the end: it streams
    await execa('docker', ['exec', HOST1, 'touch', marker]);
    expect(await run.exited).toBe(4);
    expect(run.out()).toBe('ready\ndone\n');
    expect(run.err()).toBe('oops\n');
  });

  it('a command without a terminal ends with overlab: Ctrl-C gives 130 and, like a SIGKILLed overlab, leaves nothing running in the node', async () => {
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const marker = `cli-ux-orphan-${signal}-${process.pid}`;
      // The command names its marker, so the node's process list tells whether it still runs.
      const run = start(['exec', LAB, 'host1', '--', 'sh', '-c', 'echo ready; sleep 300; echo "$0"', marker]);
      await run.until(/^ready\n$/, `"ready" from the command (${signal})`);
      expect(await processesIn(HOST1, marker)).not.toEqual([]);
      run.child.kill(signal);
      expect(await run.exited).toBe(signal === 'SIGINT' ? 130 : null);
      const deadline = Date.now() + 5_000;
      while ((await processesIn(HOST1, marker)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await processesIn(HOST1, marker), `${signal}: the command outlived overlab`).toEqual([]);
    }
  });

  it('reads a script from stdin when stdin is not a terminal; --json keeps the buffered envelope', async () => {
    const r = await execa('node', [CLI, 'exec', LAB, 'host2'], { cwd: ROOT, reject: false, input: 'echo "$(hostname) $((6 * 7))"\nexit 3\n' });
    expect(r.stdout).toBe('host2 42');
    expect(r.exitCode).toBe(3);
    const json = await overlab(['exec', LAB, 'host2', '--json', '--', 'sh', '-c', 'echo hi; exit 2']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 2, result: { stdout: 'hi\n', exitCode: 2 } });
    const noShell = await overlab(['exec', LAB, 'host2', '--json']);
    expect(noShell.exitCode).toBe(2);
  });
});

describe('logs --follow', () => {
  it('prints lines as the agent writes them and ends on Ctrl-C with 130, leaving nothing running in the lab', async () => {
    const { body } = await overlabJson<{ file: string; log: string }>(['logs', LAB, 'host1']);
    expect(body.result.log).toMatch(/INFO/);
    const follow = start(['logs', LAB, 'host1', '--follow', '--tail', '1']);
    await follow.until(/.+\n/, 'the last line');
    await execa('docker', ['exec', HOST1, 'sh', '-c', 'echo "$1" >> "$2"', 'sh', `a new line ${process.pid}`, body.result.file]);
    await follow.until(new RegExp(`a new line ${process.pid}\\n`), 'the appended line');
    expect(follow.out().split('\n').filter(Boolean)).toHaveLength(2); // --tail 1, then the new one
    expect(await processesIn(HOST1, `-F ${body.result.file}`)).toHaveLength(1);
    follow.child.kill('SIGINT');
    expect(await follow.exited).toBe(130);
    expect(follow.err()).toBe(''); // no "cleaning up": there is nothing to clean
    // The engine closed the follower's stdin with overlab's connection: its tail is gone too.
    const deadline = Date.now() + 5_000;
    while ((await processesIn(HOST1, `-F ${body.result.file}`)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await processesIn(HOST1, `-F ${body.result.file}`)).toEqual([]);
  });
});

describe('one lab lock per engine', () => {
  it('however the socket is spelt: /run/docker.sock holds it, a process reaching /var/run/docker.sock waits for it and names the holder', async () => {
    const holder = new DockerRuntime({ socketPath: '/run/docker.sock' });
    const viaOtherPath = { DOCKER_HOST: 'unix:///var/run/docker.sock', OVERLAB_LOCK_WAIT_MS: '300' };
    await withLabLock(holder, 'cli-lock', new AbortController().signal, async () => {
      const r = await overlab(['down', 'cli-lock'], viaOtherPath);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toContain(`lab "cli-lock" is being changed by another overlab process (pid ${process.pid}`);
    });
    const free = await overlab(['down', 'cli-lock'], viaOtherPath);
    expect(free.exitCode, free.stderr).toBe(0);
  });
});
