import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { renderLabDiagram } from '../../src/report/lab-diagram.js';
import { network, twoHostSpec } from './lab-fixture.js';

describe('renderLabDiagram', () => {
  it('draws switch, hosts, bridge, pods and the flannel device as a tree', () => {
    const spec = twoHostSpec({ networks: [network({ backend: 'vxlan', controlPlane: 'static', cidr: '10.244.0.0/16' })], underlay: { mtu: 1500, gateway: 'router' } });
    const text = renderLabDiagram(resolveLab(spec, { takenSubnets: [] }));
    expect(text.split('\n').slice(0, 7)).toEqual([
      `underlay 192.168.50.0/24 — bridge "underlay" in overlab-demo-switch, hosts' default route via 192.168.50.1`,
      '├── host1  eth0 192.168.50.2  02:42:c0:a8:32:02',
      "│   ├── docker0 10.244.1.1/24 (bridge, the pods' gateway)",
      '│   │   ├── veth-pod1 ══ pod1:eth0 10.244.1.2/24  02:42:0a:f4:01:02',
      '│   │   └── veth-pod2 ══ pod2:eth0 10.244.1.3/24  02:42:0a:f4:01:03',
      '│   └── flannel.1 VTEP, VNI 1, UDP 8472 (static)',
      '├── host2  eth0 192.168.50.3  02:42:c0:a8:32:03',
    ]);
    expect(text.split('\n').at(-1)).toBe('└── outside  eth0 192.168.50.254  (outside)');
  });
});
