import { describe, expect, it } from 'vitest';
import { chooseUnderlaySubnet, macForIp, nthSubnet, resolveLab } from '../../src/plan/resolve-lab.js';
import { hostVethName } from '../../src/plan/container-names.js';
import { twoHostSpec } from './lab-fixture.js';

describe('chooseUnderlaySubnet', () => {
  it('takes the first /24 from 192.168.50.0 that nothing overlaps', () => {
    expect(chooseUnderlaySubnet([])).toBe('192.168.50.0/24');
    expect(chooseUnderlaySubnet(['192.168.50.0/24', '192.168.51.128/25'])).toBe('192.168.52.0/24');
    expect(chooseUnderlaySubnet(['192.168.0.0/17'])).toBe('192.168.128.0/24');
  });
  it('fails with a hint when everything is taken', () => {
    expect(() => chooseUnderlaySubnet(['192.168.0.0/16'])).toThrow(/no free underlay subnet/);
  });
});

describe('resolveLab', () => {
  const lab = resolveLab(twoHostSpec(), { takenSubnets: ['192.168.50.0/24'] });

  it('avoids taken subnets for the underlay and numbers routers first, hosts next, others from the top', () => {
    expect(lab.underlay.subnet).toBe('192.168.51.0/24');
    expect(lab.externals.find((e) => e.name === 'router')?.underlayIp).toBe('192.168.51.1');
    expect(lab.hosts.map((h) => h.underlayIp)).toEqual(['192.168.51.2', '192.168.51.3']);
    expect(lab.externals.find((e) => e.name === 'outside')?.underlayIp).toBe('192.168.51.254');
  });

  it('gives host N the pod subnet N, the bridge .1 and pods .2 upwards', () => {
    const [host1, host2] = lab.hosts;
    expect(host1!.networks[0]).toMatchObject({ subnet: '172.16.1.0/24', bridgeIp: '172.16.1.1', bridge: 'docker0' });
    expect(host2!.networks[0]!.subnet).toBe('172.16.2.0/24');
    expect(host1!.pods.map((p) => [p.name, p.ip, p.gateway])).toEqual([
      ['pod1', '172.16.1.2', '172.16.1.1'],
      ['pod2', '172.16.1.3', '172.16.1.1'],
    ]);
    expect(host2!.pods[0]!.ip).toBe('172.16.2.2');
  });

  it('derives Docker-style MACs from addresses', () => {
    expect(macForIp('172.16.1.2')).toBe('02:42:ac:10:01:02');
    expect(lab.hosts[0]!.pods[0]!.mac).toBe('02:42:ac:10:01:02');
    expect(lab.hosts[0]!.underlayMac).toBe(macForIp('192.168.51.2'));
  });

  it('keeps fixed addresses and subnets and allocates around them', () => {
    const spec = twoHostSpec();
    spec.hosts[0]!.subnets = { default: '172.16.2.0/24' };
    spec.hosts[0]!.pods[0]!.ip = '172.16.2.2';
    spec.underlay = { mtu: 1500, subnet: '10.99.0.0/24' };
    spec.hosts[1]!.underlayIp = '10.99.0.2';
    const fixed = resolveLab(spec, { takenSubnets: [] });
    expect(fixed.hosts[0]!.networks[0]!.subnet).toBe('172.16.2.0/24');
    expect(fixed.hosts[1]!.networks[0]!.subnet).toBe('172.16.1.0/24');
    expect(fixed.hosts[0]!.pods.map((p) => p.ip)).toEqual(['172.16.2.2', '172.16.2.3']);
    expect(fixed.hosts.map((h) => h.underlayIp)).toEqual(['10.99.0.3', '10.99.0.2']);
  });

  it('adds an etcd node when an overlay uses the etcd control plane', () => {
    const spec = twoHostSpec();
    spec.networks[0] = { ...spec.networks[0]!, backend: 'vxlan', controlPlane: 'etcd' };
    const withEtcd = resolveLab(spec, { takenSubnets: [] });
    expect(withEtcd.externals.find((e) => e.role === 'etcd')).toMatchObject({ name: 'etcd', container: 'overlab-demo-etcd' });
  });

  it('names containers overlab-<lab>-<node>', () => {
    expect(lab.hosts.map((h) => h.container)).toEqual(['overlab-demo-host1', 'overlab-demo-host2']);
    expect(lab.underlay.switchContainer).toBe('overlab-demo-switch');
  });
});

describe('nthSubnet and hostVethName', () => {
  it('counts subnets inside the network', () => {
    expect(nthSubnet('10.244.0.0/16', 24, 3)).toBe('10.244.3.0/24');
    expect(() => nthSubnet('10.244.0.0/24', 25, 2)).toThrow(/only 2 subnets/);
  });
  it('keeps veth names within 15 characters', () => {
    expect(hostVethName('pod1')).toBe('veth-pod1');
    const long = hostVethName('a-long-pod-name');
    expect(long).toMatch(/^veth[0-9a-f]{8}$/);
    expect(long.length).toBeLessThanOrEqual(15);
    expect(hostVethName('a-long-pod-name')).toBe(long);
  });
});
