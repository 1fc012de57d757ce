// Pod routes by BGP on a routed underlay, on the real engine: two racks behind routers with real
// BIRD on every node (labs/bgp-racks.yaml), and host-gw across the same racks failing with the
// kernel's words (labs/host-gw-racks.yaml). Each lab is built once; the tests read `birdc` and
// `ip -j route` themselves, beside what overlab says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { containersWithLabel, downLabs, overlab, overlabJson, seedAs } from './harness.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';
import type { TraceResult } from '../../src/trace/trace-result.js';

const MESH = 'b-mesh';
const RACKS = 'b-racks';
const HGW = 'b-hgw';
const IPIP = 'b-ipip';

async function sh(container: string, ...argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('docker', ['exec', container, ...argv], { reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** BIRD's line in its node supervisor's status (src/plan/node-init.ts). */
const BIRD_STATUS = '/run/overlab/daemons/bird.status';

/** Ask until `read` gives a value (polled every 200 ms), or undefined after `ms`. */
async function poll<T>(read: () => Promise<T | undefined | null | false>, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const routes = async (lab: string, node: string) =>
  JSON.parse((await sh(`overlab-${lab}-${node}`, 'ip', '-j', '-4', 'route', 'show')).stdout) as { dst: string; gateway?: string; dev?: string; protocol?: string; type?: string }[];

beforeAll(async () => {
  await downLabs([MESH, RACKS, HGW, IPIP]);
  const [mesh, racks, hgw] = await Promise.all([
    overlab(['up', await seedAs('bgp-mesh', MESH)]),
    overlab(['up', await seedAs('bgp-racks', RACKS)]),
    overlab(['up', await seedAs('host-gw-racks', HGW)]),
  ]);
  expect(mesh.exitCode, mesh.stderr).toBe(0);
  expect(racks.exitCode, racks.stderr).toBe(0);
  expect(hgw.exitCode, hgw.stderr).toBe(0);
});

afterAll(async () => {
  await downLabs([MESH, RACKS, HGW, IPIP]);
});

describe('backend bgp on one segment, a full mesh', () => {
  it('verify: every check of labs/bgp-mesh.yaml passes; each host has a session with each other', async () => {
    const { exitCode, body } = await overlabJson<VerifyReport>(['verify', MESH]);
    expect(body.result.checks.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
    expect(exitCode).toBe(0);
    const birdc = (await sh(`overlab-${MESH}-host1`, 'birdc', 'show', 'protocols')).stdout;
    expect(birdc.match(/^Mesh_host\d\s+BGP\s+---\s+up\s+\S+\s+Established/gm)).toHaveLength(2);
  });
});

describe('backend bgp on two racks, reflectors at the routers', () => {
  it('BIRD on every node: sessions Established, blocks learned as proto bird via the rack\'s router, a blackhole at home', async () => {
    const birdc = await sh(`overlab-${RACKS}-tor1`, 'birdc', 'show', 'protocols');
    expect(birdc.stdout).toMatch(/^Client_host1\s+BGP\s+---\s+up\s+\S+\s+Established/m);
    expect(birdc.stdout).toMatch(/^Mesh_tor2\s+BGP\s+---\s+up\s+\S+\s+Established/m);
    const host1 = await routes(RACKS, 'host1');
    const tor1 = (await sh(`overlab-${RACKS}-tor1`, 'ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0')).stdout;
    const tor1Ip = JSON.parse(tor1)[0].addr_info[0].local as string;
    expect(host1).toContainEqual(expect.objectContaining({ type: 'blackhole', dst: '10.244.0.0/26', protocol: 'bird' }));
    // host3's block (rack2) via tor1, the next hop BIRD resolved through the default route
    expect(host1).toContainEqual(expect.objectContaining({ dst: '10.244.0.128/26', gateway: tor1Ip, dev: 'eth0', protocol: 'bird' }));
    // the routers learned the blocks too: tor1 routes rack2's over the spine
    expect(await routes(RACKS, 'tor1')).toContainEqual(expect.objectContaining({ dst: '10.244.0.128/26', dev: 'eth1', protocol: 'bird' }));
  });

  it('verify: every check of the lab passes (bgp kind, the path through both routers, plain packets, TCP 179)', async () => {
    const { exitCode, body } = await overlabJson<VerifyReport>(['verify', RACKS]);
    expect(body.result.checks.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
    expect(exitCode).toBe(0);
    expect(body.result.checks.filter((r) => r.kind === 'bgp')).toHaveLength(4);
  });

  it('trace: each router\'s hop names the BGP route it used and whom it learned it from', async () => {
    const { exitCode, body } = await overlabJson<TraceResult>(['trace', RACKS, 'host1/pod1', 'host3/pod1']);
    expect(exitCode).toBe(0);
    const routed = body.result.hops.filter((h) => h.route).map((h) => `${h.node}:${h.iface} ${h.route}`);
    expect(routed).toEqual([
      expect.stringMatching(/^host1:eth0 BGP route 10\.244\.0\.128\/26 from Reflector_tor1 \(learned from tor1\), announced by host3, BGP next hop [\d.]+ \(host3\)$/),
      expect.stringMatching(/^tor1:eth1 BGP route 10\.244\.0\.128\/26 from Mesh_tor2 \(learned from tor2\), announced by host3/),
      expect.stringMatching(/^tor2:eth0 BGP route 10\.244\.0\.128\/26 from Client_host3 \(learned from host3\)/),
    ]);
  });

  /** Every BGP node's routes (sorted JSON lines): what a cleared fault must give back exactly. */
  const allRoutes = async () => (await Promise.all(['host1', 'host2', 'host3', 'host4', 'tor1', 'tor2'].map(async (n) => (await routes(RACKS, n)).map((r) => `${n} ${JSON.stringify(r)}`)))).flat().sort();

  it.each([
    ['bgp-session-down', ['tor1', 'tor2'], 'tor1', /^BGP: tor1's session Mesh_tor2 is disabled \(down\)$/],
    ['bgp-withdraw', ['host3'], 'tor1', undefined],
    ['stop-bird', ['host3'], 'tor1', /^BGP: BIRD is not running on host3, so nobody hears its block 10\.244\.0\.128\/26$/],
    ['stop-reflector', ['tor2'], 'tor1', undefined],
  ] as [string, string[], string, RegExp | undefined][])('fault %s %j: host1 loses host3\'s block, the trace says why, and clear gives every kernel back exactly', async (kind, args, dropAt, why) => {
    const before = await allRoutes();
    const add = await overlab(['fault', 'add', RACKS, kind, ...args]);
    expect(add.exitCode, add.stderr).toBe(0);
    const stopped = kind.startsWith('stop-') ? `overlab-${RACKS}-${args[0]}` : undefined;
    try {
      expect((await routes(RACKS, 'host1')).some((r) => r.dst === '10.244.0.128/26')).toBe(false);
      // held down by its node's supervisor, as `systemctl stop` holds a service: not started again
      if (stopped) expect((await sh(stopped, 'cat', BIRD_STATUS)).stdout).toMatch(/ want=down state=held /);
      if (why) {
        // (the drop verdict's other sentences are unit-tested on real birdc outputs)
        const { body } = await overlabJson<TraceResult>(['trace', RACKS, 'host1/pod1', 'host3/pod1']);
        expect(body.result.drop?.node).toBe(dropAt);
        expect(body.result.drop!.evidence.some((e) => why.test(e)), body.result.drop!.evidence.join('\n')).toBe(true);
      }
    } finally {
      const clear = await overlab(['fault', 'clear', RACKS, '--all']);
      expect(clear.exitCode, clear.stderr).toBe(0);
    }
    expect(await allRoutes()).toEqual(before);
    if (stopped) expect((await sh(stopped, 'cat', BIRD_STATUS)).stdout).toMatch(/ want=up state=running /);
  });

  it("BIRD is its node's daemon: killed, its supervisor starts it again and it takes its sessions back", async () => {
    const host3 = `overlab-${RACKS}-host3`;
    const status = async () => (await sh(host3, 'cat', BIRD_STATUS)).stdout;
    const [, pid, starts] = /^pid=(\d+) starts=(\d+) want=up state=running /.exec(await status()) ?? [];
    expect(pid, await status()).toBeDefined();
    expect((await sh(host3, 'kill', '-KILL', pid!)).exitCode).toBe(0);
    const back = await poll(async () => {
      const m = /^pid=(\d+) starts=(\d+) want=up state=running /.exec(await status());
      const birdc = (await sh(host3, 'birdc', 'show', 'protocols')).stdout;
      return m && m[1] !== pid && /^Reflector_tor2\s+BGP\s+---\s+up\s+\S+\s+Established/m.test(birdc) ? Number(m[2]) : undefined;
    }, 30_000);
    expect(back).toBe(Number(starts) + 1);
    // every node routes every block again, host3's own blackhole included
    const bgpChecks = [
      'host1 peers with its reflector and routes every block',
      'host3 peers with its reflector and routes every block',
      "tor1 reflects for rack1 and learned rack2's blocks from tor2",
      "tor2 reflects for rack2 and learned rack1's blocks from tor1",
    ].flatMap((name) => ['--check', name]);
    const { exitCode, body } = await overlabJson<VerifyReport>(['verify', RACKS, ...bgpChecks]);
    expect(body.result.checks.filter((r) => r.kind === 'bgp')).toHaveLength(4);
    expect(body.result.checks.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('node add: the new host\'s block appears on every peer (timed from its BIRD\'s start); node rm: it vanishes', async () => {
    const add = await overlabJson<{ host: { networks: { blocks: string[] }[] }; propagation: { ms: number; peers: number }[] }>(['node', 'add', RACKS, 'host5', '--segment', 'rack2']);
    expect(add.exitCode, add.body.message).toBe(0);
    const [block] = add.body.result.host.networks[0]!.blocks;
    expect(block).toBe('10.244.1.0/26');
    expect(add.body.result.propagation).toEqual([expect.objectContaining({ peers: 6 })]);
    expect(add.body.result.propagation[0]!.ms).toBeGreaterThanOrEqual(0);
    for (const n of ['host1', 'tor1', 'host3']) expect((await routes(RACKS, n)).some((r) => r.dst === block && r.protocol === 'bird'), n).toBe(true);
    const rm = await overlabJson<{ propagation: { ms: number }[] }>(['node', 'rm', RACKS, 'host5']);
    expect(rm.exitCode).toBe(0);
    expect(rm.body.result.propagation).toHaveLength(1);
    for (const n of ['host1', 'tor1', 'host3']) expect((await routes(RACKS, n)).some((r) => r.dst === block), n).toBe(false);
  });

  it('inspect --bird shows each node\'s configuration as BIRD runs it', async () => {
    const r = await overlab(['inspect', RACKS, '--bird', '--node', 'tor1']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('== tor1: /etc/bird/bird.conf');
    expect(r.stdout).toMatch(/protocol bgp Client_host1 from peer \{ local [\d.]+; neighbor [\d.]+ as 64512; rr client; rr cluster id [\d.]+; \}/);
    const file = (await sh(`overlab-${RACKS}-tor1`, 'cat', '/etc/bird/bird.conf')).stdout;
    expect(r.stdout).toContain(file.split('\n')[0]);
    expect((await overlab(['inspect', RACKS, '--bird', '--node', 'outside'])).exitCode).toBe(2);
  });
});

describe('host-gw across the same racks', () => {
  it('comes up; verify proves the same-rack path and the refusal, in the kernel\'s words', async () => {
    const { exitCode, body } = await overlabJson<VerifyReport>(['verify', HGW]);
    expect(body.result.checks.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
    expect(exitCode).toBe(0);
    const refused = body.result.checks.find((r) => r.name.startsWith('the kernel refused'))!;
    expect(refused.seen).toMatch(/^host1's agent asked for `ip route replace 10\.244\.3\.0\/24 via [\d.]+ dev eth0` and the kernel refused: Nexthop has invalid gateway$/);
    // the kernel really holds host2's route and not host3's
    const host1 = await routes(HGW, 'host1');
    expect(host1.some((r) => r.dst === '10.244.2.0/24')).toBe(true);
    expect(host1.some((r) => r.dst === '10.244.3.0/24')).toBe(false);
  });

  it('trace: dies at tor1, and the evidence quotes the kernel refusing host1\'s agent', async () => {
    const { exitCode, body } = await overlabJson<TraceResult>(['trace', HGW, 'host1/pod1', 'host3/pod1']);
    expect(exitCode).toBe(1);
    expect(body.result.drop!.node).toBe('tor1');
    expect(body.result.drop!.evidence[0]).toMatch(
      /^host1's agent asked for `ip route replace 10\.244\.3\.0\/24 via [\d.]+ dev eth0` and the kernel refused: Nexthop has invalid gateway — host3 \([\d.]+\) is on segment rack2, not on any link of host1, so it cannot be a next hop$/,
    );
  });
});

it('IP-in-IP is refused plainly: this kernel has no ipip (exit 3), and nothing is left behind', async () => {
  // one host is enough to be refused
  const file = await seedAs('bgp-mesh', IPIP, (t) => t.replace('bgp: { as: 64512 }', 'bgp: { as: 64512 }\n  ipipMode: Always').replace(/\n {2}- \{ name: host[23], pods: \[pod1\] \}/g, '').replace(/\nchecks:[\s\S]*$/, '\n'));
  const r = await overlab(['up', file]);
  expect(r.exitCode).toBe(3);
  expect(r.stderr).toMatch(/ipipMode: Always needs IP-in-IP tunnels, and this kernel has no ipip module/);
  expect(await containersWithLabel(`overlab.lab=${IPIP}`)).toEqual([]);
});
