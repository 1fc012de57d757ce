// Waiting for the agents: polled kernel state and stats, on the in-memory runtime, with fake
// timers (the wait's 200 ms interval and 30 s deadline pass without real time).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveLab } from '../../src/plan/addressing.js';
import { waitForAgents } from '../../src/core/agents.js';
import { agentFiles, hostSubnet } from '../../src/plan/overlay.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { network, twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'etcd', cidr: '10.244.0.0/16' })] }), { takenSubnets: [] });
const net = lab.networks[0]!;

/** What `ip -j route` prints on a host once its peers are programmed. */
function routesOf(container: string, programmed: boolean): string {
  const host = lab.hosts.find((h) => h.container === container)!;
  const peers = lab.hosts.filter((h) => h !== host);
  return JSON.stringify(programmed ? peers.map((p) => ({ dst: hostSubnet(p, net), dev: 'flannel.1' })) : []);
}

/** Hosts whose agents hold their lease (the stats file says so), routes answered by `route`. */
function runtimeWithHosts(route: (container: string) => string): FakeRuntime {
  const runtime = new FakeRuntime();
  for (const h of lab.hosts) {
    const c = runtime.addContainer(h.container, { 'overlab.lab': lab.name });
    c.files.set(agentFiles(lab, net).stats, Buffer.from(JSON.stringify({ subnet: hostSubnet(h, net), peers: [] })));
  }
  return runtime.onExec(({ container, command }) => (command.join(' ') === 'ip -j route' ? { stdout: route(container) } : undefined));
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('waitForAgents', () => {
  it('returns once every host has programmed every peer', async () => {
    const polls = new Map<string, number>();
    const runtime = runtimeWithHosts((container) => {
      const n = (polls.get(container) ?? 0) + 1;
      polls.set(container, n);
      return routesOf(container, container.endsWith('host1') ? n >= 2 : n >= 4);
    });
    const waiting = waitForAgents(runtime, lab, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(1000);
    await waiting;
    // host1 was done at its 2nd poll and is asked no more; host2 needed 4.
    expect(polls.get('overlab-demo-host1')).toBe(2);
    expect(polls.get('overlab-demo-host2')).toBe(4);
  });

  it('gives up after 30 s + 0.5 s per agent, naming the host that did not converge and its log', async () => {
    const runtime = runtimeWithHosts((container) => routesOf(container, !container.endsWith('host2')));
    runtime.containers.get('overlab-demo-host2')!.files.set(agentFiles(lab, net).log, Buffer.from('lease added: 10.244.1.0/24\n'));
    const waiting = waitForAgents(runtime, lab, new AbortController().signal).catch((e: unknown) => e as Error & { hint?: string });
    await vi.advanceTimersByTimeAsync(32_000); // 30 s + 0.5 s per agent (2 agents)
    const error = await waiting;
    expect(error.message).toMatch(/^the agent on host2 \(default\) did not program its peers within 31 s; its log ends:\nlease added/);
    expect(error.hint).toBe('overlab logs demo host2');
  });
});
