import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { NETNS_SHARE, netnsServeArgv, renderHostPlan, renderNodePlans, renderSwitchPlan, UNDERLAY_NETNS, UNDERLAY_SOCKET } from '../../src/plan/node-plans.js';
import { planCommands, renderPlanLines } from '../../src/plan/node-plan.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { renderDryRun } from '../../src/plan/dry-run.js';
import { toRunnerSteps } from '../../src/plan/step-runner.js';
import { shellCommand } from '../../src/plan/shell-quote.js';
import { network, twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const typed = (plan: ReturnType<typeof renderHostPlan>) => planCommands(plan).map(shellCommand);

describe('host plans', () => {
  it('cables the host to the switch, then wires the underlay, the bridge, each pod and the host-gw routes in order', () => {
    expect(typed(renderHostPlan(lab, lab.hosts[0]!))).toEqual([
      `${NETNS_SHARE} get ${UNDERLAY_SOCKET} ${UNDERLAY_NETNS} 120`,
      `ip link add name eth0 address 02:42:c0:a8:32:02 mtu 1500 type veth peer name host1 mtu 1500 netns ${UNDERLAY_NETNS}`,
      `nsenter --net=${UNDERLAY_NETNS} ip link set dev host1 master underlay up`,
      'ip link set dev lo up',
      'ip addr add 192.168.50.2/24 dev eth0',
      'ip link set dev eth0 up',
      'ip link add name docker0 type bridge',
      'ip link set dev docker0 address 02:42:ac:10:01:01',
      'ip addr add 172.16.1.1/24 dev docker0',
      'ip link set dev docker0 up',
      'ip netns add pod1',
      'ip link add name veth-pod1 mtu 1500 type veth peer name eth0 address 02:42:ac:10:01:02 mtu 1500 netns pod1',
      'ip link set dev veth-pod1 master docker0 up',
      'ip -n pod1 link set dev lo up',
      'ip -n pod1 addr add 172.16.1.2/24 dev eth0',
      'ip -n pod1 link set dev eth0 up',
      'ip -n pod1 route add default via 172.16.1.1',
      'ip netns add pod2',
      'ip link add name veth-pod2 mtu 1500 type veth peer name eth0 address 02:42:ac:10:01:03 mtu 1500 netns pod2',
      'ip link set dev veth-pod2 master docker0 up',
      'ip -n pod2 link set dev lo up',
      'ip -n pod2 addr add 172.16.1.3/24 dev eth0',
      'ip -n pod2 link set dev eth0 up',
      'ip -n pod2 route add default via 172.16.1.1',
      'ip route replace 172.16.2.0/24 via 192.168.50.3 dev eth0',
      "iptables -t nat -A POSTROUTING -s 172.16.0.0/16 '!' -d 172.16.0.0/16 -o eth0 -j MASQUERADE",
    ]);
  });

  it('runs as few processes as the namespaces allow: one exec, a batch per namespace run', () => {
    const steps = toRunnerSteps(planCommands(renderHostPlan(lab, lab.hosts[0]!)));
    expect(steps.map((s) => s.argv.join(' '))).toEqual([
      '/run/overlab/share/netns-share get /run/overlab/share/underlay.sock /run/overlab/underlay.netns 120',
      'ip link add name eth0 address 02:42:c0:a8:32:02 mtu 1500 type veth peer name host1 mtu 1500 netns /run/overlab/underlay.netns',
      'nsenter --net=/run/overlab/underlay.netns ip link set dev host1 master underlay up',
      'ip -batch -',
      'ip -n pod1 -batch -',
      'ip -batch -',
      'ip -n pod2 -batch -',
      'ip route replace 172.16.2.0/24 via 192.168.50.3 dev eth0',
      'iptables -t nat -A POSTROUTING -s 172.16.0.0/16 ! -d 172.16.0.0/16 -o eth0 -j MASQUERADE',
    ]);
  });

  it('adds a default route via the router when the underlay has a gateway', () => {
    const withGateway = resolveLab(twoHostSpec({ underlay: { mtu: 1500, gateway: 'router' } }), { takenSubnets: [] });
    expect(typed(renderHostPlan(withGateway, withGateway.hosts[1]!))).toContain('ip route add default via 192.168.50.1');
  });

  it('adds no routes for backend none and no NAT when nat is off', () => {
    const spec = twoHostSpec();
    spec.networks[0] = { ...spec.networks[0]!, backend: 'none', nat: false };
    const plain = resolveLab(spec, { takenSubnets: [] });
    const lines = typed(renderHostPlan(plain, plain.hosts[0]!));
    expect(lines.some((l) => l.startsWith('ip route replace 172.16.'))).toBe(false);
    expect(lines.some((l) => l.startsWith('iptables'))).toBe(false);
  });

  it('leaves an etcd-backed network to its agent: no config written by a process, no NAT', () => {
    const spec = twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'etcd', cidr: '10.244.0.0/16' })] });
    const withEtcd = resolveLab(spec, { takenSubnets: [] });
    const lines = typed(renderHostPlan(withEtcd, withEtcd.hosts[0]!));
    expect(lines.some((l) => /printf|mkdir|etcd|iptables/.test(l))).toBe(false);
  });
});

describe('the switch and the containers', () => {
  it('the switch holds only the bridge: cables are made by the nodes', () => {
    expect(typed(renderSwitchPlan(lab))).toEqual(['ip link add name underlay type bridge', 'ip link set dev underlay up']);
    for (const plan of renderNodePlans(lab)) {
      expect(typed(plan)).toContain(`nsenter --net=${UNDERLAY_NETNS} ip link set dev ${plan.node} master underlay up`);
    }
    // Each node first takes the switch's namespace over the lab's share (no shared PID namespace),
    // which the switch hands to exactly as many nodes as the lab has.
    for (const plan of renderNodePlans(lab)) expect(typed(plan)[0]).toBe(`${NETNS_SHARE} get ${UNDERLAY_SOCKET} ${UNDERLAY_NETNS} 120`);
    expect(netnsServeArgv(renderNodePlans(lab).length)).toEqual([NETNS_SHARE, 'serve', UNDERLAY_SOCKET, '4', '180']);
  });

  it('labels every container, never asks for privileged mode nor the machine\'s PID namespace', () => {
    const specs = containerSpecs(lab);
    expect(specs.map((s) => s.name).sort()).toEqual(
      ['overlab-demo-host1', 'overlab-demo-host2', 'overlab-demo-outside', 'overlab-demo-router', 'overlab-demo-switch'].sort(),
    );
    for (const spec of specs) {
      expect(spec.labels['overlab.lab']).toBe('demo');
      expect(spec.labels['overlab.node']).toBeTruthy();
      expect(spec.capAdd).toEqual(['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW']);
      expect(spec.mounts?.some((m) => 'source' in m && (m.source === '/proc' || m.source.startsWith('/proc/')))).toBeFalsy();
      // The lab's share and nothing else: written by the switch only.
      expect(spec.mounts).toEqual([{ volume: 'overlab-demo-share', target: '/run/overlab/share', readonly: spec.name !== 'overlab-demo-switch' }]);
    }
    // The model lives in a file in the switch (src/lab/lab-files.ts), never in a label (labels stay small).
    expect(specs.every((s) => Object.values(s.labels).every((v) => v.length < 256))).toBe(true);
  });

  it('dry-run shows the share and the switch first, its namespace handed to every other node, and every command', () => {
    const text = renderDryRun(lab);
    expect(text).toContain('docker run -d');
    expect(text).toContain('--cap-add NET_ADMIN');
    expect(text).not.toContain('--privileged');
    expect(text).not.toContain('--pid');
    expect(text).toContain('docker volume create --label overlab.lab=demo overlab-demo-share');
    expect(text).toContain('docker exec -d overlab-demo-switch /run/overlab/share/netns-share serve /run/overlab/share/underlay.sock 4 180');
    expect(text.split('type=volume,source=overlab-demo-share,target=/run/overlab/share,readonly').length - 1).toBe(4);
    expect(text.indexOf('--name overlab-demo-switch')).toBeLessThan(text.indexOf('--name overlab-demo-host1'));
    for (const plan of [renderSwitchPlan(lab), ...renderNodePlans(lab)]) for (const line of renderPlanLines(plan.lines)) expect(text).toContain(line);
  });

  it('dry-run of an etcd lab starts etcd and the agents as commands a student can type', () => {
    const spec = twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'etcd', cidr: '10.244.0.0/16' })] });
    const text = renderDryRun(resolveLab(spec, { takenSubnets: [] }));
    expect(text).toMatch(/^nohup etcd --name demo .* >>\/var\/log\/etcd\.log 2>&1 <\/dev\/null &$/m);
    expect(text).toContain(`etcdctl put /coreos.com/network/config '{"Network":"10.244.0.0/16",`);
    expect(text).toMatch(/^printf '%s\\n' '\{"host":"host1",.*' > \/etc\/overlab\/agent\.json$/m);
    expect(text).toContain('nohup node /opt/overlab/agent/main.js --config /etc/overlab/agent.json >>/var/log/overlab-agent.out 2>&1 </dev/null &');
    expect(text).toMatch(/--name overlab-demo-etcd .*\n(.*\n)*? +--tmpfs \/var\/lib\/overlab-etcd:size=256m,mode=0700 /);
  });

  it("gives etcd's data directory, and only it, a tmpfs", () => {
    const etcdLab = resolveLab(twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'etcd', cidr: '10.244.0.0/16' })] }), { takenSubnets: [] });
    const specs = containerSpecs(etcdLab);
    expect(specs.find((s) => s.name === 'overlab-demo-etcd')!.tmpfs).toEqual([{ target: '/var/lib/overlab-etcd', options: 'size=256m,mode=0700' }]);
    expect(specs.filter((s) => s.tmpfs).map((s) => s.name)).toEqual(['overlab-demo-etcd']);
    // and a host's CPU weight per host (two at least), so it answers a crowd of starting agents
    expect(specs.find((s) => s.name === 'overlab-demo-etcd')!.cpuShares).toBe(2048);
    expect(specs.filter((s) => s.cpuShares).map((s) => s.name)).toEqual(['overlab-demo-etcd']);
  });

  it('a description cannot end the comment it is shown in', () => {
    const text = renderDryRun({ ...lab, description: 'nice lab\ntouch /tmp/pwned' });
    expect(text).not.toMatch(/^touch/m);
    expect(text).toContain('nice lab\\u000atouch /tmp/pwned');
  });
});
