// Waiting for the agents: one collector process in the etcd node reports each agent's status
// (src/deploy/agent-status.ts); on the in-memory runtime, with fake timers (the wait's 200 ms pause
// between collector runs and its 30 s deadline pass without real time).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { agentDropped, agentProgrammed, agentProgress, agentProgressScore, readAgentState, waitForAgents, watchAgents } from '../../src/deploy/agents.js';
import { ProgressDeadline } from '../../src/deploy/progress-deadline.js';
import { manualClock } from '../../src/base/poll.js';
import { parseCollectorLine, statusCollectorArgv, STATUS_COLLECTOR_SCRIPT } from '../../src/deploy/agent-status.js';
import { agentFiles, agentStatusPort, etcdNode, hostSubnet } from '../../src/plan/overlay.js';
import type { ResolvedHost } from '../../src/plan/resolved-lab.js';
import { FakeRuntime, type ExecCall } from '../support/fake-runtime.js';
import { network, twoHostSpec } from './lab-fixture.js';
import { resolvedInstead } from '../support/resolved-instead.js';

const lab = resolveLab(twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'etcd', cidr: '10.244.0.0/16' })] }), { takenSubnets: [] });
const net = lab.networks[0]!;
const [host1, host2] = lab.hosts as [ResolvedHost, ResolvedHost];
const etcd = etcdNode(lab)!;
const target = (h: ResolvedHost) => `${h.underlayIp}:${agentStatusPort(lab, net)}`;

/** A host's status as its agent reports it: its lease, the peers it accepted, whether in sync. */
function status(h: ResolvedHost, o: { peers?: ResolvedHost[]; inSync?: boolean; lease?: boolean } = {}) {
  return {
    host: h.name,
    subnet: o.lease === false ? null : hostSubnet(h, net),
    peers: (o.peers ?? lab.hosts.filter((p) => p !== h)).map((p) => ({ subnet: hostSubnet(p, net), publicIp: p.underlayIp, backendType: 'vxlan' })),
    peerSync: { syncs: 1, fullSyncs: 1, changes: 3, failures: 0, processes: 2, lastDurationMs: 1, lastAt: null, inSync: o.inSync ?? true },
  };
}
const line = (h: ResolvedHost, s: object) => `${target(h)} ${JSON.stringify(s)}`;

const isCollector = (call: ExecCall) => call.container === etcd.container && call.command.includes(STATUS_COLLECTOR_SCRIPT);

/** The collector's output for its n-th run (1-based); "pid 77" announced on stderr. */
function runtimeWithCollector(output: (run: number) => string[], exitCode = 0): { runtime: FakeRuntime; runs: ExecCall[]; kills: string[][] } {
  const runtime = new FakeRuntime();
  for (const h of lab.hosts) runtime.addContainer(h.container, { 'overlab.lab': lab.name });
  runtime.addContainer(etcd.container, { 'overlab.lab': lab.name });
  const runs: ExecCall[] = [];
  const kills: string[][] = [];
  runtime.onExec((call) => {
    if (isCollector(call)) {
      runs.push(call);
      return { stdout: [...output(runs.length), '.'].join('\n') + '\n', stderr: 'pid 77\n', exitCode };
    }
    if (call.command[0] === 'sh' && call.command[2]?.startsWith('kill')) kills.push(call.command.slice(3));
    return undefined;
  });
  return { runtime, runs, kills };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('agent readiness from its status', () => {
  it('needs the planned lease, every peer (subnet and address) accepted and the last sync applied', () => {
    expect(agentProgrammed(lab, host1, net, status(host1))).toBe(true);
    expect(agentProgrammed(lab, host1, net, status(host1, { inSync: false }))).toBe(false);
    expect(agentProgrammed(lab, host1, net, status(host1, { peers: [] }))).toBe(false);
    expect(agentProgrammed(lab, host1, net, status(host1, { lease: false }))).toBe(false);
    expect(agentProgrammed(lab, host1, net, { ...status(host1), subnet: hostSubnet(host2, net) })).toBe(false);
    const wrongAddress = { ...status(host1), peers: [{ subnet: hostSubnet(host2, net), publicIp: host1.underlayIp, backendType: 'vxlan' }] };
    expect(agentProgrammed(lab, host1, net, wrongAddress)).toBe(false);
    expect(agentProgrammed(lab, host1, net, undefined)).toBe(false);
    expect(agentProgrammed(lab, host1, net, { ...status(host1), peers: 'nonsense' } as never)).toBe(false);
  });

  it('a dropped peer is gone from the accepted leases and the drop applied', () => {
    const gone = hostSubnet(host2, net);
    expect(agentDropped(status(host1, { peers: [] }), gone)).toBe(true);
    expect(agentDropped(status(host1, { peers: [], inSync: false }), gone)).toBe(false);
    expect(agentDropped(status(host1), gone)).toBe(false);
  });

  it('says where an agent stands', () => {
    expect(agentProgress(lab, host1, undefined)).toBe('its status listener never answered');
    expect(agentProgress(lab, host1, status(host1, { peers: [], inSync: false }))).toBe(`lease ${hostSubnet(host1, net)}, 0 of 1 peers accepted, syncing`);
  });
});

describe('progress toward programmed', () => {
  it('scores an answer, the planned lease, each planned peer and in sync', () => {
    expect(agentProgressScore(lab, host1, net, {})).toBe(1);
    expect(agentProgressScore(lab, host1, net, { ...status(host1), subnet: hostSubnet(host2, net) })).toBe(1);
    expect(agentProgressScore(lab, host1, net, status(host1, { peers: [], inSync: false }))).toBe(2);
    expect(agentProgressScore(lab, host1, net, status(host1, { inSync: false }))).toBe(3);
    expect(agentProgressScore(lab, host1, net, status(host1))).toBe(4);
    // a peer at another address is not the planned peer
    expect(agentProgressScore(lab, host1, net, { ...status(host1), peers: [{ subnet: hostSubnet(host2, net), publicIp: '192.0.2.9', backendType: 'vxlan' }] })).toBe(3);
  });

  it('a deadline moves only when a target beats its best score', () => {
    const clock = manualClock(0);
    const deadline = new ProgressDeadline(clock, 10_000);
    expect(deadline.remainingMs()).toBe(10_000);
    clock.now = () => 4000;
    expect(deadline.note('a', 1)).toBe(true);
    expect(deadline.remainingMs()).toBe(10_000);
    clock.now = () => 9000;
    expect(deadline.note('a', 1)).toBe(false);
    expect(deadline.note('a', 0)).toBe(false);
    expect(deadline.remainingMs()).toBe(5000);
    expect(deadline.note('b', 0)).toBe(true);
    clock.now = () => 19_000;
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.elapsedMs()).toBe(19_000);
  });
});

describe('the status collector', () => {
  it('is a constant program bounded by timeout, with a PID file; targets are checked addresses', () => {
    const argv = statusCollectorArgv([{ ip: '192.168.50.2', port: 8471 }], 31_000, 200);
    expect(argv.slice(0, 3)).toEqual(['sh', '-c', expect.stringContaining('exec "$@"')]);
    expect(argv).toContain('timeout');
    expect(argv.slice(-6)).toEqual(['node', '-e', STATUS_COLLECTOR_SCRIPT, '31000', '200', '192.168.50.2:8471']);
    expect(() => statusCollectorArgv([{ ip: '192.168.50.2; rm -rf /', port: 8471 }], 1000, 200)).toThrow(RangeError);
    expect(() => statusCollectorArgv([{ ip: '192.168.50.2', port: 0 }], 1000, 200)).toThrow(RangeError);
  });

  it('reads ticks, statuses and ignores anything else', () => {
    expect(parseCollectorLine('.')).toEqual({ kind: 'tick' });
    expect(parseCollectorLine('192.168.50.2:8471 {"subnet":"10.244.1.0/24"}')).toEqual({ kind: 'status', target: '192.168.50.2:8471', stats: { subnet: '10.244.1.0/24' } });
    expect(parseCollectorLine('192.168.50.2:8471 [1]')).toEqual({ kind: 'other' });
    expect(parseCollectorLine('garbage')).toEqual({ kind: 'other' });
  });
});

describe('waitForAgents', () => {
  it('returns once every agent reports its peers programmed, and stops the collector by its PID', async () => {
    const { runtime, runs, kills } = runtimeWithCollector((run) =>
      run === 1 ? [line(host1, status(host1)), line(host2, status(host2, { inSync: false }))] : [line(host2, status(host2))],
    );
    const waiting = waitForAgents(runtime, lab, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(1000);
    await waiting;
    expect(runs).toHaveLength(2);
    // the second run asks only the agent that was not done
    expect(runs[1]!.command.at(-1)).toBe(target(host2));
    expect(runs[0]!.command.slice(-2)).toEqual([target(host1), target(host2)]);
    expect(kills).toEqual([['sh', '77', '/run/overlab/probes']]);
    // no process in any host
    expect(runtime.calls.filter((c) => c.method === 'exec' && (c.args[0] as string) !== etcd.container)).toEqual([]);
  });

  it('gives up after 30 s + 0.5 s per agent without progress, naming the agent, where it stands and its log', async () => {
    const { runtime } = runtimeWithCollector(() => [line(host1, status(host1)), line(host2, status(host2, { peers: [] }))]);
    runtime.containers.get(host2.container)!.files.set(agentFiles(lab, net).log, Buffer.from('lease added: 10.244.1.0/24\n'));
    const waiting = waitForAgents(runtime, lab, new AbortController().signal).then(resolvedInstead, (e: unknown) => e as Error & { hint?: string });
    await vi.advanceTimersByTimeAsync(32_000); // 30 s + 0.5 s per agent (2 agents)
    const error = await waiting;
    expect(error.message).toBe(
      `the agent on host2 (default) did not program its peers: no agent made progress for 31 s (31 s in all): lease ${hostSubnet(host2, net)}, 0 of 1 peers accepted, in sync; its log ends:\nlease added: 10.244.1.0/24`,
    );
    expect(error.hint).toBe('overlab logs demo host2');
  });

  it('counts its deadline from the last progress: an agent that starts late and works slowly is waited for', async () => {
    // host2's agent answers only 25 s into the wait, takes its lease at 45 s, accepts host1 at
    // 65 s and is in sync at 90 s: 90 s in all, never 31 s without progress.
    const clock = manualClock(1_000_000);
    const t0 = clock.now();
    const { runtime, runs } = runtimeWithCollector(() => {
      const at = clock.now() - t0;
      if (at < 25_000) return [line(host1, status(host1))];
      if (at < 45_000) return [line(host2, { host: 'host2', subnet: null, peers: [] })];
      if (at < 65_000) return [line(host2, status(host2, { peers: [], inSync: false }))];
      return [line(host2, status(host2, { inSync: at >= 90_000 }))];
    });
    await waitForAgents(runtime, lab, new AbortController().signal, lab.hosts, clock);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(90_000);
    expect(clock.now() - t0).toBeLessThan(91_000);
    // each collector is given the time left as it stood when it started
    expect(Number(runs[0]!.command.at(-4))).toBe(31_000);
  });

  it('an agent that stalls fails 31 s after its last progress, however late that was', async () => {
    const clock = manualClock(0);
    const { runtime } = runtimeWithCollector(() => {
      const at = clock.now();
      if (at < 20_000) return [line(host1, status(host1))];
      if (at < 40_000) return [line(host2, { host: 'host2', subnet: null, peers: [] })];
      // from 40 s on host2 has its lease and 0 of 1 peers, and stays so; its status flaps
      return [line(host2, status(host2, { peers: [], inSync: Math.floor(at / 1000) % 2 === 0 }))];
    });
    const error = await waitForAgents(runtime, lab, new AbortController().signal, lab.hosts, clock).then(resolvedInstead, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    // progress at 20 s (first answer), 40 s (its lease) and at most one more when "in sync" first shows: ≤ 41 s + 31 s
    expect(clock.now()).toBeGreaterThanOrEqual(71_000);
    expect(clock.now()).toBeLessThan(73_000);
    expect(error.message).toMatch(/^the agent on host2 \(default\) did not program its peers: no agent made progress for 31 s \(7[12] s in all\): lease /);
  });

  it('a collector that cannot run is an environment error, not a 30 s wait', async () => {
    const { runtime, runs } = runtimeWithCollector(() => [], 127);
    const waiting = watchAgents(runtime, lab, lab.hosts.map((host) => ({ host, network: net })), () => true, { timeoutMs: 30_000, signal: new AbortController().signal }).then(resolvedInstead, (e: unknown) => e as Error);
    await vi.advanceTimersByTimeAsync(2000);
    expect((await waiting).message).toMatch(/^watching the agents from etcd failed \(exit 127\)/);
    expect(runs).toHaveLength(3);
  });
});

describe('readAgentState', () => {
  /** A stats file the engine hands back cut short `cut` times (a read that straddled the agent's
   * rename), then whole. */
  function runtimeWithStats(cut: number) {
    const runtime = new FakeRuntime();
    runtime.addContainer(host1.container, { 'overlab.lab': lab.name });
    const whole = JSON.stringify(status(host1));
    runtime.containers.get(host1.container)!.files.set(agentFiles(lab, net).stats, Buffer.from(whole));
    const read = runtime.readFile.bind(runtime);
    let reads = 0;
    runtime.readFile = async (container, path, options) => {
      const buffer = await read(container, path, options);
      return ++reads <= cut ? buffer.subarray(0, 40) : buffer;
    };
    return { runtime, reads: () => reads };
  }

  it('reads the stats file again when a read came back cut short', async () => {
    const clock = manualClock(0);
    const { runtime, reads } = runtimeWithStats(2);
    const { stats } = await readAgentState(runtime, lab, host1, net, clock);
    expect(stats?.peers).toHaveLength(1);
    expect(reads()).toBe(3);
    expect(clock.slept).toEqual([50, 50]);
  });

  it('a file that never parses is no stats, after three reads', async () => {
    const { runtime, reads } = runtimeWithStats(Infinity);
    const { stats } = await readAgentState(runtime, lab, host1, net, manualClock(0));
    expect(stats).toBeUndefined();
    expect(reads()).toBe(3);
  });
});
