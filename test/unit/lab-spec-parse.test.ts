import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError, formatIssue } from '../../src/lab-spec/spec-error.js';
import { loadLabSpec } from '../../src/lab-loader/load.js';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import type { CaptureSpec, LabSpec } from '../../src/lab-spec/lab-spec.js';
import { specIssues } from '../support/spec-issues.js';

const GOOD = 'test/fixtures/specs/good';

describe('parseLabSpec: defaults', () => {
  it('fills in every default for a minimal spec', () => {
    const lab = parseLabSpec('name: tiny\nhosts:\n  - name: host1\n', '<inline>');
    expect(lab).toEqual<LabSpec>({
      name: 'tiny',
      file: '<inline>',
      networks: [
        {
          name: 'default',
          cidr: '172.16.0.0/16',
          subnetLen: 24,
          bridge: 'docker0',
          backend: 'none',
          controlPlane: 'static',
          vni: 1,
          port: 0,
          nat: true,
          leaseTtl: 86_400,
          podAttach: 'ip',
        },
      ],
      underlay: { mtu: 1500 },
      hosts: [{ name: 'host1', subnets: {}, pods: [] }],
      externals: [],
      checks: [],
    });
  });

  it.each([
    ['none', 'static', 0],
    ['host-gw', 'static', 0],
    ['vxlan', 'etcd', 8472],
    ['udp', 'etcd', 8285],
  ] as const)('backend %s defaults to controlPlane %s and port %i', (backend, controlPlane, port) => {
    const lab = parseLabSpec(`name: b\nnetwork: {backend: ${backend}}\nhosts: [{name: host1}]\n`, '<inline>');
    expect(lab.networks[0]).toMatchObject({ backend, controlPlane, port, vni: 1 });
  });

  it('keeps explicit values', () => {
    const lab = parseLabSpec(
      [
        'name: explicit',
        'description: all the knobs',
        'image: overlab/host:dev',
        'network: {cidr: 10.244.0.0/16, subnetLen: 26, bridge: cni0, backend: vxlan, controlPlane: static, vni: 42, port: 4789, nat: false, leaseTtl: 30}',
        'underlay: {subnet: 192.168.7.0/24, mtu: 9000, gateway: gw}',
        'hosts: [{name: host1, underlayIp: 192.168.7.10, subnet: 10.244.0.64/26}]',
        'nodes: [{name: gw, role: router, underlayIp: 192.168.7.254}]',
      ].join('\n'),
      '<inline>',
    );
    expect(lab.description).toBe('all the knobs');
    expect(lab.image).toBe('overlab/host:dev');
    expect(lab.networks).toEqual([
      { name: 'default', cidr: '10.244.0.0/16', subnetLen: 26, bridge: 'cni0', backend: 'vxlan', controlPlane: 'static', vni: 42, port: 4789, nat: false, leaseTtl: 30, podAttach: 'ip' },
    ]);
    expect(lab.underlay).toEqual({ subnet: '192.168.7.0/24', mtu: 9000, gateway: 'gw' });
    expect(lab.hosts).toEqual([{ name: 'host1', underlayIp: '192.168.7.10', subnets: { default: '10.244.0.64/26' }, pods: [] }]);
    expect(lab.externals).toEqual([{ name: 'gw', role: 'router', underlayIp: '192.168.7.254' }]);
  });

  it('applies check defaults and records positions', () => {
    const lab = parseLabSpec(
      [
        'name: c',
        'hosts: [{name: host1, pods: [pod1]}]',
        'checks:',
        '  - name: p',
        '    ping: {from: host1/pod1, to: host1}',
        '  - name: c',
        '    description: d',
        '    capture:',
        '      on: host1:docker0',
        '      during: {ping: {from: host1/pod1, to: host1, count: 1, expect: unreachable}}',
        '      absent: [{proto: vxlan, vni: 0, srcPort: 1, inner: {proto: icmp, icmpType: 8}}]',
      ].join('\n'),
      'c.yaml',
    );
    expect(lab.checks).toEqual([
      { kind: 'ping', name: 'p', position: { file: 'c.yaml', line: 4, col: 5 }, ping: { from: 'host1/pod1', to: 'host1', count: 3, expect: 'reachable' } },
      {
        kind: 'capture',
        name: 'c',
        description: 'd',
        position: { file: 'c.yaml', line: 6, col: 5 },
        capture: {
          on: 'host1:docker0',
          during: { ping: { from: 'host1/pod1', to: 'host1', count: 1, expect: 'unreachable' } },
          expect: [],
          absent: [{ proto: 'vxlan', vni: 0, srcPort: 1, inner: { proto: 'icmp', icmpType: 8 } }],
        },
      },
    ]);
  });
});

describe('parseLabSpec: multi-network form', () => {
  it('names networks, keys subnets by network and defaults pods to the first network', () => {
    const lab = parseLabSpec(
      [
        'name: tenants',
        'networks:',
        '  - {name: blue, cidr: 10.1.0.0/16, bridge: br-blue, backend: vxlan}',
        '  - {name: red, cidr: 10.2.0.0/16, bridge: br-red, backend: vxlan, vni: 2}',
        'hosts:',
        '  - name: host1',
        '    subnets: {blue: 10.1.1.0/24, red: 10.2.1.0/24}',
        '    pods: [a, {name: b, network: red, ip: 10.2.1.5}]',
        '  - name: host2',
        '    subnets: {red: 10.2.2.0/24}',
      ].join('\n'),
      '<inline>',
    );
    expect(lab.networks.map((n) => [n.name, n.vni, n.port, n.controlPlane])).toEqual([
      ['blue', 1, 8472, 'etcd'],
      ['red', 2, 8472, 'etcd'],
    ]);
    expect(lab.hosts).toEqual([
      {
        name: 'host1',
        subnets: { blue: '10.1.1.0/24', red: '10.2.1.0/24' },
        pods: [
          { name: 'a', network: 'blue' },
          { name: 'b', network: 'red', ip: '10.2.1.5' },
        ],
      },
      { name: 'host2', subnets: { red: '10.2.2.0/24' }, pods: [] },
    ]);
  });

  it('allows vxlan networks with one VNI on different ports', () => {
    const text = [
      'name: ports',
      'networks:',
      '  - {name: a, cidr: 10.1.0.0/16, bridge: br-a, backend: vxlan}',
      '  - {name: b, cidr: 10.2.0.0/16, bridge: br-b, backend: vxlan, port: 4789}',
      'hosts: [{name: host1}]',
    ].join('\n');
    expect(parseLabSpec(text, '<inline>').networks.map((n) => n.port)).toEqual([8472, 4789]);
  });
});

describe('parseLabSpec: things that are fine', () => {
  it('an overlay network with a single host', () => {
    for (const backend of ['udp', 'vxlan']) {
      const lab = parseLabSpec(`name: one\nnetwork: {backend: ${backend}}\nhosts: [{name: host1, pods: [pod1]}]\n`, '<inline>');
      expect(lab.hosts).toHaveLength(1);
    }
  });

  it('a pod network exactly one host subnet large, for one host', () => {
    const lab = parseLabSpec('name: one\nnetwork: {cidr: 172.16.1.0/24}\nhosts: [{name: host1, subnet: 172.16.1.0/24}]\n', '<inline>');
    expect(lab.networks[0]?.subnetLen).toBe(24);
  });

  it('64 hosts', () => {
    const hosts = Array.from({ length: 64 }, (_, i) => `  - name: h${i}`).join('\n');
    expect(parseLabSpec(`name: many\nhosts:\n${hosts}\n`, '<inline>').hosts).toHaveLength(64);
  });

  it('pinging a literal address inside the lab', () => {
    const text = [
      'name: lit',
      'hosts: [{name: host1, underlayIp: 192.168.9.9}]',
      'checks:',
      '  - {name: pod net, ping: {from: host1, to: 172.16.200.1}}',
      '  - {name: known underlay address, ping: {from: host1, to: 192.168.9.9}}',
    ].join('\n');
    expect(parseLabSpec(text, '<inline>').checks).toHaveLength(2);
  });

  it('comments, anchors and aliases', () => {
    const text = ['# a lab', 'name: alias # trailing', 'x-ping: &p', 'hosts: [{name: host1}]'].join('\n');
    // x-ping is not a known key: aliases are fine, unknown keys are not
    expect(specIssues(text)).toEqual(['x.yaml:3:1 x-ping: unknown key "x-ping". Allowed here: name, description, image, network, networks, underlay, engines, stitch, hosts, nodes, proxyMode, serviceCIDR, services, checks, faults.']);
    const ok = ['name: alias', 'hosts:', '  - name: host1', '    pods: &pods [pod1, pod2]', '  - name: host2', '    pods: *pods'].join('\n');
    expect(parseLabSpec(ok, '<inline>').hosts[1]?.pods.map((p) => p.name)).toEqual(['pod1', 'pod2']);
  });
});

describe('good fixtures', () => {
  it('same-host.yaml round-trips to the expected LabSpec', async () => {
    const file = `${GOOD}/same-host.yaml`;
    const lab = await loadLabSpec(file);
    expect(lab).toEqual<LabSpec>({
      name: 'same-host',
      description: 'Two pods on one bridge reach each other at layer 2.',
      file: resolve(file),
      networks: [
        { name: 'default', cidr: '172.16.0.0/16', subnetLen: 24, bridge: 'docker0', backend: 'none', controlPlane: 'static', vni: 1, port: 0, nat: true, leaseTtl: 86_400, podAttach: 'ip' },
      ],
      underlay: { mtu: 1500 },
      hosts: [
        {
          name: 'host1',
          subnets: { default: '172.16.1.0/24' },
          pods: [
            { name: 'pod1', network: 'default' },
            { name: 'pod2', network: 'default', ip: '172.16.1.3' },
          ],
        },
      ],
      externals: [],
      checks: [
        {
          kind: 'ping',
          name: 'pods reach each other',
          position: { file, line: 16, col: 5 },
          ping: { from: 'host1/pod1', to: 'host1/pod2', count: 3, expect: 'reachable' },
        },
        {
          kind: 'capture',
          name: 'bridge sees the frames',
          description: "The echo request crosses docker0 with the pods' own MAC addresses.",
          position: { file, line: 18, col: 5 },
          capture: {
            on: 'host1:docker0',
            during: { ping: { from: 'host1/pod1', to: 'host1/pod2', count: 2, expect: 'reachable' } },
            expect: [{ proto: 'icmp', src: 'host1/pod1', dst: 'host1/pod2', srcMac: 'host1/pod1', dstMac: 'host1/pod2', icmpType: 'echo-request' }],
            absent: [{ proto: 'udp', dstPort: 8285 }],
          },
        },
      ],
    });
  });

  it('egress.yaml: an outside node and nat', async () => {
    const lab = await loadLabSpec(`${GOOD}/egress.yaml`);
    expect(lab.networks[0]).toMatchObject({ backend: 'none', nat: true });
    expect(lab.underlay).toEqual({ subnet: '192.168.50.0/24', mtu: 1500 });
    expect(lab.externals).toEqual([{ name: 'outside', role: 'outside', underlayIp: '192.168.50.200' }]);
    expect(lab.checks.map((c) => c.name)).toEqual(['pod reaches the outside node', "outside sees the host address, not the pod's"]);
  });

  it('no-overlay-router.yaml: a router as underlay gateway', async () => {
    const lab = await loadLabSpec(`${GOOD}/no-overlay-router.yaml`);
    expect(lab.underlay).toEqual({ subnet: '192.168.60.0/24', mtu: 1500, gateway: 'router' });
    expect(lab.networks[0]).toMatchObject({ cidr: '10.244.0.0/16', backend: 'none', nat: false });
    expect(lab.externals).toEqual([{ name: 'router', role: 'router', underlayIp: '192.168.60.254' }]);
    expect(lab.checks[1]?.ping).toEqual({ from: 'host1/pod1', to: 'host2/pod1', count: 2, expect: 'unreachable' });
  });

  it('host-gw.yaml: two hosts', async () => {
    const lab = await loadLabSpec(`${GOOD}/host-gw.yaml`);
    expect(lab.networks[0]).toMatchObject({ backend: 'host-gw', controlPlane: 'static' });
    expect(lab.hosts.map((h) => [h.name, h.subnets, h.underlayIp])).toEqual([
      ['host1', { default: '172.16.1.0/24' }, '192.168.50.11'],
      ['host2', { default: '172.16.2.0/24' }, '192.168.50.12'],
    ]);
    expect((lab.checks[1]?.capture as CaptureSpec | undefined)?.absent).toEqual([{ proto: 'vxlan' }, { proto: 'flannel-udp' }]);
  });
});

describe('SpecError', () => {
  it('collects every issue, sorted by position, with exit code 2', () => {
    let err: unknown;
    try {
      parseLabSpec('name: x\nhosts:\n  - name: host1\n  - name: host1\n  - name: host2\n    pods: [a, a]\n', 'labs/x.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    expect(err).toBeInstanceOf(Error);
    const e = err as SpecError;
    expect(e.exitCode).toBe(2);
    expect(e.name).toBe('SpecError');
    expect(e.issues).toEqual([
      { file: 'labs/x.yaml', line: 4, col: 11, path: 'hosts[1].name', message: 'duplicate host name "host1"; hosts[0] already uses it.' },
      { file: 'labs/x.yaml', line: 6, col: 15, path: 'hosts[2].pods[1]', message: 'duplicate pod name "a" in host2; hosts[2].pods[0] already uses it.' },
    ]);
    expect(e.message).toBe(
      [
        'labs/x.yaml:4:11 hosts[1].name: duplicate host name "host1"; hosts[0] already uses it.',
        'labs/x.yaml:6:15 hosts[2].pods[1]: duplicate pod name "a" in host2; hosts[2].pods[0] already uses it.',
      ].join('\n'),
    );
  });

  it('formats the example from the docs', () => {
    expect(
      formatIssue({
        file: 'labs/x.yaml',
        line: 12,
        col: 9,
        path: 'hosts[1].pods[0].name',
        message: '"pod-with-a-very-long-name" is 25 characters; Linux interface and namespace names are at most 15.',
        hint: 'Use a shorter name.',
      }),
    ).toBe(
      'labs/x.yaml:12:9 hosts[1].pods[0].name: "pod-with-a-very-long-name" is 25 characters; Linux interface and namespace names are at most 15. Use a shorter name.',
    );
    expect(formatIssue({ file: 'a.yaml', line: 0, col: 0, path: '', message: 'file not found.' })).toBe('a.yaml: file not found.');
  });
});

describe('loadLabSpec: files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'overlab-spec-'));

  async function loadError(path: string): Promise<SpecError> {
    try {
      await loadLabSpec(path);
    } catch (e) {
      if (e instanceof SpecError) return e;
      throw e;
    }
    throw new Error('expected a SpecError');
  }

  it('missing file', async () => {
    const path = join(dir, 'nope.yaml');
    const e = await loadError(path);
    expect(e.issues).toEqual([{ file: path, line: 0, col: 0, path: '', message: 'file not found.' }]);
    expect(e.exitCode).toBe(2);
  });

  it('a directory', async () => {
    const e = await loadError(dir);
    expect(e.issues).toEqual([{ file: dir, line: 0, col: 0, path: '', message: 'is a directory, not a spec file.' }]);
  });

  it('a path through a regular file', async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    const e = await loadError(join(file, 'lab.yaml'));
    expect(e.issues[0]?.message).toBe('file not found.');
  });

  it('reports errors with the path as given, and LabSpec.file absolute', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'name: ok\nhosts: [{name: host1}]\n');
    expect((await loadLabSpec(file)).file).toBe(resolve(file));
    const rel = `${GOOD}/../bad/empty.yaml`;
    const e = await loadError(rel);
    expect(e.issues[0]?.file).toBe(rel);
  });
});

describe('odd documents', () => {
  it.each([
    ['- a\n- b\n', ['x.yaml:1:1: a lab spec is a mapping (name:, hosts:, ...), but this file holds a list.']],
    ['42\n', ['x.yaml:1:1: a lab spec is a mapping (name:, hosts:, ...), but this file holds the number 42.']],
    ['null\n', ['x.yaml:1:1: a lab spec is a mapping (name:, hosts:, ...), but this file holds nothing.']],
    ['---\n...\n', ['x.yaml:1:1: the spec is empty. Start with name: <lab-name> and hosts: [...].']],
    ['? [a, b]\n: c\n', ['x.yaml:1:3: invalid YAML: mapping keys must be plain names, not lists or mappings.']],
    ['name: x\nhosts: [null]\n', ['x.yaml:2:9 hosts[0]: expected a mapping, found nothing.']],
    [
      'name: x\nhosts: [{name: h}]\nchecks: [5, {name: c, capture: []}]\n',
      ['x.yaml:3:10 checks[0]: expected a mapping, found the number 5.', 'x.yaml:3:32 checks[1].capture: expected a mapping, found a list.'],
    ],
    ['name: x\nnetwork:\nhosts: [{name: h}]\n', ['x.yaml:2:1 network: expected a mapping, found nothing.']],
    ['name: x\r\nhosts: [{name: h, foo: 1}]\r\n', ['x.yaml:2:19 hosts[0].foo: unknown key "foo". Allowed here: name, subnet, subnets, underlayIp, pods, podAttach, engine, segment.']],
    ['name: !!binary aGVsbG8=\nhosts: [{name: h}]\n', ['x.yaml:1:16 name: expected a string, found binary data.']],
    [
      'name: x\nhosts:\n  - name: h\n    subnets: {"a/b": 10.0.0.0/24, 1: 1}\n',
      [
        'x.yaml:4:15 hosts[0].subnets["a/b"]: "a/b" is not a valid network name; use lower-case letters, digits and "-", starting with a letter. Try "a-b".',
        'x.yaml:4:35 hosts[0].subnets["1"]: "1" is not a valid network name; use lower-case letters, digits and "-", starting with a letter.',
        'x.yaml:4:38 hosts[0].subnets["1"]: expected a string, found the number 1.',
      ],
    ],
    [
      'name: x\nhosts: [{name: h}]\nchecks: [{name: c, ping: {from: h, to: h}, capture: 5}]\n',
      [
        'x.yaml:3:44 checks[0].capture: a check has one kind, but this one has "ping" and "capture". Split it into one check per kind.',
        'x.yaml:3:53 checks[0].capture: expected a mapping, found the number 5.',
      ],
    ],
  ])('%j', (text, expected) => {
    expect(specIssues(text)).toEqual(expected);
  });

  it('merge keys', () => {
    const lab = parseLabSpec('name: x\nhosts:\n  - <<: {name: h, pods: [p]}\n    underlayIp: 192.168.1.2\n', '<inline>');
    expect(lab.hosts).toEqual([{ name: 'h', underlayIp: '192.168.1.2', subnets: {}, pods: [{ name: 'p', network: 'default' }] }]);
  });

  it('deeply nested inner matches', () => {
    const text =
      'name: x\nhosts: [{name: h}]\nchecks: [{name: c, capture: {on: "h:eth0", during: {ping: {from: h, to: h}}, expect: [{inner: {inner: {inner: {proto: arp}}}}]}}]\n';
    expect((parseLabSpec(text, '<inline>').checks[0]?.capture as CaptureSpec | undefined)?.expect).toEqual([{ inner: { inner: { inner: { proto: 'arp' } } } }]);
  });
});
