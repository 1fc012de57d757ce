// A lab survives what a machine's life brings (issue 18), on one flannel-vxlan lab (etcd + two
// agents) on the real engine, case after case, each ending with the lab whole again:
//   probes end with the CLI that started them (Ctrl-C and SIGKILL during verify);
//   a killed agent and a killed etcd come back by themselves (the node supervisor);
//   a restarted host is seen (ls, verify: degraded, which node, what is missing) and `up` repairs
//   it in place without touching the healthy rest;
//   with a host removed, every read command works on what is there and names what is not;
//   a restarted etcd node comes back running, empty: ls says so, `up` re-wires it and re-seeds the
//   network config, and the agents re-register with the subnets they had (etcd's revision went
//   back: test/unit/agent-loop.test.ts has the agent's side of it).
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, downLabs, overlab, overlabJson, seedAs, until } from './harness.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';

const LAB = 'survive';
const C = (node: string) => `overlab-${LAB}-${node}`;
const NODES = ['switch', 'etcd', 'host1', 'host2'] as const;
const SUBNET = { host1: '10.244.1.0-24', host2: '10.244.2.0-24' } as const;
const PING = 'a pod on host1 reaches a pod on host2';
const LONG = 'a long capture';
let spec: string;
const dir = mkdtempSync(join(tmpdir(), 'overlab-restart-'));

interface LsRow {
  lab: string;
  status: string;
  detail: string;
}

interface UpResult {
  status: string;
  repairs?: { node: string; did: string }[];
}

async function docker(...argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('docker', argv, { reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

const inside = (node: string, ...argv: string[]) => docker('exec', C(node), ...argv);


async function started(node: string): Promise<string> {
  return (await docker('inspect', '-f', '{{.Id}} {{.State.StartedAt}}', C(node))).stdout.trim();
}

async function lsRow(): Promise<LsRow> {
  const r = await overlabJson<LsRow[]>(['ls']);
  const row = r.body.result.find((l) => l.lab === LAB);
  if (!row) throw new Error(`ls does not list ${LAB}`);
  return row;
}

/** The tcpdump processes running in any node of the lab. */
async function tcpdumps(): Promise<string[]> {
  const found: string[] = [];
  for (const node of NODES) {
    const r = await inside(node, 'ps', '-eo', 'pid=,comm=');
    for (const line of r.stdout.split('\n')) if (/\btcpdump$/.test(line.trim())) found.push(`${node}: ${line.trim()}`);
  }
  return found;
}

async function leases(): Promise<string[]> {
  const r = await inside('etcd', 'etcdctl', 'get', '--prefix', '--keys-only', '/coreos.com/network/subnets/');
  return r.stdout.split('\n').filter(Boolean).map((k) => k.replace('/coreos.com/network/subnets/', '')).sort();
}

async function pingPasses(): Promise<boolean> {
  return (await overlab(['verify', LAB, '--check', PING])).exitCode === 0;
}

beforeAll(async () => {
  spec = await seedAs('flannel-vxlan', LAB);
  await overlab(['down', LAB]);
  const up = await overlab(['up', spec]);
  expect(up.exitCode, up.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await downLabs([LAB]);
  rmSync(dir, { recursive: true, force: true });
});

describe('a lab survives what a machine\'s life brings', () => {
  it('Ctrl-C and SIGKILL of a verify leave no tcpdump in the lab (a probe ends when its exec stream closes)', async () => {
    // A capture that lasts (400 pings), so the CLI is stopped while it listens.
    const long = join(dir, 'long.yaml');
    writeFileSync(long, `${readFileSync(spec, 'utf8')}  - name: ${LONG}\n    capture:\n      on: host1:eth0\n      during: { ping: { from: host1/pod1, to: host2/pod1, count: 400 } }\n      expect: [{ proto: vxlan }]\n`);
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const child = spawn('node', [CLI, 'verify', long, '--check', LONG], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await until('a tcpdump of that verify', async () => ((await tcpdumps()).length > 0 ? true : undefined));
      child.kill(signal);
      await exited;
      // The capture's own deadline is tens of seconds away; its exec stream closed with the CLI.
      const left = await until(`no tcpdump left after ${signal}`, async () => ((await tcpdumps()).length === 0 ? true : undefined), 5_000).catch(async () => tcpdumps());
      expect(left, signal).toBe(true);
    }
  }, 90_000);

  it('a killed agent and a killed etcd come back by themselves (the node supervisor)', async () => {
    const pidFile = '/run/overlab/agent.pid';
    const before = (await inside('host1', 'cat', pidFile)).stdout.trim();
    expect(before).toMatch(/^\d+$/);
    expect((await inside('host1', 'kill', '-KILL', before)).exitCode).toBe(0);
    const after = await until('a new agent on host1', async () => {
      const pid = (await inside('host1', 'cat', pidFile)).stdout.trim();
      return /^\d+$/.test(pid) && pid !== before && (await inside('host1', 'kill', '-0', pid)).exitCode === 0 ? pid : undefined;
    });
    expect(after).not.toBe(before);

    const etcdPid = (await inside('etcd', 'sh', '-c', 'ps -eo pid=,comm= | awk \'$2 == "etcd" { print $1 }\'')).stdout.trim();
    expect(etcdPid).toMatch(/^\d+$/);
    expect((await inside('etcd', 'kill', '-KILL', etcdPid)).exitCode).toBe(0);
    await until('etcd answering again', async () => ((await inside('etcd', 'etcdctl', 'endpoint', 'health')).exitCode === 0 ? true : undefined));
    // Its data was kept (the container did not restart): both leases are there.
    expect(await leases()).toEqual([SUBNET.host1, SUBNET.host2]);
    expect(await until('the ping to pass', async () => ((await pingPasses()) ? true : undefined))).toBe(true);
  }, 90_000);

  it('a restarted host: ls and verify say degraded (which node, what is missing); up repairs it in place and leaves the rest alone', async () => {
    const healthy = { switch: await started('switch'), etcd: await started('etcd'), host1: await started('host1') };
    expect((await docker('restart', '-t', '0', C('host2'))).exitCode).toBe(0);

    const row = await lsRow();
    expect(row.status).toBe('degraded');
    expect(row.detail).toMatch(/host2 restarted/);
    expect(row.detail).toMatch(/cable|eth0/);

    const verify = await overlab(['verify', LAB, '--check', PING]);
    expect(verify.exitCode).toBe(1);
    expect(`${verify.stdout}\n${verify.stderr}`).toMatch(/degraded.*host2 restarted/s);

    const repair = await overlabJson<UpResult>(['up', spec]);
    expect(repair.exitCode, JSON.stringify(repair.body)).toBe(0);
    expect(repair.body.result.status).toBe('repaired');
    expect(repair.body.result.repairs?.map((r) => r.node), JSON.stringify(repair.body.result.repairs)).toEqual(['host2']);
    expect(repair.body.result.repairs?.[0]?.did).toMatch(/re-wired in place/);
    // The healthy rest was not touched: same containers, same runs.
    expect({ switch: await started('switch'), etcd: await started('etcd'), host1: await started('host1') }).toEqual(healthy);
    expect((await lsRow()).status).toBe('complete');
    expect(await leases()).toEqual([SUBNET.host1, SUBNET.host2]);
    expect(await pingPasses()).toBe(true);
  }, 120_000);

  it('with host2 removed, the read commands work on what is there and name what is not; up brings host2 back', async () => {
    expect((await docker('rm', '-f', C('host2'))).exitCode).toBe(0);
    expect((await lsRow()).status).toBe('degraded');

    const logs = await overlab(['logs', LAB, 'host1']);
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/lease|subnet/);

    const exec1 = await overlab(['exec', LAB, 'host1', '--', 'ip', '-br', 'link', 'show', 'eth0']);
    expect(exec1.exitCode, exec1.stderr).toBe(0);
    const exec2 = await overlab(['exec', LAB, 'host2', '--', 'true']);
    expect(exec2.exitCode).toBe(3);
    expect(exec2.stderr).toMatch(/host2.*(missing|gone)/);

    const inspect = await overlab(['inspect', LAB]);
    expect(inspect.exitCode, inspect.stderr).toBe(0);
    expect(`${inspect.stdout}\n${inspect.stderr}`).toMatch(/host2.*(missing|gone)/);

    const trace = await overlab(['trace', LAB, 'host1/pod1', 'host2/pod1', '--static']);
    expect(trace.exitCode).not.toBe(3);
    expect(`${trace.stdout}\n${trace.stderr}`).toMatch(/host2.*(missing|gone)/);

    const html = join(dir, 'report.html');
    const report = await overlab(['report', LAB, '--out', html, '--no-verify']);
    expect(report.exitCode, report.stderr).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/host2[^<]*(missing|gone)/);

    const repair = await overlabJson<UpResult>(['up', spec]);
    expect(repair.exitCode, JSON.stringify(repair.body)).toBe(0);
    expect(repair.body.result.status).toBe('repaired');
    expect(repair.body.result.repairs?.map((r) => r.node), JSON.stringify(repair.body.result.repairs)).toEqual(['host2']);
    expect(await leases()).toEqual([SUBNET.host1, SUBNET.host2]);
    expect(await pingPasses()).toBe(true);
  }, 120_000);

  it('a restarted etcd node comes back running and empty; ls says so; up re-wires it and re-seeds the config; the agents re-register with their subnets', async () => {
    expect((await docker('restart', '-t', '0', C('etcd'))).exitCode).toBe(0);
    // etcd runs again by itself (the supervisor); its data was in memory and is gone.
    await until('etcd running again', async () => ((await inside('etcd', 'etcdctl', 'endpoint', 'health')).exitCode === 0 ? true : undefined));
    const row = await lsRow();
    expect(row.status).toBe('degraded');
    expect(row.detail).toMatch(/etcd restarted/);
    expect(row.detail).toMatch(/config/);

    const t0 = Date.now();
    const repair = await overlabJson<UpResult>(['up', spec]);
    expect(repair.exitCode, JSON.stringify(repair.body)).toBe(0);
    expect(repair.body.result.status).toBe('repaired');
    expect(repair.body.result.repairs?.map((r) => r.node), JSON.stringify(repair.body.result.repairs)).toEqual(['etcd']);
    expect(repair.body.result.repairs?.[0]?.did).toMatch(/config/);
    const back = await until('both leases back', async () => ((await leases()).length === 2 ? await leases() : undefined));
    expect(back).toEqual([SUBNET.host1, SUBNET.host2]);
    console.log(`etcd node restarted: up repaired it and both agents re-registered ${((Date.now() - t0) / 1000).toFixed(1)} s after up began`);
    expect((await lsRow()).status).toBe('complete');
    // Whole again, every check of the lab.
    const whole = await overlabJson<VerifyReport>(['verify', LAB]);
    expect(whole.exitCode, JSON.stringify(whole.body.result.checks.filter((c) => c.status !== 'pass'))).toBe(0);
  }, 120_000);
});
