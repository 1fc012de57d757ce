// Hostile values in a spec: each must be refused by `validate` (a SpecError, exit 2) with a
// file:line:col message naming the field — never reach the planner. And every problem of a spec
// comes out in one pass, schema and references together.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { specIssues } from '../support/spec-issues.js';

const HOSTILE = ['b$(id>&2)', 'a;reboot', 'a`id`', 'a|b', "a'b", 'a b', '-rf', '--json', '..', '../etc', 'a/b', 'hоst1', 'a\nb', 'a\u001b[31m'];

const issuesOf = (text: string) => specIssues(text, 'h.yaml');

const q = (s: string) => JSON.stringify(s);

const places: [what: string, spec: (v: string) => string, path: string][] = [
  ['a bridge', (v) => `name: h\nnetwork: {bridge: ${q(v)}}\nhosts: [{name: host1}]\n`, 'network.bridge'],
  ['a host', (v) => `name: h\nhosts: [{name: ${q(v)}}]\n`, 'hosts[0].name'],
  ['a pod', (v) => `name: h\nhosts: [{name: host1, pods: [${q(v)}]}]\n`, 'hosts[0].pods[0]'],
  ['a node', (v) => `name: h\nhosts: [{name: host1}]\nnodes: [{name: ${q(v)}, role: outside}]\n`, 'nodes[0].name'],
  ['a network', (v) => `name: h\nnetworks: [{name: ${q(v)}, cidr: 10.1.0.0/16}]\nhosts: [{name: host1}]\n`, 'networks[0].name'],
  [
    'a capture interface',
    (v) =>
      `name: h\nhosts: [{name: host1, pods: [pod1]}]\nchecks:\n  - name: c\n    capture: {on: ${q(`host1:${v}`)}, during: {ping: {from: host1/pod1, to: host1}}, expect: [{proto: icmp}]}\n`,
    'checks[0].capture.on',
  ],
  ['a ping source', (v) => `name: h\nhosts: [{name: host1}]\nchecks: [{name: c, ping: {from: ${q(v)}, to: host1}}]\n`, 'checks[0].ping.from'],
  ['a kernel host', (v) => `name: h\nnetwork: {backend: host-gw}\nhosts: [{name: host1}, {name: host2}]\nchecks: [{name: c, kernel: {on: ${q(v)}, peer: host2}}]\n`, 'checks[0].kernel.on'],
];

describe('hostile names are refused where they enter a spec', () => {
  for (const [what, spec, path] of places) {
    it(what, () => {
      for (const v of HOSTILE) {
        if (what === 'a capture interface' && (v === '-rf' || v === '--json')) continue; // "-rf" after ":" is checked below
        const issues = issuesOf(spec(v));
        expect(issues.some((i) => i.startsWith('h.yaml:') && i.includes(` ${path}: `)), `${what} ${q(v)}: ${issues.join('\n')}`).toBe(true);
      }
    });
  }

  it('an interface name may not start with "-" (never taken for an option)', () => {
    const issues = issuesOf(places[5]![1]('-rf'));
    expect(issues.join('\n')).toMatch(/checks\[0\]\.capture\.on: "-rf" is not a valid interface name/);
  });

  it('network.bridge "b$(id>&2)" and capture on "host1:e$(id)": exit 2 with file:line:col', () => {
    expect(issuesOf('name: h\nnetwork: {bridge: "b$(id>&2)"}\nhosts: [{name: host1}]\n')).toEqual([
      'h.yaml:2:19 network.bridge: "b$(id>&2)" is not a valid Linux interface name; use letters, digits, "_", "." and "-", not starting with "-", not "." or "..", at most 15 bytes.',
    ]);
    const capture = issuesOf(places[5]![1]('e$(id)'));
    expect(capture).toEqual([
      'h.yaml:5:19 checks[0].capture.on: "e$(id)" is not a valid interface name (letters, digits, "_", "." and "-", not starting with "-", not "." or "..", at most 15 bytes). Use host, host/pod, node, host:iface, host/pod:iface, an IPv4 address or a MAC address.',
    ]);
  });

  it('names overlab gives its own nodes are reserved', () => {
    const issues = issuesOf('name: h\nhosts: [{name: switch}, {name: host1}]\nnodes: [{name: etcd, role: outside}, {name: underlay, role: router}]\n');
    expect(issues).toEqual([
      `h.yaml:2:16 hosts[0].name: "switch" is reserved: overlab names the lab's underlay switch container overlab-<lab>-switch. Use another name.`,
      `h.yaml:3:16 nodes[0].name: "etcd" is reserved: overlab names the lab's etcd node overlab-<lab>-etcd. Use another name.`,
      `h.yaml:3:45 nodes[1].name: "underlay" is reserved: the underlay bridge inside the switch is called "underlay", and every node names its port there. Use another name.`,
    ]);
  });

  it('a bridge may not take a name every host already uses', () => {
    for (const bridge of ['eth0', 'lo', 'flannel.1', 'flannel0', 'veth-pod1']) {
      expect(issuesOf(`name: h\nnetwork: {bridge: ${bridge}}\nhosts: [{name: host1}]\n`).join('\n'), bridge).toMatch(/network\.bridge: .* is taken in every host/);
    }
  });

  it('image references follow the engine grammar', () => {
    for (const image of ['overlab/host:latest --privileged', 'img;id', 'Overlab/Host', '$(id)', 'a b', '-v']) {
      expect(issuesOf(`name: h\nimage: ${q(image)}\nhosts: [{name: host1}]\n`).join('\n'), image).toMatch(/image: .* is not an image reference/);
    }
    for (const image of ['overlab/host:latest', 'registry.local:5000/team/host:1.2', 'debian@sha256:' + 'a'.repeat(64), 'busybox']) {
      expect(() => parseLabSpec(`name: h\nimage: ${q(image)}\nhosts: [{name: host1}]\n`, 'h.yaml'), image).not.toThrow();
    }
  });

  it('check names and descriptions may not hold terminal escapes; descriptions have a length limit', () => {
    const issues = issuesOf(
      [
        'name: h',
        `description: ${q('x'.repeat(2001))}`,
        'hosts: [{name: host1}]',
        'checks:',
        `  - name: ${q('ok \u001b]8;;http://x\u0007link')}`,
        `    description: ${q('\u009b31m')}`,
        '    ping: {from: host1, to: host1}',
        `  - name: ${q('two\nlines')}`,
        '    ping: {from: host1, to: host1}',
      ].join('\n'),
    );
    expect(issues).toEqual([
      'h.yaml:2:14 description: a description is 2001 characters; at most 2000. Shorten it.',
      'h.yaml:5:11 checks[0].name: a check name may not contain control characters (found U+001B, an escape sequence) or line breaks. Remove the control characters (terminal escapes, line breaks in a name).',
      'h.yaml:6:18 checks[0].description: a description may not contain control characters (found U+009B). Remove the control characters (terminal escapes, line breaks in a name).',
      'h.yaml:8:11 checks[1].name: a check name may not contain control characters (found U+000A) or line breaks. Remove the control characters (terminal escapes, line breaks in a name).',
    ]);
    expect(() => parseLabSpec(`name: h\ndescription: |\n  two lines\n  \tand a tab\nhosts: [{name: host1}]\n`, 'h.yaml')).not.toThrow();
  });
});

describe('validate reports every problem in one pass', () => {
  it('schema problems and reference problems together, in file order, without follow-on errors', () => {
    const issues = issuesOf(
      [
        'name: h',
        'network: {cidr: 10.0.0.0/33}',
        'hosts:',
        '  - {name: Host1, pods: [pod1]}',
        '  - {name: host2, pods: [pod1, {name: p2, ip: 10.9.9.9}]}',
        'checks:',
        '  - {name: a, ping: {from: Host1/pod1, to: host2/pod1}}',
        '  - {name: b, ping: {from: host2/pod9, to: host3}}',
        '  - {name: c, ping: {from: host2/pod1, to: host2/pod1, count: 0}}',
      ].join('\n'),
    );
    expect(issues).toEqual([
      'h.yaml:2:17 network.cidr: "10.0.0.0/33" is not a valid IPv4 network; write it in CIDR notation, e.g. "10.1.0.0/16".',
      'h.yaml:4:12 hosts[0].name: "Host1" is not a valid host name; use lower-case letters, digits and "-", starting with a letter. Try "host1".',
      'h.yaml:7:28 checks[0].ping.from: "Host1/pod1" has upper-case letters; names are lower-case. Use host, host/pod, node, host:iface, host/pod:iface, an IPv4 address or a MAC address.',
      'h.yaml:8:28 checks[1].ping.from: host2 has no pod "pod9". Did you mean "host2/pod1"?',
      'h.yaml:8:44 checks[1].ping.to: unknown host or node "host3". Did you mean "host2"?',
      'h.yaml:9:63 checks[2].ping.count: 0 is out of range; count must be between 1 and 1000.',
    ]);
  });
});
