// The runtime side of `podAttach: cni` on the in-memory runtime: the order of the archive, the
// runner exec and the plugin execs, prevResult chaining, what the model learns, failures that
// name the plugin, and DEL before the containers go at `down`.
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { attachCniPods } from '../../src/deploy/cni-attach.js';
import { downLab } from '../../src/core/lab-down.js';
import { saveLabModel } from '../../src/lab/lab-files.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { RUNNER_ARGV } from '../../src/plan/step-runner.js';
import type { ResolvedLab } from '../../src/plan/resolved-lab.js';
import { FakeRuntime, type ExecCall } from '../support/fake-runtime.js';
import { network, twoHostSpec } from './lab-fixture.js';
import { resolvedInstead } from '../support/resolved-instead.js';

const SHIM = [{ name: 'opt/overlab/agent/cni-flannel-main.js', content: Buffer.from('// shim') }];

function cniLab(): ResolvedLab {
  const spec = twoHostSpec({ networks: [network({ cidr: '10.244.0.0/16', bridge: 'cni0', backend: 'vxlan', controlPlane: 'static', podAttach: 'cni' })], externals: [] });
  return resolveLab(spec, { takenSubnets: [] });
}

const envOf = (call: ExecCall, key: string) => call.command.find((a) => a.startsWith(`${key}=`))?.slice(key.length + 1);
const pluginOf = (call: ExecCall) => call.command.at(-1)!.split('/').at(-1)!;

/** Plays the plugins: flannel answers a bridge result for the pod host-local would give. */
function playPlugins(runtime: FakeRuntime, lab: ResolvedLab): ExecCall[] {
  const seen: ExecCall[] = [];
  runtime.onExec((call) => {
    seen.push(call);
    if (call.command[0] === 'bash') return { exitCode: 0 };
    const host = lab.hosts.find((h) => h.container === call.container)!;
    const podName = envOf(call, 'CNI_NETNS')!.split('/').at(-1)!;
    const pod = host.pods.find((p) => p.name === podName)!;
    const n = host.pods.indexOf(pod);
    if (pluginOf(call) === 'flannel') {
      return {
        stdout: JSON.stringify({
          cniVersion: '0.3.1',
          interfaces: [{ name: 'cni0', mac: `0a:00:00:00:0${n}:01` }, { name: `veth0000000${n}`, mac: `0a:00:00:00:0${n}:02` }, { name: 'eth0', mac: `0a:00:00:00:0${n}:03`, sandbox: `/var/run/netns/${podName}` }],
          ips: [{ version: '4', interface: 2, address: `${pod.ip}/${pod.prefixLen}`, gateway: pod.gateway }],
          routes: [{ dst: '10.244.0.0/16' }, { dst: '0.0.0.0/0', gw: pod.gateway }],
          dns: {},
        }),
      };
    }
    if (pluginOf(call) === 'portmap') return { stdout: JSON.stringify(JSON.parse(call.stdin!).prevResult) };
    return undefined;
  });
  return seen;
}

function withHosts(runtime: FakeRuntime, lab: ResolvedLab): void {
  for (const spec of containerSpecs(lab)) runtime.addContainer(spec.name, spec.labels);
}

describe('attaching pods through CNI', () => {
  it('per host: files, one runner exec for netns + loopback, then flannel and portmap ADD per pod in order, then libcni\'s cache', async () => {
    const lab = cniLab();
    const runtime = new FakeRuntime();
    withHosts(runtime, lab);
    const seen = playPlugins(runtime, lab);
    await attachCniPods(runtime, lab, new AbortController().signal, lab.hosts, { shim: SHIM });

    const host1 = lab.hosts[0]!.container;
    const calls = runtime.calls.filter((c) => c.args[0] === host1 && (c.method === 'exec' || c.method === 'putTar'));
    const what = calls.map((c) => (c.method === 'putTar' ? `putTar ${(c.args[2] as string[]).filter((n) => !n.endsWith('/')).join(',')}` : (c.args[1] as string[])[0] === 'bash' ? 'runner' : `ADD ${pluginOf({ container: '', command: c.args[1] as string[] })} ${envOf({ container: '', command: c.args[1] as string[] }, 'CNI_NETNS')}`));
    expect(what).toEqual([
      'putTar opt/overlab/agent/cni-flannel-main.js,etc/cni/net.d/10-flannel.conflist,opt/cni/bin/flannel,run/flannel/subnet.env',
      'runner',
      'ADD flannel /var/run/netns/pod1',
      'ADD portmap /var/run/netns/pod1',
      'ADD flannel /var/run/netns/pod2',
      'ADD portmap /var/run/netns/pod2',
      expect.stringMatching(/^putTar var\/lib\/cni\/results\/cbr0-[0-9a-f]{64}-eth0,var\/lib\/cni\/results\/cbr0-[0-9a-f]{64}-eth0$/),
    ]);
    expect((runtime.calls.find((c) => c.method === 'exec' && c.args[0] === host1)!.args[1] as string[])).toEqual([...RUNNER_ARGV]);

    // portmap got flannel's result as prevResult, and the list's name and version
    const portmap = seen.find((c) => c.container === host1 && pluginOf(c) === 'portmap')!;
    const flannel = seen.find((c) => c.container === host1 && pluginOf(c) === 'flannel')!;
    expect(JSON.parse(flannel.stdin!)).toEqual({ cniVersion: '0.3.1', delegate: { hairpinMode: true, isDefaultGateway: true }, name: 'cbr0', type: 'flannel' });
    expect(JSON.parse(portmap.stdin!)).toMatchObject({ name: 'cbr0', cniVersion: '0.3.1', type: 'portmap', capabilities: { portMappings: true } });
    expect(JSON.parse(portmap.stdin!).prevResult.interfaces[1].name).toBe('veth00000000');
    expect(envOf(flannel, 'CNI_COMMAND')).toBe('ADD');
    expect(flannel.command.slice(0, 7)).toEqual(['timeout', '-k', '2', '-s', 'TERM', '30', 'env']);

    // the model now carries what the plugins chose
    expect(lab.hosts[0]!.pods.map((p) => [p.hostVeth, p.mac])).toEqual([['veth00000000', '0a:00:00:00:00:03'], ['veth00000001', '0a:00:00:00:01:03']]);
    expect(lab.hosts[0]!.networks[0]!.bridgeMac).toBe('0a:00:00:00:01:01'); // the last ADD's answer
    const cache = JSON.parse(runtime.file(host1, [...runtime.containers.get(host1)!.files.keys()].find((k) => k.includes('/results/'))!)!);
    expect(cache).toMatchObject({ kind: 'cniCacheV1', ifName: 'eth0', networkName: 'cbr0', netns: '/var/run/netns/pod1' });
    expect(Buffer.from(cache.config, 'base64').toString()).toContain('"name": "cbr0"');
  });

  it('names the plugin, the pod and the plugin\'s own CNI error when an ADD fails (exit 3)', async () => {
    const lab = cniLab();
    const runtime = new FakeRuntime();
    withHosts(runtime, lab);
    runtime.onExec((call) => (pluginOf(call) === 'flannel' ? { exitCode: 1, stdout: '{"cniVersion":"0.3.1","code":999,"msg":"failed to load flannel \'subnet.env\' file: nope"}' } : undefined));
    const error = await attachCniPods(runtime, lab, new AbortController().signal, lab.hosts, { shim: SHIM }).then(resolvedInstead, (e: unknown) => e as Error);
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).toMatch(/^CNI ADD of host\d\/pod1: plugin flannel \(network cbr0\) failed: failed to load flannel 'subnet.env' file: nope \(CNI error 999\)$/);
  });

  it('says the image lacks the plugins when a plugin is not there (exit 127 from env), with the fix', async () => {
    const lab = cniLab();
    const runtime = new FakeRuntime();
    withHosts(runtime, lab);
    runtime.onExec((call) => (call.command[0] === 'bash' ? { exitCode: 127, stderr: "env: '/usr/lib/cni/loopback': No such file or directory" } : undefined));
    const error = await attachCniPods(runtime, lab, new AbortController().signal, lab.hosts, { shim: SHIM }).then(resolvedInstead, (e: unknown) => e as Error & { hint?: string });
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).toMatch(/the host image has no CNI plugins/);
    expect(error.hint).toMatch(/overlab image build/);
  });

  it('refuses an address host-local did not plan with (a bug, exit 70) rather than a lab whose checks lie', async () => {
    const lab = cniLab();
    const runtime = new FakeRuntime();
    withHosts(runtime, lab);
    runtime.onExec((call) =>
      pluginOf(call) === 'flannel'
        ? { stdout: JSON.stringify({ cniVersion: '0.3.1', interfaces: [{ name: 'cni0', mac: '0a:00:00:00:00:01' }, { name: 'veth1', mac: '0a:00:00:00:00:02' }, { name: 'eth0', mac: '0a:00:00:00:00:03', sandbox: 'x' }], ips: [{ version: '4', interface: 2, address: '10.244.9.9/24' }] }) }
        : pluginOf(call) === 'portmap'
          ? { stdout: JSON.stringify(JSON.parse(call.stdin!).prevResult) }
          : undefined,
    );
    const error = await attachCniPods(runtime, lab, new AbortController().signal, lab.hosts, { shim: SHIM }).then(resolvedInstead, (e: unknown) => e as Error);
    expect(exitCodeFor(error)).toBe(70);
  });
});

describe('down with CNI hosts', () => {
  it('runs DEL on every running CNI host (one runner exec each) before any container goes', async () => {
    const lab = cniLab();
    const runtime = new FakeRuntime();
    withHosts(runtime, lab);
    await saveLabModel(runtime, lab);
    const result = await downLab(runtime, 'demo');
    const order = runtime.calls.filter((c) => c.method === 'exec' || c.method === 'remove').map((c) => `${c.method} ${String(c.args[0])}`);
    expect(order.slice(0, 2).sort()).toEqual(['exec overlab-demo-host1', 'exec overlab-demo-host2']);
    expect(order.slice(2).every((o) => o.startsWith('remove'))).toBe(true);
    const stdin = runtime.calls.find((c) => c.method === 'exec')!.args[2] as string;
    expect(stdin).toContain('CNI_COMMAND=DEL');
    expect(stdin.indexOf('/usr/lib/cni/portmap')).toBeLessThan(stdin.indexOf('/opt/cni/bin/flannel'));
    expect(result.cniDetached).toEqual([{ host: 'host1', pods: ['pod1', 'pod2'] }, { host: 'host2', pods: ['pod1'] }]);
  });

  it('removes the containers even when DEL fails, and says why', async () => {
    const lab = cniLab();
    const runtime = new FakeRuntime();
    withHosts(runtime, lab);
    await saveLabModel(runtime, lab);
    runtime.onExec(() => ({ exitCode: 1, stderr: '@@overlab-step 0\nboom\n' }));
    const result = await downLab(runtime, 'demo');
    expect(runtime.names()).toEqual([]);
    expect(result.cniDetached?.[0]?.error).toMatch(/^CNI DEL on host1 failed at `timeout -k 2 -s TERM 30 env CNI_COMMAND=DEL .*portmap`: boom$/);
  });

  it('asks for no model and runs nothing for a lab without CNI hosts; its share goes after its containers, another lab\'s stays', async () => {
    const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
    const runtime = new FakeRuntime();
    withHosts(runtime, lab);
    await runtime.createVolume('overlab-demo-share', { 'overlab.lab': 'demo', 'overlab.run': 'r1' });
    await runtime.createVolume('overlab-other-share', { 'overlab.lab': 'other' });
    await downLab(runtime, 'demo');
    expect([...runtime.volumes.keys()]).toEqual(['overlab-other-share']);
    const order = runtime.calls.filter((c) => c.method === 'remove' || c.method === 'removeVolumes').map((c) => c.method);
    expect(order.at(-1)).toBe('removeVolumes');
    expect(order.slice(0, -1).every((m) => m === 'remove')).toBe(true);
    expect(runtime.calls.filter((c) => c.method === 'exec' || c.method === 'readFile')).toEqual([]);
  });
});
