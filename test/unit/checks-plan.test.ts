// The verify planner: checks that could see each other's traffic never run together and keep the
// spec's order; the others share a group. Exercised on hand-made footprints and the seed labs.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { capturePlaces, EVERYWHERE, interferes, planGroups, reachOf, trafficPlaces, UNDERLAY, type CheckReach } from '../../src/checks/check-plan.js';
import { footprintOf, planChecks } from '../../src/checks/run-checks.js';
import { LabReferences } from '../../src/lab/lab-references.js';
import { loadLabSpec } from '../../src/lab-loader/load.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import type { CheckSpec } from '../../src/lab-spec/lab-spec.js';
import { twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const names = new LabReferences(lab);
const ping = (from: string, to: string, expect: 'reachable' | 'unreachable' = 'reachable'): CheckSpec => ({ kind: 'ping', name: `${from}>${to}`, ping: { from, to, count: 1, expect } });
const capture = (on: string, from: string, to: string): CheckSpec => ({
  kind: 'capture',
  name: `@${on}`,
  capture: { on, during: { ping: { from, to, count: 1, expect: 'reachable' } }, expect: [{ proto: 'icmp' }], absent: [] },
});
const kernel: CheckSpec = { kind: 'kernel', name: 'k', kernel: { on: 'host1', peer: 'host2', network: 'default' } };
const agentCost = (on: string, from: string, to: string): CheckSpec => ({ kind: 'agentCost', name: `cost@${on}`, agentCost: { on, network: 'default', during: { ping: { from, to, count: 10, expect: 'reachable' } } } });
const trace: CheckSpec = { kind: 'trace', name: 't', trace: { from: 'host1/pod1', to: 'host2/pod1', expect: 'delivered', proto: 'icmp' } };
const reach = (c: CheckSpec) => reachOf(footprintOf(c, names), names);
const groupsOf = (checks: CheckSpec[]) => planChecks(checks, names).map((g) => g.map((c) => c.name));

describe('where traffic goes and what a capture sees', () => {
  it('traffic inside one node stays there; between nodes it crosses the underlay; to an unknown address, anywhere', () => {
    expect(trafficPlaces('host1/pod1', 'host1/pod2', names)).toEqual(['host1']);
    expect(trafficPlaces('host1', 'host1/pod1', names)).toEqual(['host1']);
    expect(trafficPlaces('host1/pod1', 'host2/pod1', names)).toEqual(['host1', 'host2', UNDERLAY]);
    expect(trafficPlaces('host1/pod1', 'outside', names)).toEqual(['host1', 'outside', UNDERLAY]);
    expect(trafficPlaces('host1/pod1', lab.hosts[1]!.pods[0]!.ip, names)).toEqual(['host1', 'host2', UNDERLAY]);
    expect(trafficPlaces('host1/pod1', '172.16.99.9', names)).toEqual([EVERYWHERE]);
  });

  it("a host's eth0 and every interface of an external node face the underlay; a bridge or a pod's interface only its host", () => {
    expect(capturePlaces('host1:eth0', names)).toEqual(['host1', UNDERLAY]);
    expect(capturePlaces('router:eth0', names)).toEqual(['router', UNDERLAY]);
    expect(capturePlaces('host1:docker0', names)).toEqual(['host1']);
    expect(capturePlaces('host1/pod1:eth0', names)).toEqual(['host1']);
    expect(capturePlaces('host1:flannel.1', names)).toEqual(['host1']);
    expect(capturePlaces(EVERYWHERE, names)).toEqual([EVERYWHERE]);
  });
});

describe('which checks interfere', () => {
  it('pings and kernel reads never do; a capture does with any probe that crosses what it watches', () => {
    expect(interferes(reach(ping('host1/pod1', 'host2/pod1')), reach(ping('host1/pod1', 'host2/pod1', 'unreachable')))).toBe(false);
    expect(interferes(reach(kernel), reach(capture('host1:eth0', 'host1/pod1', 'host2/pod1')))).toBe(false);
    expect(interferes(reach(ping('host1/pod1', 'host2/pod1')), reach(capture('host1:eth0', 'host1/pod1', 'host1/pod2')))).toBe(true);
    // Two captures each see the other's ping when their paths meet.
    expect(interferes(reach(capture('host1:docker0', 'host1/pod1', 'host1/pod2')), reach(capture('host2:docker0', 'host2/pod1', 'host2')))).toBe(false);
    expect(interferes(reach(capture('host1:docker0', 'host1/pod1', 'host1/pod2')), reach(capture('host2:eth0', 'host1/pod1', 'host2')))).toBe(true);
    // Traffic between two other nodes still reaches a third node's eth0 (the switch floods).
    expect(interferes(reach(capture('host1:eth0', 'host1/pod1', 'host1/pod2')), reach(ping('host2', 'outside')))).toBe(true);
    expect(interferes(reach(capture('host1:docker0', 'host1/pod1', 'host1/pod2')), reach(ping('host2', 'outside')))).toBe(false);
  });

  it('an agent measurement interferes with any traffic through its host, a trace with everything', () => {
    expect(interferes(reach(agentCost('host1', 'host1/pod1', 'host2/pod1')), reach(ping('host1/pod2', 'host1/pod1')))).toBe(true);
    expect(interferes(reach(agentCost('host1', 'host1/pod1', 'host2/pod1')), reach(kernel))).toBe(false);
    expect(interferes(reach(trace), reach(kernel))).toBe(true);
  });

  it('a ping check and a capture of that very ping share it; of another ping (another count) they do not', () => {
    const watched = capture('host1:eth0', 'host1/pod1', 'host2/pod1');
    expect(interferes(reach(ping('host1/pod1', 'host2/pod1')), reach(watched))).toBe(false);
    const three: CheckSpec = { kind: 'ping', name: 'three', ping: { from: 'host1/pod1', to: 'host2/pod1', count: 3, expect: 'reachable' } };
    expect(interferes(reach(three), reach(watched))).toBe(true);
    expect(interferes(reach(ping('host1/pod1', 'host2/pod1', 'unreachable')), reach(watched))).toBe(true);
  });

  it('a kind that does not say what traffic it sends runs alone', () => {
    const unknown: CheckReach = reachOf({ nodes: ['host1'], captures: [] }, names);
    expect(unknown.alone).toBe(true);
    expect(interferes(unknown, reach(kernel))).toBe(true);
  });
});

describe('the plan', () => {
  it('groups what does not interfere and keeps interfering checks in the spec order', () => {
    const checks = [
      ping('host1/pod1', 'host2/pod1'),
      capture('host1:eth0', 'host1/pod1', 'host2/pod1'),
      kernel,
      ping('host1/pod2', 'host2/pod1', 'unreachable'),
      capture('host2:docker0', 'host2/pod1', 'host2'),
      trace,
      ping('host2', 'host1'),
    ];
    expect(groupsOf(checks)).toEqual([
      // The capture watches the very ping the first check sends: they share it (one probe).
      ['host1/pod1>host2/pod1', '@host1:eth0', 'k'],
      // The capture on host1's eth0 would see this probe: it waits for the capture.
      ['host1/pod2>host2/pod1'],
      // host2's bridge sees the probes to host2/pod1 of every check before it.
      ['@host2:docker0'],
      ['t'],
      ['host2>host1'],
    ]);
  });

  it('never puts two interfering checks in one group, nor reverses them (every seed lab)', async () => {
    for (const file of readdirSync('labs').filter((f) => f.endsWith('.yaml'))) {
      const seed = resolveLab(await loadLabSpec(`labs/${file}`), { takenSubnets: [] });
      const seedNames = new LabReferences(seed);
      const groups = planChecks(seed.checks, seedNames);
      expect(groups.flat().length, file).toBe(seed.checks.length);
      const groupOf = new Map(groups.flatMap((g, i) => g.map((c) => [c, i] as const)));
      const reaches = seed.checks.map((c) => reachOf(footprintOf(c, seedNames), seedNames));
      for (let i = 0; i < seed.checks.length; i++) {
        for (let j = i + 1; j < seed.checks.length; j++) {
          if (interferes(reaches[i]!, reaches[j]!)) expect(groupOf.get(seed.checks[i]!)!, `${file}: ${seed.checks[i]!.name} before ${seed.checks[j]!.name}`).toBeLessThan(groupOf.get(seed.checks[j]!)!);
        }
      }
    }
  });

  it('puts the pings and kernel reads of the k8s lab in one group', async () => {
    const k8s = resolveLab(await loadLabSpec('labs/k8s-cni0.yaml'), { takenSubnets: [] });
    const groups = planChecks(k8s.checks, new LabReferences(k8s));
    expect(groups.map((g) => g.map((c) => c.kind))).toEqual([['ping', 'ping', 'ping', 'ping', 'ping', 'ping', 'kernel', 'kernel', 'kernel'], ['capture'], ['capture'], ['trace']]);
  });

  it('an empty spec plans nothing', () => {
    expect(planGroups([])).toEqual([]);
  });
});
