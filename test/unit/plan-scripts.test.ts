import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/addressing.js';
import { dryRunPid, renderHostScript, renderNodeScripts, renderSwitchScript } from '../../src/plan/node-scripts.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { renderDryRun } from '../../src/plan/dry-run.js';
import { failedCommand, scriptErrors, toExecutable } from '../../src/plan/batch-script.js';
import { twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const commands = (lines: string[]) => lines.filter((l) => !l.startsWith('#'));

describe('host scripts', () => {
  it('wires the underlay, the bridge, each pod and the host-gw routes in order', () => {
    const script = renderHostScript(lab, lab.hosts[0]!);
    expect(commands(script.lines)).toEqual([
      'ip link set lo up',
      'ip addr add 192.168.50.2/24 dev eth0',
      'ip link set eth0 up',
      'ip link add docker0 type bridge',
      'ip link set docker0 address 02:42:ac:10:01:01',
      'ip addr add 172.16.1.1/24 dev docker0',
      'ip link set docker0 up',
      'ip netns add pod1',
      'ip link add veth-pod1 mtu 1500 type veth peer name eth0 address 02:42:ac:10:01:02 mtu 1500 netns pod1',
      'ip link set veth-pod1 master docker0 up',
      'ip -n pod1 link set lo up',
      'ip -n pod1 addr add 172.16.1.2/24 dev eth0',
      'ip -n pod1 link set eth0 up',
      'ip -n pod1 route add default via 172.16.1.1',
      'ip netns add pod2',
      'ip link add veth-pod2 mtu 1500 type veth peer name eth0 address 02:42:ac:10:01:03 mtu 1500 netns pod2',
      'ip link set veth-pod2 master docker0 up',
      'ip -n pod2 link set lo up',
      'ip -n pod2 addr add 172.16.1.3/24 dev eth0',
      'ip -n pod2 link set eth0 up',
      'ip -n pod2 route add default via 172.16.1.1',
      'ip route replace 172.16.2.0/24 via 192.168.50.3 dev eth0',
      'iptables -t nat -A POSTROUTING -s 172.16.0.0/16 ! -d 172.16.0.0/16 -o eth0 -j MASQUERADE',
    ]);
  });

  it('adds a default route via the router when the underlay has a gateway', () => {
    const spec = twoHostSpec({ underlay: { mtu: 1500, gateway: 'router' } });
    const withGateway = resolveLab(spec, { takenSubnets: [] });
    expect(renderHostScript(withGateway, withGateway.hosts[1]!).lines).toContain('ip route add default via 192.168.50.1');
  });

  it('adds no routes for backend none and no NAT when nat is off', () => {
    const spec = twoHostSpec();
    spec.networks[0] = { ...spec.networks[0]!, backend: 'none', nat: false };
    const plain = resolveLab(spec, { takenSubnets: [] });
    const lines = renderHostScript(plain, plain.hosts[0]!).lines;
    expect(lines.some((l) => l.startsWith('ip route replace 172.16.'))).toBe(false);
    expect(lines.some((l) => l.startsWith('iptables'))).toBe(false);
  });

});

describe('executable scripts', () => {
  const script = { node: 'h', container: 'c', lines: ['# comment', 'ip link set lo up', 'ip addr add 10.0.0.1/24 dev eth0', 'ip -n p1 link set lo up', 'ip -n p1 route add default via 10.0.0.1', 'iptables -t nat -F', 'ip route add 10.1.0.0/24 via 10.0.0.2'] };
  const exe = toExecutable(script);

  it('batches consecutive ip commands per namespace and keeps everything else as is', () => {
    expect(exe.groups).toEqual([
      ['ip link set lo up', 'ip addr add 10.0.0.1/24 dev eth0'],
      ['ip -n p1 link set lo up', 'ip -n p1 route add default via 10.0.0.1'],
      ['iptables -t nat -F'],
      ['ip route add 10.1.0.0/24 via 10.0.0.2'],
    ]);
    expect(exe.shell).toContain("ip -batch - <<'OVERLAB_BATCH'\nlink set lo up\naddr add 10.0.0.1/24 dev eth0\nOVERLAB_BATCH");
    expect(exe.shell).toContain("ip -n p1 -batch - <<'OVERLAB_BATCH'\nlink set lo up\nroute add default via 10.0.0.1\nOVERLAB_BATCH");
    expect(exe.shell.startsWith('set -e\n')).toBe(true);
    expect(exe.shell).not.toContain('# comment');
  });

  it('runs every command of the readable script', () => {
    const host = renderHostScript(lab, lab.hosts[0]!);
    expect(toExecutable(host).groups.flat()).toEqual(host.lines.filter((l) => !l.startsWith('#')));
  });

  it('names the failing command, inside a batch too', () => {
    const stderr = "@@overlab-group 0\n@@overlab-group 1\nRTNETLINK answers: File exists\nCommand failed -:2\n";
    expect(failedCommand(exe, stderr)).toBe('ip -n p1 route add default via 10.0.0.1');
    expect(failedCommand(exe, '@@overlab-group 2\niptables: No chain\n')).toBe('iptables -t nat -F');
    expect(failedCommand(exe, 'no marks')).toBeUndefined();
    expect(scriptErrors(stderr)).toEqual(['RTNETLINK answers: File exists']);
  });
});

describe('switch script and containers', () => {
  it('cables every node with its MAC into the switch bridge', () => {
    const script = renderSwitchScript(lab, (c) => `<${c}>`);
    expect(script.container).toBe('overlab-demo-switch');
    expect(script.lines).toContain(
      'ip link add host2 mtu 1500 type veth peer name eth0 address 02:42:c0:a8:32:03 mtu 1500 netns <overlab-demo-host2>',
    );
    expect(script.lines).toContain('ip link set outside master underlay up');
    expect(renderSwitchScript(lab, dryRunPid).lines.join('\n')).toContain("$(docker inspect -f '{{.State.Pid}}' overlab-demo-router)");
  });

  it('labels every container and never asks for privileged mode', () => {
    const specs = containerSpecs(lab);
    expect(specs.map((s) => s.name).sort()).toEqual(
      ['overlab-demo-host1', 'overlab-demo-host2', 'overlab-demo-outside', 'overlab-demo-router', 'overlab-demo-switch'].sort(),
    );
    for (const spec of specs) {
      expect(spec.labels['overlab.lab']).toBe('demo');
      expect(spec.labels['overlab.node']).toBeTruthy();
      expect(spec.capAdd).toEqual(['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW']);
    }
    expect(specs.filter((s) => s.hostPid).map((s) => s.name)).toEqual(['overlab-demo-switch']);
    // Labels keep small values only (the model lives in a file inside the switch), and each
    // carries the id of the run that made it.
    for (const spec of containerSpecs(lab, 'run-1')) {
      expect(spec.labels['overlab.run']).toBe('run-1');
      expect(Math.max(...Object.values(spec.labels).map((v) => v.length))).toBeLessThan(256);
    }
  });

  it('dry-run shows docker run lines and every script', () => {
    const text = renderDryRun(lab);
    expect(text).toContain('docker run -d');
    expect(text).toContain('--cap-add NET_ADMIN');
    expect(text).not.toContain('--privileged');
    for (const script of renderNodeScripts(lab)) for (const line of script.lines) expect(text).toContain(line);
  });
});
