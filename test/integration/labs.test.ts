// Each lab through up → verify → inspect → down on the real engine; afterwards nothing with the
// lab's label is left and the machine's own links, routes and firewall rules are unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersWithLabel, downLabs, machineNetworkState, networksWithLabel, overlab, overlabJson } from './harness.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';
import type { ResolvedLab } from '../../src/plan/resolved-lab.js';
import type { InterfaceState } from '../../src/core/lab-interfaces.js';

// The seed labs under their own names: this file is the only one that builds them so (the others
// build copies named after themselves), so it may run beside them.
const LABS = ['same-host', 'egress', 'no-overlay', 'host-gw', 'flannel-udp', 'flannel-vxlan', 'vxlan-static', 'k8s-cni0', 'vxlan-tenants'];

let before: Awaited<ReturnType<typeof machineNetworkState>>;

beforeAll(async () => {
  await downLabs([...LABS, 'wrong-expectation']);
  before = await machineNetworkState();
});

afterAll(async () => {
  await downLabs([...LABS, 'wrong-expectation']);
});

describe.each(LABS)('lab %s', (name) => {
  it('comes up, passes every check, shows its wiring and goes away without a trace', async () => {
    const up = await overlabJson<{ status: string; resolved: ResolvedLab }>(['up', `labs/${name}.yaml`]);
    expect(up.exitCode, JSON.stringify(up.body)).toBe(0);
    expect(up.body.result.status).toBe('created');
    expect(await containersWithLabel(`overlab.lab=${name}`)).toContain(`overlab-${name}-switch`);

    const verify = await overlabJson<VerifyReport>(['verify', name]);
    const failures = verify.body.result.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.reason}`);
    expect(failures).toEqual([]);
    expect(verify.exitCode).toBe(0);
    expect(verify.body.result.checks.length).toBeGreaterThanOrEqual(3);

    // What the kernel reports matches the plan: pod addresses and MACs, bridge membership.
    const inspect = await overlabJson<{ interfaces: InterfaceState[] }>(['inspect', name]);
    for (const host of up.body.result.resolved.hosts) {
      for (const pod of host.pods) {
        const eth0 = inspect.body.result.interfaces.find((i) => i.node === host.name && i.netns === pod.name && i.name === 'eth0');
        expect(eth0, `${host.name}/${pod.name}`).toMatchObject({ mac: pod.mac, addresses: [`${pod.ip}/${pod.prefixLen}`], kind: 'veth' });
        const veth = inspect.body.result.interfaces.find((i) => i.node === host.name && !i.netns && i.name === pod.hostVeth);
        expect(veth?.master).toBe(host.networks.find((n) => n.network === pod.network)!.bridge);
      }
    }

    const down = await overlab(['down', name]);
    expect(down.exitCode).toBe(0);
    expect(await containersWithLabel(`overlab.lab=${name}`)).toEqual([]);
    expect(await networksWithLabel(`overlab.lab=${name}`)).toEqual([]);
    expect(await machineNetworkState()).toEqual(before);
  });
});

describe('a check that fails', () => {
  it('exits 1 and explains the failure in one line', async () => {
    // same-host's pods are reachable; asking for "unreachable" must fail, with the reason.
    const spec = `name: wrong-expectation
hosts:
  - name: host1
    pods: [pod1, pod2]
checks:
  - name: pods are isolated
    ping: { from: host1/pod1, to: host1/pod2, expect: unreachable }
  - name: udp appears on the bridge
    capture:
      on: host1:docker0
      during: { ping: { from: host1/pod1, to: host1/pod2, count: 1 } }
      expect: [{ proto: udp, dstPort: 8472 }]
`;
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/overlab-test-');
    await writeFile(`${dir}/wrong.yaml`, spec);
    const r = await overlab(['run', `${dir}/wrong.yaml`, '--junit', `${dir}/junit.xml`]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('✗ pods are isolated: expected 172.16.1.3 to be unreachable, but 3 replies came back');
    expect(r.stdout).toContain('✗ udp appears on the bridge: not seen on host1:docker0: udp port * > 8472');
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(`${dir}/junit.xml`, 'utf8')).toContain('failures="2"');
    expect(await containersWithLabel('overlab.lab=wrong-expectation')).toEqual([]);
  });
});
