// The services part of the spec language: Services with ClusterIP and NodePort, ports with
// targetPort and protocol, endpoints as pods that serve, the Service CIDR, proxyMode; every
// problem reported with its place, all at once (exit 2), and the `service` check's references.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { formatIssue, SpecError } from '../../src/lab-spec/spec-error.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';

const base = `name: svc
network: { cidr: 10.244.0.0/16, backend: host-gw }
underlay: { subnet: 192.168.50.0/24 }
hosts:
  - name: host1
    pods:
      - { name: web1, serve: [{ port: 8080 }, { port: 5353, protocol: UDP }] }
      - client
  - name: host2
    pods:
      - { name: web2, serve: [{ port: 8080 }] }
nodes:
  - { name: outside, role: outside }
`;

function problems(text: string): string[] {
  try {
    parseLabSpec(text, 'svc.yaml');
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('services: in a spec', () => {
  it('a ClusterIP and a NodePort Service, defaults filled in', () => {
    const lab = parseLabSpec(
      `${base}services:
  - name: web
    type: NodePort
    ports: [{ name: http, port: 80, targetPort: 8080 }]
    endpoints: [host1/web1, host2/web2]
  - name: dns
    namespace: kube-system
    clusterIP: 10.96.0.53
    ports: [{ port: 53, targetPort: 5353, protocol: UDP }]
    endpoints: [host1/web1]
`,
      'svc.yaml',
    );
    expect(lab.services).toEqual({
      proxyMode: 'iptables',
      serviceCIDR: '10.96.0.0/12',
      services: [
        { name: 'web', namespace: 'default', type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], endpoints: ['host1/web1', 'host2/web2'] },
        { name: 'dns', namespace: 'kube-system', type: 'ClusterIP', clusterIP: '10.96.0.53', ports: [{ name: '', port: 53, targetPort: 5353, protocol: 'UDP' }], endpoints: ['host1/web1'] },
      ],
    });
    expect(lab.hosts[0]!.pods[0]!.serve).toEqual([{ port: 8080, protocol: 'TCP' }, { port: 5353, protocol: 'UDP' }]);
    const resolved = resolveLab(lab, { takenSubnets: [] });
    expect(resolved.services!.services.map((s) => [s.clusterIP, s.ports.map((p) => p.nodePort)])).toEqual([
      ['10.96.0.10', [30000]],
      ['10.96.0.53', [undefined]],
    ]);
    expect(resolved.hosts[0]!.pods[0]!.serve).toEqual([{ port: 8080, protocol: 'TCP' }, { port: 5353, protocol: 'UDP' }]);
  });

  it('allocation skips what the spec pinned', () => {
    const lab = parseLabSpec(
      `${base}services:
  - { name: a, clusterIP: 10.96.0.11, type: NodePort, ports: [{ port: 80, targetPort: 8080, nodePort: 30001 }], endpoints: [] }
  - { name: b, type: NodePort, ports: [{ port: 80, targetPort: 8080 }], endpoints: [] }
  - { name: c, type: NodePort, ports: [{ port: 80, targetPort: 8080 }], endpoints: [] }
`,
      'svc.yaml',
    );
    const resolved = resolveLab(lab, { takenSubnets: [] });
    expect(resolved.services!.services.map((s) => `${s.clusterIP} ${s.ports[0]!.nodePort}`)).toEqual(['10.96.0.11 30001', '10.96.0.10 30000', '10.96.0.12 30002']);
  });

  it('a spec without services has none (existing labs are unchanged)', () => {
    expect(parseLabSpec(base, 'svc.yaml').services).toBeUndefined();
  });

  it('every problem, with its place', () => {
    expect(
      problems(`${base}serviceCIDR: 10.240.0.0/12
services:
  - name: web
    clusterIP: 10.96.0.5
    ports: [{ port: 80, targetPort: 9090, nodePort: 30001 }, { port: 81, targetPort: 8080 }]
    endpoints: [host1/web1, host1/web9, outside/x, host1/web1, host3/web1]
  - name: web
    ports: [{ name: http, port: 80, targetPort: 8080 }, { name: http, port: 80, targetPort: 8080 }]
    endpoints: [host2/web2]
`),
    ).toEqual([
      'svc.yaml:14:14 serviceCIDR: 10.240.0.0/12 overlaps pod network "default" (10.244.0.0/16). A ClusterIP must not be a pod address: choose a range outside the pod networks.',
      'svc.yaml:18:13 services[0].ports[0]: port 80 has no name, and Service "web" has 2 ports. Kubernetes asks every port of a multi-port Service for a name: add name: (e.g. http).',
      'svc.yaml:18:53 services[0].ports[0].nodePort: nodePort is for type NodePort, and Service "web" is ClusterIP. Add type: NodePort, or remove nodePort.',
      'svc.yaml:18:62 services[0].ports[1]: port 81 has no name, and Service "web" has 2 ports. Kubernetes asks every port of a multi-port Service for a name: add name: (e.g. http).',
      'svc.yaml:19:17 services[0].endpoints[0]: host1/web1 does not serve TCP 9090 (targetPort of port 80); it serves TCP 8080, UDP 5353. Give the pod serve: [{ port: 9090 }].',
      'svc.yaml:19:29 services[0].endpoints[1]: host1 has no pod "web9". Did you mean "host1/web1"?',
      'svc.yaml:19:41 services[0].endpoints[2]: "outside" is an external node; an endpoint is a pod on a host.',
      'svc.yaml:19:52 services[0].endpoints[3]: host1/web1 is listed twice as an endpoint of "web".',
      'svc.yaml:19:64 services[0].endpoints[4]: unknown host "host3" in endpoint "host3/web1". Did you mean "host1"?',
      'svc.yaml:20:11 services[1].name: duplicate Service "default/web"; services[0] already uses it. A Service name is unique in its namespace.',
      'svc.yaml:21:65 services[1].ports[1].name: port name "http" is used twice in Service "web".',
      'svc.yaml:21:77 services[1].ports[1].port: TCP port 80 is listed twice in Service "web".',
    ]);
  });

  it('names in the Kubernetes alphabet, refused with the rule', () => {
    const found = problems(`${base}services:
  - { name: "Web;rm -rf", namespace: "-x", ports: [{ name: "HTTP", port: 80 }], endpoints: ["host1/web1;x"] }
`);
    expect(found.join('\n')).toMatch(/services\[0\]\.name: "Web;rm -rf" is not a Service name/);
    expect(found.join('\n')).toMatch(/services\[0\]\.namespace: "-x" is not a namespace name/);
    expect(found.join('\n')).toMatch(/services\[0\]\.ports\[0\]\.name: "HTTP" is not a Service port name/);
    expect(found.join('\n')).toMatch(/services\[0\]\.endpoints\[0\]: "host1\/web1;x" is not a pod; write <host>\/<pod>/);
  });

  it('a ClusterIP outside the range, on its network address, or taken twice', () => {
    expect(
      problems(`${base}serviceCIDR: 10.100.0.0/24
services:
  - { name: a, clusterIP: 10.100.1.1, ports: [{ port: 80 }], endpoints: [] }
  - { name: b, clusterIP: 10.100.0.0, ports: [{ port: 80 }], endpoints: [] }
  - { name: c, clusterIP: 10.100.0.7, ports: [{ port: 80 }], endpoints: [] }
  - { name: d, clusterIP: 10.100.0.7, ports: [{ port: 80 }], endpoints: [] }
`),
    ).toEqual([
      'svc.yaml:16:27 services[0].clusterIP: 10.100.1.1 is outside serviceCIDR 10.100.0.0/24. A ClusterIP comes from the Service range.',
      'svc.yaml:17:27 services[1].clusterIP: 10.100.0.0 is the network address of serviceCIDR 10.100.0.0/24.',
      'svc.yaml:19:27 services[3].clusterIP: 10.100.0.7 is already the ClusterIP of default/c.',
    ]);
  });

  it('the service check: references checked, defaults by whether the Service has endpoints', () => {
    const spec = `${base}services:
  - { name: web, type: NodePort, ports: [{ name: http, port: 80, targetPort: 8080 }], endpoints: [host1/web1] }
  - { name: empty, ports: [{ port: 80, targetPort: 8080 }], endpoints: [] }
checks:
`;
    const lab = parseLabSpec(
      `${spec}  - { name: a, service: { from: host1/client, to: web } }
  - { name: b, service: { from: outside, to: web:http, via: nodePort, node: host2 } }
  - { name: c, service: { from: host2, to: empty } }
`,
      'svc.yaml',
    );
    expect(lab.checks.map((c) => c.service)).toEqual([
      { from: 'host1/client', to: 'web', via: 'clusterIP', requests: 300, expect: 'balanced' },
      { from: 'outside', to: 'web:http', via: 'nodePort', node: 'host2', requests: 300, expect: 'balanced' },
      { from: 'host2', to: 'empty', via: 'clusterIP', requests: 5, expect: 'refused' },
    ]);
    expect(
      problems(`${spec}  - { name: a, service: { from: outside, to: web } }
  - { name: b, service: { from: host1/client, to: empty, via: nodePort } }
  - { name: c, service: { from: host1/client, to: wbe } }
  - { name: d, service: { from: host1/client, to: web:https } }
  - { name: e, service: { from: host1/client, to: web, node: host2 } }
`),
    ).toEqual([
      'svc.yaml:18:33 checks[0].service.from: "outside" is an external node: a ClusterIP is reachable only from the cluster\'s hosts and pods. Use via: nodePort (and node: <host>).',
      'svc.yaml:19:63 checks[1].service.via: Service "empty" is ClusterIP: it has no NodePort. Make it type: NodePort, or use via: clusterIP.',
      'svc.yaml:20:51 checks[2].service.to: unknown Service "wbe". Services: web, empty.',
      'svc.yaml:21:51 checks[3].service.to: Service "web" has no port named "https". Its ports: http.',
      'svc.yaml:22:56 checks[4].service.node: node is for via: nodePort (the host whose address is asked).',
    ]);
  });
});
