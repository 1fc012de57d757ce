// The node supervisor's constant bash text, run for real on this machine (bash, sleep, kill: what
// every lab container has): restarts with backoff, wants applied on SIGHUP, new declarations
// picked up, TERM passed on, argv never evaluated. Polls with deadlines, never fixed sleeps.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  encodeDeclaration,
  NODE_INIT_SCRIPT,
  parseDaemonStatus,
  declarationEntries,
  daemonNameProblem,
  type DaemonStatus,
  NODE_INIT_COMMAND,
  NODE_BOOT_SCRIPT,
  NODE_INIT_ARGV,
  NODE_INIT_PATH,
  DAEMON_CONTROL_PATH,
  DAEMON_CONTROL_SCRIPT,
  DAEMONS_DIR,
  DAEMON_STATE_DIR,
} from '../../src/plan/node-init.js';

let children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
});

async function supervisor(): Promise<{ dir: string; decl: string; state: string; child: ChildProcess }> {
  const dir = mkdtempSync('/tmp/overlab-init-test-');
  const decl = join(dir, 'daemons');
  const state = join(dir, 'state');
  mkdirSync(decl);
  const child = spawn('bash', ['--noprofile', '--norc', '-c', NODE_INIT_SCRIPT, 'overlab-init', decl, state], { stdio: 'ignore' });
  children.push(child);
  // It says it listens (SIGHUP before that would end it, as it ends any process).
  await until('the supervisor', () => (existsSync(join(state, 'init.pid')) ? true : undefined));
  return { dir, decl, state, child };
}

async function until<T>(what: string, read: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function status(state: string, name: string): DaemonStatus | undefined {
  const file = join(state, `${name}.status`);
  return existsSync(file) ? parseDaemonStatus(readFileSync(file, 'utf8')) : undefined;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('node supervisor (NODE_INIT_SCRIPT)', () => {
  it('starts a declared daemon and starts it again after it exits, with backoff, noting each exit', async () => {
    const s = await supervisor();
    const out = join(s.dir, 'flaky.out');
    writeFileSync(join(s.decl, 'flaky'), encodeDeclaration({ name: 'flaky', output: out, argv: ['sh', '-c', 'echo "run $$"; exit 3'] }));
    s.child.kill('SIGHUP');
    const log = await until('the third run in its output', () => {
      const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
      return (text.match(/^run \d+$/gm)?.length ?? 0) >= 3 ? text : undefined;
    }, 15_000);
    // The third run may print before the supervisor has noted it in its status file: poll that too.
    const starts = await until('the third start in its status', () => ((status(s.state, 'flaky')?.starts ?? 0) >= 3 ? status(s.state, 'flaky')!.starts : undefined));
    expect(starts).toBeGreaterThanOrEqual(3);
    expect(log).toMatch(/overlab-init: flaky exited \(3\); starting it again in 1 s/);
    expect(log).toMatch(/overlab-init: flaky exited \(3\); starting it again in 2 s/);
  }, 20_000);

  it('holds a daemon whose want is down (TERM, not started again) and starts it when the want is up', async () => {
    const s = await supervisor();
    writeFileSync(join(s.decl, 'sleeper'), encodeDeclaration({ name: 'sleeper', output: join(s.dir, 'sleeper.out'), argv: ['sleep', '300'] }));
    s.child.kill('SIGHUP');
    const first = await until('a running sleeper', () => (status(s.state, 'sleeper')?.state === 'running' ? status(s.state, 'sleeper') : undefined));
    expect(alive(first.pid)).toBe(true);
    writeFileSync(join(s.state, 'sleeper.want'), 'down\n');
    s.child.kill('SIGHUP');
    await until('held', () => (status(s.state, 'sleeper')?.state === 'held' ? true : undefined));
    await until('the old process gone', () => (alive(first.pid) ? undefined : true));
    writeFileSync(join(s.state, 'sleeper.want'), 'up\n');
    s.child.kill('SIGHUP');
    const second = await until('running again', () => {
      const st = status(s.state, 'sleeper');
      return st?.state === 'running' && st.pid !== first.pid ? st : undefined;
    });
    expect(second.starts).toBe(2);
    expect(alive(second.pid)).toBe(true);
  }, 20_000);

  it('signals in quick succession never leave two copies of a daemon, nor one running that is wanted down', async () => {
    const s = await supervisor();
    // A duration no other process has: its copies are found by their command line.
    const marker = `${300 + (process.pid % 1000)}.${Date.now() % 100000}`;
    writeFileSync(join(s.decl, 'toggled'), encodeDeclaration({ name: 'toggled', output: join(s.dir, 't.out'), argv: ['sleep', marker] }));
    s.child.kill('SIGHUP');
    const copies = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && alive(Number(p))).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${marker}\0`;
      } catch {
        return false;
      }
    }).length;
    for (let i = 0; i < 20; i++) {
      writeFileSync(join(s.state, 'toggled.want'), i % 2 === 0 ? 'down\n' : 'up\n');
      s.child.kill('SIGHUP');
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    // The last want was up.
    await until('one copy running', () => (status(s.state, 'toggled')?.state === 'running' && copies() === 1 ? true : undefined));
    writeFileSync(join(s.state, 'toggled.want'), 'down\n');
    s.child.kill('SIGHUP');
    await until('held, no copy left', () => (status(s.state, 'toggled')?.state === 'held' && copies() === 0 ? true : undefined));
  }, 30_000);

  it('SIGHUP starts a daemon waiting out its backoff at once', async () => {
    const s = await supervisor();
    const marker = join(s.dir, 'ready');
    // Fails until the marker exists; then stays up.
    writeFileSync(join(s.decl, 'needs-marker'), encodeDeclaration({ name: 'needs-marker', output: join(s.dir, 'nm.out'), argv: ['sh', '-c', 'test -e "$1" || exit 1; exec sleep 300', 'sh', marker] }));
    s.child.kill('SIGHUP');
    await until('backoff of 4 s or more', () => ((status(s.state, 'needs-marker')?.starts ?? 0) >= 3 ? true : undefined), 15_000);
    writeFileSync(marker, '');
    const asked = Date.now();
    s.child.kill('SIGHUP');
    await until('running', () => (status(s.state, 'needs-marker')?.state === 'running' ? true : undefined));
    expect(Date.now() - asked).toBeLessThan(1_500);
  }, 25_000);

  it('TERM stops every daemon, then the supervisor', async () => {
    const s = await supervisor();
    writeFileSync(join(s.decl, 'a'), encodeDeclaration({ name: 'a', output: join(s.dir, 'a.out'), argv: ['sleep', '300'] }));
    writeFileSync(join(s.decl, 'b'), encodeDeclaration({ name: 'b', output: join(s.dir, 'b.out'), argv: ['sleep', '301'] }));
    s.child.kill('SIGHUP');
    const pids = await until('both running', () => {
      const a = status(s.state, 'a');
      const b = status(s.state, 'b');
      return a?.state === 'running' && b?.state === 'running' ? [a.pid, b.pid] : undefined;
    });
    const exited = new Promise<number | null>((r) => s.child.on('exit', (code) => r(code)));
    s.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 20_000);

  it('never evaluates a declaration: shell text in the argv stays text', async () => {
    const s = await supervisor();
    const out = join(s.dir, 'echo.out');
    const trap = join(s.dir, 'pwned');
    writeFileSync(join(s.decl, 'echo'), encodeDeclaration({ name: 'echo', output: out, argv: ['echo', `$(touch ${trap})`, '`id`', '; rm -rf /'] }));
    s.child.kill('SIGHUP');
    await until('its output', () => (existsSync(out) && readFileSync(out, 'utf8').includes('rm') ? true : undefined));
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(`$(touch ${trap}) \`id\` ; rm -rf /`);
    expect(existsSync(trap)).toBe(false);
  }, 20_000);
});

describe('the container command (NODE_BOOT_SCRIPT)', () => {
  it('carries both texts, writes them into place and becomes the supervisor (same PID, the argv ps shows)', async () => {
    expect(NODE_INIT_COMMAND.slice(0, 5)).toEqual(['bash', '--noprofile', '--norc', '-c', NODE_BOOT_SCRIPT]);
    expect(NODE_INIT_COMMAND.slice(-2)).toEqual([NODE_INIT_SCRIPT, DAEMON_CONTROL_SCRIPT]);
    // Its paths are a node's; here they move under a directory of the test's own.
    const root = mkdtempSync('/tmp/overlab-boot-test-');
    const paths = [NODE_INIT_PATH, DAEMON_CONTROL_PATH, DAEMONS_DIR, DAEMON_STATE_DIR, '/opt/overlab', '/usr/local/bin'];
    for (const p of paths) expect(NODE_BOOT_SCRIPT).toContain(p);
    const anyPath = new RegExp(`(${[...paths].sort((a, b) => b.length - a.length).join('|')})`, 'g');
    const boot = NODE_BOOT_SCRIPT.replace(anyPath, `${root}$1`);
    const child = spawn('bash', ['--noprofile', '--norc', '-c', boot, ...NODE_INIT_COMMAND.slice(5)], { stdio: 'ignore' });
    children.push(child);
    const pid = await until('the supervisor', () => (existsSync(`${root}${DAEMON_STATE_DIR}/init.pid`) ? Number(readFileSync(`${root}${DAEMON_STATE_DIR}/init.pid`, 'utf8')) : undefined));
    expect(pid).toBe(child.pid);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1)).toEqual(NODE_INIT_ARGV.map((a) => (a.startsWith('/') ? `${root}${a}` : a)));
    expect(readFileSync(`${root}${NODE_INIT_PATH}`, 'utf8')).toBe(NODE_INIT_SCRIPT);
    expect(readFileSync(`${root}${DAEMON_CONTROL_PATH}`, 'utf8')).toBe(`#!/bin/bash\n${DAEMON_CONTROL_SCRIPT}`);
    expect(statSync(`${root}${DAEMON_CONTROL_PATH}`).mode & 0o777).toBe(0o755);
    expect(readdirSync(`${root}/usr/local/bin`)).toEqual(['overlab-daemon']);
  }, 20_000);
});

describe('daemon declarations', () => {
  it('are NUL-separated fields, output first', () => {
    expect(encodeDeclaration({ name: 'etcd', output: '/var/log/etcd.log', argv: ['etcd', '--name', 'x y'] }).toString()).toBe('/var/log/etcd.log\0etcd\0--name\0x y\0');
  });

  it('refuse what the supervisor could not read back', () => {
    expect(() => encodeDeclaration({ name: 'Bad/name', output: '/x', argv: ['a'] })).toThrow(/daemon's name/);
    expect(() => encodeDeclaration({ name: 'ok', output: 'relative', argv: ['a'] })).toThrow(/absolute/);
    expect(() => encodeDeclaration({ name: 'ok', output: '/x', argv: [] })).toThrow(/empty/);
    expect(() => encodeDeclaration({ name: 'ok', output: '/x', argv: ['a\0b'] })).toThrow(/NUL/);
    expect(daemonNameProblem('bird')).toBeUndefined();
    expect(daemonNameProblem('-x')).toBeDefined();
  });

  it('come with their want', () => {
    const names = declarationEntries([{ name: 'agent', output: '/var/log/a.out', argv: ['node', 'a.js'] }], 'up').map((e) => e.name);
    expect(names).toEqual(['etc/overlab/daemons/', 'run/overlab/daemons/', 'etc/overlab/daemons/agent', 'run/overlab/daemons/agent.want']);
  });

  it('status lines parse, anything else does not', () => {
    expect(parseDaemonStatus('pid=12 starts=2 want=up state=running exit=none\n')).toEqual({ pid: 12, starts: 2, want: 'up', state: 'running', exit: 'none' });
    expect(parseDaemonStatus('pid=0 starts=2 want=down state=held exit=143\n')?.state).toBe('held');
    expect(parseDaemonStatus('')).toBeUndefined();
  });
});
