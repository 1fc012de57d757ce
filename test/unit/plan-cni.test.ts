// The pure side of `podAttach: cni`: flannel's conflist, what libcni hands each plugin, the
// CNI environment, host-local's order, the host's files and steps, and reading a result.
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { FLANNEL_CONFLIST, FLANNEL_CONFLIST_TEXT, pluginStdin, sortedJson } from '../../src/plan/cni-conflist.js';
import { cniEnvironment, netnsPath, pluginPath, podSandbox, sandboxId } from '../../src/plan/cni-invocation.js';
import { addressRequests, nextFree } from '../../src/plan/cni-host-local.js';
import { cniFiles, detachSteps, podSandboxes, sandboxSteps, staticSubnetEnv, FLANNEL_WRAPPER } from '../../src/plan/cni-plan.js';
import { applyAttachments, assertPlannedAddress, attachedPod } from '../../src/plan/cni-result.js';
import { renderHostPlan } from '../../src/plan/node-plans.js';
import { planCommands } from '../../src/plan/node-plan.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { renderDryRun } from '../../src/plan/dry-run.js';
import { exitCodeFor } from '../../src/base/errors.js';
import type { LabSpec } from '../../src/lab-spec/lab-spec.js';
import { network, twoHostSpec } from './lab-fixture.js';

function cniSpec(overrides: Partial<LabSpec> = {}, networkOverrides = {}): LabSpec {
  return twoHostSpec({
    networks: [network({ cidr: '10.244.0.0/16', bridge: 'cni0', backend: 'vxlan', controlPlane: 'static', podAttach: 'cni', ...networkOverrides })],
    externals: [],
    ...overrides,
  });
}

/** A bridge plugin's result for a pod, as Debian's 1.1.1 prints it (seen on a real host). */
function bridgeResult(ip: string, veth = 'vethe353dd3f', mac = 'e6:b0:0e:85:2b:a3') {
  return {
    cniVersion: '0.3.1',
    interfaces: [
      { name: 'cni0', mac: '3a:ec:d5:b5:16:e8' },
      { name: veth, mac: '6a:57:59:09:06:13' },
      { name: 'eth0', mac, sandbox: '/var/run/netns/pod1' },
    ],
    ips: [{ version: '4', interface: 2, address: ip, gateway: '10.244.1.1' }],
    routes: [{ dst: '10.244.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }],
    dns: {},
  };
}

describe('flannel conflist and libcni', () => {
  it('is flannel\'s file: cbr0, 0.3.1, flannel with hairpin and default gateway, then portmap', () => {
    expect(FLANNEL_CONFLIST).toEqual({
      name: 'cbr0',
      cniVersion: '0.3.1',
      plugins: [
        { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    });
    expect(FLANNEL_CONFLIST_TEXT.startsWith('{\n  "name": "cbr0",\n  "cniVersion": "0.3.1",\n  "plugins": [\n')).toBe(true);
  });

  it('hands a plugin its config with the list\'s name and version injected, keys sorted as Go writes a map', () => {
    expect(pluginStdin(FLANNEL_CONFLIST, FLANNEL_CONFLIST.plugins[0]!)).toBe(
      '{"cniVersion":"0.3.1","delegate":{"hairpinMode":true,"isDefaultGateway":true},"name":"cbr0","type":"flannel"}',
    );
    expect(sortedJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 0 } })).toBe('{"a":{"c":0,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('chains the previous result into the next plugin as prevResult, as the plugin printed it', () => {
    const prev = bridgeResult('10.244.1.2/24');
    const stdin = JSON.parse(pluginStdin(FLANNEL_CONFLIST, FLANNEL_CONFLIST.plugins[1]!, prev)) as Record<string, unknown>;
    expect(Object.keys(stdin)).toEqual(['capabilities', 'cniVersion', 'name', 'prevResult', 'type']);
    expect(stdin.prevResult).toEqual(prev);
    expect(Object.keys(stdin.prevResult as object)).toEqual(['cniVersion', 'interfaces', 'ips', 'routes', 'dns']);
  });
});

describe('the CNI environment', () => {
  it('gives each pod a stable 64-hex sandbox ID and the kubelet\'s CNI_ARGS', () => {
    const id = sandboxId('lab', 'host1', 'pod1');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(sandboxId('lab', 'host1', 'pod1')).toBe(id);
    expect(sandboxId('lab', 'host1', 'pod2')).not.toBe(id);
    const lab = resolveLab(cniSpec(), { takenSubnets: [] });
    const pod = lab.hosts[0]!.pods[0]!;
    const plain = podSandbox('lab', 'host1', pod, false);
    expect(cniEnvironment('ADD', plain, 'eth0')).toEqual([
      'CNI_COMMAND=ADD',
      `CNI_CONTAINERID=${id}`,
      'CNI_NETNS=/var/run/netns/pod1',
      `CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod1;K8S_POD_INFRA_CONTAINER_ID=${id}`,
      'CNI_IFNAME=eth0',
      'CNI_PATH=/opt/cni/bin:/usr/lib/cni',
    ]);
    expect(podSandbox('lab', 'host1', pod, true).args.at(-1)).toEqual(['IP', pod.ip]);
    expect(netnsPath('web')).toBe('/var/run/netns/web');
  });

  it('finds flannel in /opt/cni/bin and the reference plugins in /usr/lib/cni; anything else is a bug (exit 70)', () => {
    expect(pluginPath('flannel')).toBe('/opt/cni/bin/flannel');
    expect(pluginPath('portmap')).toBe('/usr/lib/cni/portmap');
    expect(exitCodeFor((() => { try { pluginPath('weave'); } catch (e) { return e; } })())).toBe(70);
  });
});

describe('host-local\'s order', () => {
  const range = { subnet: '10.244.1.0/24', gateway: '10.244.1.1' };

  it('hands out .2, .3, … after the gateway, then after the last address it reserved, wrapping round', () => {
    expect(nextFree(range, new Set(), undefined)).toBe('10.244.1.2');
    expect(nextFree(range, new Set(['10.244.1.2']), '10.244.1.2')).toBe('10.244.1.3');
    expect(nextFree(range, new Set(['10.244.1.20']), '10.244.1.20')).toBe('10.244.1.21');
    expect(nextFree(range, new Set(['10.244.1.2']), '10.244.1.254')).toBe('10.244.1.3');
    expect(nextFree({ subnet: '10.244.1.0/30', gateway: '10.244.1.1' }, new Set(['10.244.1.2']), '10.244.1.2')).toBeUndefined();
  });

  it('agrees with the plan for pods without fixed addresses: nobody asks for one', () => {
    const lab = resolveLab(cniSpec(), { takenSubnets: [] });
    const host = lab.hosts[0]!;
    expect(host.pods.map((p) => p.ip)).toEqual(['10.244.1.2', '10.244.1.3']);
    expect([...addressRequests(range, host.pods).values()]).toEqual([false, false]);
    expect(podSandboxes(lab, host).map((s) => s.args.some(([k]) => k === 'IP'))).toEqual([false, false]);
  });

  it('asks (CNI_ARGS IP=) for a fixed address, and for the pods host-local would number otherwise after it', () => {
    const spec = cniSpec({
      hosts: [{ name: 'host1', subnets: { default: '10.244.1.0/24' }, pods: [{ name: 'a', network: 'default' }, { name: 'b', network: 'default', ip: '10.244.1.2' }, { name: 'c', network: 'default' }] }],
    });
    const host = resolveLab(spec, { takenSubnets: [] }).hosts[0]!;
    expect(host.pods.map((p) => p.ip)).toEqual(['10.244.1.3', '10.244.1.2', '10.244.1.4']);
    // a: host-local would give .2 (taken by b later): ask; b: would give .4: ask; c: after .2 comes .3 (a's): .4 — its own.
    expect(Object.fromEntries(addressRequests(range, host.pods))).toEqual({ a: true, b: true, c: false });
  });
});

describe('a CNI host\'s plan', () => {
  const lab = resolveLab(cniSpec(), { takenSubnets: [] });
  const host = lab.hosts[0]!;

  it('leaves the bridge, the pods and their MACs to CNI: no cni0, no veth, no netns in overlab\'s own wiring', () => {
    expect(host.podAttach).toBe('cni');
    expect(host.pods.map((p) => [p.mac, p.hostVeth])).toEqual([['', ''], ['', '']]);
    expect(host.networks[0]!.bridgeMac).toBe('');
    const commands = planCommands(renderHostPlan(lab, host)).map((c) => c.join(' '));
    expect(commands.filter((c) => c.includes('cni0') || c.startsWith('ip netns') || c.startsWith('ip -n '))).toEqual([]);
    expect(commands.filter((c) => c.startsWith('ip link add name')).length).toBe(1); // only the cable's eth0
    expect(commands).toContain('ip link add flannel.1 address 02:42:0a:f4:01:00 type vxlan id 1 local 192.168.50.2 dev eth0 dstport 8472 nolearning'); // the static overlay stays
    expect(containerSpecs(lab).find((s) => s.name === host.container)!.labels['overlab.pod-attach']).toBe('cni');
  });

  it('writes flannel\'s conflist, the constant plugin wrapper, and with a static control plane the plan\'s subnet.env', () => {
    const files = cniFiles(lab, host);
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      ['/etc/cni/net.d/10-flannel.conflist', 0o644],
      ['/opt/cni/bin/flannel', 0o755],
      ['/run/flannel/subnet.env', 0o644],
    ]);
    expect(files[1]!.content).toBe(FLANNEL_WRAPPER);
    expect(FLANNEL_WRAPPER).not.toMatch(/\$/); // constant text: it expands nothing
    expect(staticSubnetEnv(lab, host, lab.networks[0]!)).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
    const etcd = resolveLab(cniSpec({}, { controlPlane: 'etcd' }), { takenSubnets: [] });
    expect(cniFiles(etcd, etcd.hosts[0]!).map((f) => f.path)).not.toContain('/run/flannel/subnet.env'); // the agent writes it
  });

  it('makes the sandboxes in one runner exec: the namespaces batched, then loopback ADD per pod', () => {
    const steps = sandboxSteps(podSandboxes(lab, host));
    expect(steps[0]).toMatchObject({ argv: ['ip', '-batch', '-'], input: 'netns add pod1\nnetns add pod2\n' });
    expect(steps.slice(1).map((s) => [s.argv.at(-1), JSON.parse(s.input!)])).toEqual([
      ['/usr/lib/cni/loopback', { cniVersion: '0.3.1', name: 'cni-loopback', type: 'loopback' }],
      ['/usr/lib/cni/loopback', { cniVersion: '0.3.1', name: 'cni-loopback', type: 'loopback' }],
    ]);
    expect(steps[1]!.argv.slice(0, 6)).toEqual(['timeout', '-k', '2', '-s', 'TERM', '30']);
  });

  it('tears a pod down as the kubelet does: the list\'s DEL in reverse, loopback, then the cache entries and the namespaces', () => {
    const steps = detachSteps(podSandboxes(lab, host));
    const what = steps.map((s) => {
      const cmd = s.argv.find((a) => a.startsWith('CNI_COMMAND='));
      const pod = s.argv.find((a) => a.startsWith('CNI_NETNS='))?.split('/').at(-1);
      return cmd ? `${cmd.slice(12)} ${s.argv.at(-1)!.split('/').at(-1)} ${pod}` : `${s.argv.join(' ')}${s.input ? ` < ${s.input.trim().replace(/\n/g, '; ')}` : ''}`;
    });
    const cache = (pod: string) => `/var/lib/cni/results/cbr0-${sandboxId('demo', 'host1', pod)}-eth0`;
    expect(what).toEqual([
      'DEL portmap pod2', 'DEL flannel pod2', 'DEL loopback pod2',
      'DEL portmap pod1', 'DEL flannel pod1', 'DEL loopback pod1',
      `rm -f ${cache('pod1')} ${cache('pod2')}`,
      'ip -force -batch - < netns del pod1; netns del pod2',
    ]);
    for (const s of steps.filter((x) => x.input !== undefined && x.argv[0] !== 'ip')) expect(JSON.parse(s.input!).prevResult).toBeUndefined(); // 0.3.1: no prevResult on DEL
    expect(detachSteps([])).toEqual([]);
  });

  it('shows every CNI step in --dry-run, as commands a student can type', () => {
    const text = renderDryRun(lab);
    expect(text).toContain('# 5. pods attached through CNI');
    expect(text).toContain('printf \'%s\' \'{"cniVersion":"0.3.1","delegate":{"hairpinMode":true,"isDefaultGateway":true},"name":"cbr0","type":"flannel"}\' | env CNI_COMMAND=ADD');
    expect(text).toContain('/etc/cni/net.d/10-flannel.conflist');
  });
});

describe('a CNI result', () => {
  const lab = resolveLab(cniSpec(), { takenSubnets: [] });

  it('gives the pod\'s MAC, its host veth and the bridge\'s MAC, which the lab model then carries', () => {
    const a = attachedPod('host1', 'pod1', 'cni0', 'eth0', bridgeResult('10.244.1.2/24'));
    expect(a).toEqual({ host: 'host1', pod: 'pod1', mac: 'e6:b0:0e:85:2b:a3', hostVeth: 'vethe353dd3f', bridge: 'cni0', bridgeMac: '3a:ec:d5:b5:16:e8', address: '10.244.1.2/24' });
    assertPlannedAddress(lab.hosts[0]!, a);
    const copy = structuredClone(lab);
    applyAttachments(copy, [a]);
    expect(copy.hosts[0]!.pods[0]).toMatchObject({ mac: 'e6:b0:0e:85:2b:a3', hostVeth: 'vethe353dd3f', ip: '10.244.1.2' });
    expect(copy.hosts[0]!.networks[0]!.bridgeMac).toBe('3a:ec:d5:b5:16:e8');
  });

  it('refuses a result whose names or MACs could not come from the kernel, and an address the plan did not give', () => {
    expect(() => attachedPod('host1', 'pod1', 'cni0', 'eth0', bridgeResult('10.244.1.2/24', 'veth;reboot'))).toThrow(/a host veth named "veth;reboot"/);
    expect(() => attachedPod('host1', 'pod1', 'cni0', 'eth0', bridgeResult('10.244.1.2/24', 'vethx', 'not-a-mac'))).toThrow(/eth0's MAC as "not-a-mac"/);
    expect(() => attachedPod('host1', 'pod1', 'cni0', 'eth0', { cniVersion: '0.3.1' })).toThrow(/no eth0, cni0 and host veth/);
    const wrong = attachedPod('host1', 'pod1', 'cni0', 'eth0', bridgeResult('10.244.1.9/24'));
    expect(() => assertPlannedAddress(lab.hosts[0]!, wrong)).toThrow(/host-local gave host1\/pod1 10.244.1.9\/24, but the plan says 10.244.1.2\/24/);
  });
});
