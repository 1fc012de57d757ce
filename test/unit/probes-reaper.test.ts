// The PID-file wrapper and the reaper run for real (the same sh texts as in the lab containers):
// a leftover probe is stopped by its PID file, and nothing else ever is.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendingOutputTo, bounded, recordingPid } from '../../src/plan/process-argv.js';
import { reapArgv, reapedPids } from '../../src/probes/probe-reaper.js';
import { tcpdumpArgv } from '../../src/probes/capture.js';
import { pingArgv, pingDeadlineSeconds } from '../../src/probes/ping.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

const startTime = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19];
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

function startRecorded(dir: string, argv: string[]): Promise<{ child: ChildProcess; pid: number }> {
  const [cmd, ...args] = recordingPid(dir, argv);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /^pid (\d+)\n/.exec(text);
      if (m) resolve({ child, pid: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${text}`)));
  });
}

function reap(dir: string) {
  const [cmd, ...args] = reapArgv(dir);
  return spawnSync(cmd!, args, { encoding: 'utf8' });
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', () => resolve())));

describe('recordingPid', () => {
  it('leaves <dir>/<pid> with the start time of the process that becomes the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlab-probes-'));
    const { pid } = await startRecorded(join(dir, 'probes'), ['sleep', '30']);
    expect(pid).toBe(started[0]!.pid);
    expect(readFileSync(join(dir, 'probes', String(pid)), 'utf8').trim()).toBe(startTime(pid));
  });
});

describe('the reaper', () => {
  it('stops a recorded leftover and drops its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlab-probes-'));
    const { child, pid } = await startRecorded(dir, ['sleep', '30']);
    const r = reap(dir);
    expect(r.status).toBe(0);
    expect(reapedPids(r.stdout)).toEqual([pid]);
    await exited(child);
    expect(child.signalCode).toBe('SIGTERM');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never signals a process whose PID file does not carry its start time (a reused number)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlab-probes-'));
    const bystander = spawn('sleep', ['30']);
    started.push(bystander);
    writeFileSync(join(dir, String(bystander.pid)), '1\n'); // started long ago: not this process
    const r = reap(dir);
    expect(reapedPids(r.stdout)).toEqual([]);
    expect(alive(bystander.pid!)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('treats hostile file names and contents as data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlab-probes-'));
    const canary = join(dir, 'canary');
    mkdirSync(join(dir, 'd'));
    const files = ['$(touch canary)', '1;touch canary', '`touch canary`', '-rf', '..'.concat('x')];
    for (const f of files) writeFileSync(join(dir, f), `$(touch ${canary})\n`);
    writeFileSync(join(dir, String(process.pid)), `$(touch ${canary})\n`);
    const r = reap(dir);
    expect(r.status).toBe(0);
    expect(reapedPids(r.stdout)).toEqual([]);
    expect(existsSync(canary)).toBe(false);
    expect(existsSync(join(dir, 'canary'))).toBe(false);
    expect(alive(process.pid)).toBe(true);
  });

  it('is quiet when no probe ever ran', () => {
    expect(reap(join(tmpdir(), 'overlab-no-such-dir')).status).toBe(0);
  });
});

describe('probe argv', () => {
  it('tcpdump: PID file, then a deadline, then the capture in the pod — one argv, no shell text from values', () => {
    const argv = tcpdumpArgv({ container: 'c', netns: 'pod1', label: 'host1/pod1', iface: 'eth0' }, 25);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv.slice(3)).toEqual([
      'sh', '/run/overlab/probes',
      'timeout', '-k', '2', '-s', 'INT', '25',
      'ip', 'netns', 'exec', 'pod1', 'tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-n', '-s', '256', '-w', '-',
    ]);
  });

  it('tcpdump refuses an interface name that is not one', () => {
    for (const iface of ['e$(id)', '-w/tmp/x', 'a b', 'eth0;id']) {
      expect(() => tcpdumpArgv({ container: 'c', label: 'host1', iface })).toThrow(/interface name/);
    }
  });

  it('ping is bounded by its own count, interval and wait, and only ever targets an address', () => {
    expect(pingDeadlineSeconds({ count: 3 })).toBe(5);
    expect(pingDeadlineSeconds({ count: 10, intervalSeconds: 0.01 })).toBe(5);
    expect(() => pingArgv('-f', { count: 1 })).toThrow(/IPv4/);
    expect(() => pingArgv('$(id)', { count: 1 })).toThrow(/IPv4/);
    expect(bounded(pingArgv('10.0.0.1', { count: 3 }), 5).slice(0, 6)).toEqual(['timeout', '-k', '2', '-s', 'INT', '5']);
  });

  it('appendingOutputTo sends a daemon\'s output to a file named by data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlab-out-'));
    const file = join(dir, 'a $(touch x) `b`.log');
    const [cmd, ...args] = appendingOutputTo(file, ['sh', '-c', 'echo out; echo err >&2']);
    expect(spawnSync(cmd!, args, { cwd: dir }).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('out\nerr\n');
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
