// Waiting for the agents: polled kernel state and stats, on the in-memory runtime, with fake
// timers (the wait's 200 ms interval and 30 s deadline pass without real time).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveLab } from '../../src/plan/addressing.js';
import { waitForAgents } from '../../src/core/agents.js';
import { hostSubnet } from '../../src/plan/overlay.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { network, twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'etcd', cidr: '10.244.0.0/16' })] }), { takenSubnets: [] });
const net = lab.networks[0]!;

/** What `ip -j route; cat stats` prints on a host once `programmed` peers are routed. */
function agentState(container: string, programmed: boolean): string {
  const host = lab.hosts.find((h) => h.container === container)!;
  const peers = lab.hosts.filter((h) => h !== host);
  const routes = programmed ? peers.map((p) => ({ dst: hostSubnet(p, net), dev: 'flannel.1' })) : [];
  return `${JSON.stringify(routes)}\n@@stats\n${JSON.stringify({ subnet: hostSubnet(host, net), peers: [] })}`;
}

function runtimeWithHosts(): FakeRuntime {
  const runtime = new FakeRuntime();
  for (const h of lab.hosts) runtime.addContainer(h.container, { 'overlab.lab': lab.name });
  return runtime;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('waitForAgents', () => {
  it('returns once every host has programmed every peer', async () => {
    const runtime = runtimeWithHosts();
    const polls = new Map<string, number>();
    runtime.onExec(({ container, command }) => {
      if (!command.join(' ').includes('@@stats')) return undefined;
      const n = (polls.get(container) ?? 0) + 1;
      polls.set(container, n);
      return { stdout: agentState(container, container.endsWith('host1') ? n >= 2 : n >= 4) };
    });
    const waiting = waitForAgents(runtime, lab, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(1000);
    await waiting;
    // host1 was done at its 2nd poll and is asked no more; host2 needed 4.
    expect(polls.get('overlab-demo-host1')).toBe(2);
    expect(polls.get('overlab-demo-host2')).toBe(4);
  });

  it('gives up after 30 s naming the host that did not converge and its log', async () => {
    const runtime = runtimeWithHosts().onExec(({ container, command }) => {
      if (command.join(' ').includes('@@stats')) return { stdout: agentState(container, !container.endsWith('host2')) };
      if (command.join(' ').includes('tail')) return { stdout: 'lease added: 10.244.1.0/24' };
      return undefined;
    });
    const waiting = waitForAgents(runtime, lab, new AbortController().signal).catch((e: unknown) => e as Error & { hint?: string });
    await vi.advanceTimersByTimeAsync(31_000);
    const error = await waiting;
    expect(error.message).toMatch(/^the agent on host2 \(default\) did not program its peers within 30 s; its log ends:\nlease added/);
    expect(error.hint).toBe('overlab logs demo host2');
  });
});
