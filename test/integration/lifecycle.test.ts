// Lifecycle edges on the real engine: idempotent up/down, labs found by label without their
// spec, bad input creates nothing, a failure or Ctrl-C half-way through `up` leaves nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { containersWithLabel, CLI, downLabs, overlab, overlabJson, ROOT, seedAs, volumesWithLabel } from './harness.js';
import { tcpdumpArgv } from '../../src/probes/capture.js';

let dir: string;
const BROKEN_IMAGE = 'overlab-test/no-iproute:latest';
// The labs this file makes (other test files run beside it: never `down --all` here; that is
// test/integration/engine-wide/down-all.test.ts, which runs alone).
const LABS = ['temp-lab', 'clash', 'l-host-gw', 'bad-lab', 'interrupted', 'pidview', 'orphans'];

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-lifecycle-');
  await downLabs(LABS);
});

afterAll(async () => {
  await downLabs(LABS);
  await execa('docker', ['rmi', '-f', BROKEN_IMAGE], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

describe('up and down', () => {
  it('is idempotent and works from the lab name once the spec file is gone', async () => {
    const spec = `${dir}/temp.yaml`;
    await writeFile(spec, 'name: temp-lab\nhosts:\n  - name: host1\n    pods: [pod1]\n');
    expect((await overlab(['up', spec])).exitCode).toBe(0);
    const again = await overlabJson<{ status: string }>(['up', spec]);
    expect(again.exitCode).toBe(0);
    expect(again.body.result.status).toBe('unchanged');

    const ls = await overlabJson<{ lab: string; running: number }[]>(['ls']);
    expect(ls.body.result).toContainEqual(expect.objectContaining({ lab: 'temp-lab', running: 2 }));

    const exec = await overlab(['exec', 'temp-lab', 'host1/pod1', '--', 'ip', '-br', 'addr', 'show', 'eth0']);
    expect(exec.exitCode).toBe(0);
    expect(exec.stdout).toMatch(/eth0@\S+\s+UP\s+172\.16\.1\.2\/24/);
    expect((await overlab(['exec', 'temp-lab', 'host1', '--', 'false'])).exitCode).toBe(1);

    await rm(spec);
    expect((await overlab(['down', 'temp-lab'])).exitCode).toBe(0);
    expect(await containersWithLabel('overlab.lab=temp-lab')).toEqual([]);
    const twice = await overlab(['down', 'temp-lab']);
    expect(twice.exitCode).toBe(0);
    expect(twice.stdout).toMatch(/no lab named "temp-lab" is up; nothing to remove/);
  });

  it('refuses to clobber a lab that is up from a different spec', async () => {
    const a = `${dir}/clash.yaml`;
    await writeFile(a, 'name: clash\nhosts:\n  - name: host1\n');
    expect((await overlab(['up', a])).exitCode).toBe(0);
    await writeFile(a, 'name: clash\nhosts:\n  - name: host1\n  - name: host2\n');
    const r = await overlab(['up', a]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('already up');
    expect(r.stderr).toContain('--recreate');
    expect((await overlab(['up', a, '--recreate'])).exitCode).toBe(0);
    expect(await containersWithLabel('overlab.lab=clash')).toEqual(['overlab-clash-host1', 'overlab-clash-host2', 'overlab-clash-switch']);
    expect((await overlab(['down', 'clash'])).exitCode).toBe(0);
    expect(await containersWithLabel('overlab.lab=clash')).toEqual([]);
  });

  it('prints the exact commands with --dry-run and creates nothing', async () => {
    const r = await overlab(['up', await seedAs('host-gw', 'l-host-gw'), '--dry-run']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('ip route replace 172.16.2.0/24 via');
    expect(r.stdout).toContain('ip netns add pod1');
    expect(await containersWithLabel('overlab.lab=l-host-gw')).toEqual([]);
    expect(await volumesWithLabel('overlab.lab=l-host-gw')).toEqual([]);
  });
});

describe('bad input and broken environments', () => {
  it('rejects a bad spec with exit 2, file:line:col, and creates nothing', async () => {
    const spec = `${dir}/bad.yaml`;
    await writeFile(spec, 'name: bad-lab\nhosts:\n  - name: host1\n    pods: [pod1]\n    colour: blue\n');
    const r = await overlab(['up', spec]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:5:5/);
    expect(r.stderr).toContain('colour');
    expect(await containersWithLabel('overlab.lab=bad-lab')).toEqual([]);
    const missing = await overlab(['validate', `${dir}/nope.yaml`]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('nope.yaml');
  });

  it('exits 3 with a fix when no engine answers', async () => {
    const r = await overlab(['ls'], { DOCKER_HOST: `unix://${dir}/no-docker.sock` });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('no Docker engine answers');
    expect(r.stderr).toContain('Try:');
  });

  it('removes everything when wiring fails half-way through up', async () => {
    // An image without iproute2: containers start, then the first wiring script fails.
    await execa('docker', ['rm', '-f', 'overlab-test-broken'], { reject: false });
    await execa('docker', ['run', '--name', 'overlab-test-broken', 'overlab/host:latest', 'rm', '-f', '/usr/bin/ip', '/bin/ip', '/sbin/ip', '/usr/sbin/ip']);
    await execa('docker', ['commit', 'overlab-test-broken', BROKEN_IMAGE]);
    await execa('docker', ['rm', '-f', 'overlab-test-broken']);
    const r = await overlab(['up', await seedAs('host-gw', 'l-host-gw'), '--image', BROKEN_IMAGE]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/wiring|Cable|failed/i);
    expect(await containersWithLabel('overlab.lab=l-host-gw')).toEqual([]);
  });

  it('handles Ctrl-C during up by removing what was made', async () => {
    const spec = `${dir}/big.yaml`;
    await copyFile(`${ROOT}labs/host-gw.yaml`, spec);
    const hosts = Array.from({ length: 8 }, (_, i) => `  - name: host${i + 1}\n    pods: [pod1, pod2]`).join('\n');
    await writeFile(spec, `name: interrupted\nhosts:\n${hosts}\n`);
    const child = execa('node', [CLI, 'up', spec], { cwd: ROOT, reject: false });
    // Wait (by polling the engine, not by sleeping blindly) until containers exist, then Ctrl-C.
    for (let i = 0; i < 200; i++) {
      if ((await containersWithLabel('overlab.lab=interrupted')).length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toContain('interrupted');
    expect(await containersWithLabel('overlab.lab=interrupted')).toEqual([]);
    expect(await volumesWithLabel('overlab.lab=interrupted')).toEqual([]);
  });
});

describe('the underlay switch', () => {
  it('sees only its own processes: nodes cable themselves through its bound network namespace', async () => {
    const spec = `${dir}/pidview.yaml`;
    await writeFile(spec, 'name: pidview\nnetwork: { backend: host-gw }\nhosts:\n  - name: host1\n    pods: [pod1]\n  - name: host2\n    pods: [pod1]\nchecks:\n  - name: across\n    ping: { from: host1/pod1, to: host2/pod1 }\n');
    expect((await overlab(['up', spec])).exitCode).toBe(0);
    const pidMode = await execa('docker', ['inspect', '-f', '{{.HostConfig.PidMode}}', 'overlab-pidview-switch']);
    expect(pidMode.stdout.trim()).toBe('');
    // docker-init, the node's supervisor (bash) idling in sleep, and ps itself: nothing of the machine's.
    const ps = await execa('docker', ['exec', 'overlab-pidview-switch', 'ps', '-e', '-o', 'comm=']);
    expect(ps.stdout.split('\n').map((l) => l.trim()).sort()).toEqual(['bash', 'docker-init', 'ps', 'sleep']);
    const ports = await execa('docker', ['exec', 'overlab-pidview-switch', 'ip', '-j', 'link', 'show', 'master', 'underlay']);
    expect((JSON.parse(ports.stdout) as { ifname: string }[]).map((l) => l.ifname.replace(/@.*/, '')).sort()).toEqual(['host1', 'host2']);
    // A node mounts only the lab's share, read-only; the switch handed its namespace over it, and
    // the node bound that very namespace (same nsfs inode) — then the switch's helper ended.
    const mount = await execa('docker', ['inspect', '-f', '{{range .Mounts}}{{.Destination}} {{.RW}}{{end}}', 'overlab-pidview-host1']);
    expect(mount.stdout.trim()).toBe('/run/overlab/share false');
    const switchNetns = await execa('docker', ['exec', 'overlab-pidview-switch', 'stat', '-L', '-c', '%i', '/proc/1/ns/net']);
    const bound = await execa('docker', ['exec', 'overlab-pidview-host1', 'stat', '-L', '-c', '%i', '/run/overlab/underlay.netns']);
    expect(bound.stdout.trim()).toBe(switchNetns.stdout.trim());
    expect((await overlab(['verify', 'pidview'])).exitCode).toBe(0);
    expect(await volumesWithLabel('overlab.lab=pidview')).toEqual(['overlab-pidview-share']);
    expect((await overlab(['down', 'pidview'])).exitCode).toBe(0);
    expect(await volumesWithLabel('overlab.lab=pidview')).toEqual([]);
  });
});

describe('probes never outlive their CLI', () => {
  const tcpdumps = async (container: string) => {
    const r = await execa('docker', ['exec', container, 'ps', '-C', 'tcpdump', '-o', 'pid='], { reject: false });
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  };
  /** Polls until `read` finds something (at most 10 s), then returns what it found. */
  const until = async (read: () => Promise<string[]>) => {
    for (let i = 0; i < 200; i++) {
      const found = await read();
      if (found.length) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    return [];
  };
  /** Start verify, wait (polling the container) until its capture runs, then SIGKILL it. */
  const killVerifyMidCapture = async () => {
    const child = execa('node', [CLI, 'verify', 'orphans'], { cwd: ROOT, reject: false });
    let seen: string[] = [];
    for (let i = 0; i < 400 && seen.length === 0; i++) {
      seen = await tcpdumps('overlab-orphans-host1');
      if (seen.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await child;
    return seen;
  };

  it('a SIGKILLed verify leaves no capture; one left without its caller (an engine that never closed the stream) is reaped by the next verify, or ends at its deadline', async () => {
    const spec = `${dir}/orphans.yaml`;
    // count 20 at 0.2 s: the capture runs ~4 s, time enough to kill verify in the middle of it.
    await writeFile(
      spec,
      'name: orphans\nnetwork: { backend: host-gw }\nhosts:\n  - name: host1\n    pods: [pod1]\n  - name: host2\n    pods: [pod1]\nchecks:\n' +
        '  - name: on the wire\n    capture:\n      on: host1:eth0\n      during: { ping: { from: host1/pod1, to: host2/pod1, count: 20 } }\n' +
        '      expect: [{ proto: icmp, src: host1/pod1, dst: host2/pod1 }]\n',
    );
    expect((await overlab(['up', spec])).exitCode).toBe(0);

    // Its exec stream closed with the CLI: the capture ends with it (src/probes/stdin-bound.ts).
    expect(await killVerifyMidCapture()).not.toEqual([]);
    const killedAt = Date.now();
    let left = await tcpdumps('overlab-orphans-host1');
    while (left.length > 0 && Date.now() - killedAt < 5_000) {
      await new Promise((r) => setTimeout(r, 100));
      left = await tcpdumps('overlab-orphans-host1');
    }
    expect(left).toEqual([]);

    // The safety nets behind it: a capture started as verify starts one, but with no caller to
    // end with (detached), is stopped by the next verify through its PID file...
    const orphan = () => execa('docker', ['exec', '-d', 'overlab-orphans-host1', ...tcpdumpArgv({ container: 'overlab-orphans-host1', label: 'host1', iface: 'eth0' }, 28)]);
    await orphan();
    expect(await until(() => tcpdumps('overlab-orphans-host1'))).not.toEqual([]);
    const again = await overlab(['verify', 'orphans']);
    expect(again.exitCode).toBe(0);
    expect(await tcpdumps('overlab-orphans-host1')).toEqual([]); // reaped by PID file, and this run's own capture stopped

    // ...and, with nobody to reap it, ends at its own deadline (28 s).
    await orphan();
    expect(await until(() => tcpdumps('overlab-orphans-host1'))).not.toEqual([]);
    const startedAt = Date.now();
    left = await tcpdumps('overlab-orphans-host1');
    while (left.length > 0 && Date.now() - startedAt < 40_000) {
      await new Promise((r) => setTimeout(r, 500));
      left = await tcpdumps('overlab-orphans-host1');
    }
    expect(left).toEqual([]);
    expect(Date.now() - startedAt).toBeLessThan(33_000);
    expect((await overlab(['down', 'orphans'])).exitCode).toBe(0);
  }, 180_000);
});

describe('doctor', () => {
  it('finds the engine, the image and every kernel feature a lab needs', async () => {
    const r = await overlabJson<{ check: string; ok: boolean; optional?: boolean; detail: string }[]>(['doctor']);
    // Optional features (sch_netem, for the delay/jitter faults) may be missing from the kernel.
    expect(r.body.result.filter((f) => !f.ok && !f.optional)).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.body.result.map((f) => f.check)).toEqual(
      expect.arrayContaining(['Docker engine', 'host image', 'capabilities', 'veth pairs', 'Linux bridge', 'TUN device', 'VXLAN', 'tcpdump capture']),
    );
    expect(await containersWithLabel('overlab.doctor')).toEqual([]);
  });
});
