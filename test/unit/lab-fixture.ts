// A LabSpec built in code, for unit tests of the planner and checks.
import type { LabSpec, PodNetworkSpec } from '../../src/lab-spec/lab-spec.js';

export function network(overrides: Partial<PodNetworkSpec> = {}): PodNetworkSpec {
  return {
    name: 'default',
    cidr: '172.16.0.0/16',
    subnetLen: 24,
    bridge: 'docker0',
    backend: 'none',
    controlPlane: 'static',
    podAttach: 'ip',
    vni: 1,
    port: 8472,
    nat: true,
    leaseTtl: 86_400,
    ...overrides,
  };
}

export function twoHostSpec(overrides: Partial<LabSpec> = {}): LabSpec {
  return {
    name: 'demo',
    file: '/labs/demo.yaml',
    networks: [network({ backend: 'host-gw' })],
    underlay: { mtu: 1500 },
    hosts: [
      { name: 'host1', subnets: {}, pods: [{ name: 'pod1', network: 'default' }, { name: 'pod2', network: 'default' }] },
      { name: 'host2', subnets: {}, pods: [{ name: 'pod1', network: 'default' }] },
    ],
    externals: [
      { name: 'router', role: 'router' },
      { name: 'outside', role: 'outside' },
    ],
    checks: [],
    ...overrides,
  };
}
