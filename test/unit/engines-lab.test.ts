// One lab across several engines, the pure parts and the routing: which engine each node goes on,
// the tunnels' plan, the spec rules, the routed runtime over fakes, the image copied where it is
// missing, the state of a lab whose engine does not answer.
import { describe, expect, it } from 'vitest';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { joiningEngine, placeNodes, stitchPlan, stitchTunnels, stitchVni } from '../../src/plan/engine-placement.js';
import { placeJoiningHost } from '../../src/core/node-membership.js';
import { availability, listAcrossEngines } from '../../src/lab/node-availability.js';
import { runCheck, summarize, verifyExitCode, type CheckResult } from '../../src/checks/run-checks.js';
import { LabReferences } from '../../src/lab/lab-references.js';
import type { CheckSpec } from '../../src/lab-spec/lab-spec.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderVerifyReport } from '../../src/report/verify-report.js';
import { palette } from '../../src/text/colour.js';
import { RoutedRuntime, LABEL_ENGINE } from '../../src/runtime/routed-runtime.js';
import { parseEngineFlag, withEnvironmentTls } from '../../src/runtime/engine-runtime.js';
import { copyImageWhereMissing, machineAddresses } from '../../src/deploy/engine-stitch.js';
import { labState } from '../../src/lab/lab-state.js';
import { SpecError } from '../../src/lab-spec/spec-error.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { locateLab } from '../../src/lab/lab-discovery.js';
import { engineLockKey } from '../../src/lab/lab-lock.js';
import { rollbackRun, withRunRollback } from '../../src/core/lab-up.js';
import { LABEL_LAB, LABEL_NODE, LABEL_RUN, LAB_ENGINES_FILE, SWITCH_NODE } from '../../src/plan/container-names.js';
import { nodeEngines } from '../../src/plan/node-engines.js';
import { engineError } from '../../src/runtime/engine-errors.js';
import { exitCodeFor } from '../../src/base/errors.js';

const SPEC = `name: spread
engines:
  a: { host: unix:///var/run/docker.sock }
  b: { host: ssh://me@10.0.0.2 }
  c: { context: lab-c, address: 10.0.0.3 }
network: { backend: vxlan, controlPlane: etcd }
hosts:
  - { name: h1, pods: [p1] }
  - { name: h2, pods: [p1] }
  - { name: h3, pods: [p1] }
  - { name: h4, pods: [p1] }
  - { name: h5, engine: a }
nodes:
  - { name: out, role: outside }
`;

function specIssues(text: string): string[] {
  try {
    parseLabSpec(text, '/labs/x.yaml');
    return [];
  } catch (error) {
    return (error as SpecError).issues.map((i) => `${i.line}: ${i.message}`);
  }
}

describe('placement', () => {
  it('deals hosts out in spec order, keeps pinned ones, puts external nodes and etcd on the first engine', () => {
    const spec = parseLabSpec(SPEC, '/labs/spread.yaml');
    expect(Object.fromEntries(placeNodes(spec))).toEqual({ h1: 'a', h2: 'b', h3: 'c', h4: 'a', h5: 'a', out: 'a', etcd: 'a' });
    const lab = resolveLab(spec, { takenSubnets: [] });
    expect(lab.hosts.map((h) => `${h.name}@${h.engine}`)).toEqual(['h1@a', 'h2@b', 'h3@c', 'h4@a', 'h5@a']);
    expect(lab.externals.map((e) => `${e.name}@${e.engine}`)).toEqual(['out@a', 'etcd@a']);
    expect(lab.engines).toEqual([
      { name: 'a', host: 'unix:///var/run/docker.sock', address: '', switchContainer: 'overlab-spread-switch' },
      { name: 'b', host: 'ssh://me@10.0.0.2', address: '10.0.0.2', switchContainer: 'overlab-spread-switch-b' },
      { name: 'c', context: 'lab-c', address: '10.0.0.3', switchContainer: 'overlab-spread-switch-c' },
    ]);
    expect(lab.stitch).toMatchObject({ vni: stitchVni('spread'), port: 14789, fromSpec: { vni: false, port: false } });
  });

  it('a spec without engines resolves exactly as before (no engine fields at all)', () => {
    const lab = resolveLab(parseLabSpec('name: one\nhosts: [{ name: h1 }]\n', '/labs/one.yaml'), { takenSubnets: [] });
    expect(JSON.stringify(lab)).not.toMatch(/engine|stitch/);
    expect(nodeEngines(lab)).toEqual([]);
  });

  it('names the engine of every node for inspect, unpinned ones on the primary', () => {
    const lab = resolveLab(parseLabSpec(SPEC, '/labs/spread.yaml'), { takenSubnets: [] });
    expect(nodeEngines(lab).map((n) => `${n.node}@${n.engine}`)).toEqual(['h1@a', 'h2@b', 'h3@c', 'h4@a', 'h5@a', 'out@a', 'etcd@a']);
    const old = { ...lab, hosts: lab.hosts.map(({ engine: _engine, ...h }) => h) };
    expect(nodeEngines(old)[1]).toEqual({ node: 'h2', engine: 'a' });
  });

  it('derives a VNI from the lab name: stable, never 0 or 1, within 24 bits', () => {
    expect(stitchVni('spread')).toBe(stitchVni('spread'));
    expect(stitchVni('spread')).not.toBe(stitchVni('spread2'));
    for (const name of ['a', 'b', 'flannel-vxlan', 'x'.repeat(24)]) {
      expect(stitchVni(name)).toBeGreaterThanOrEqual(2);
      expect(stitchVni(name)).toBeLessThan(2 ** 24);
    }
  });

  it('one more switch per engine after the first, and every container labelled with its engine', () => {
    const lab = resolveLab(parseLabSpec(SPEC, '/labs/spread.yaml'), { takenSubnets: [] });
    const specs = containerSpecs(lab, 'run1');
    expect(specs.map((s) => `${s.name}@${s.labels[LABEL_ENGINE]}`)).toEqual([
      'overlab-spread-switch@a',
      'overlab-spread-switch-b@b',
      'overlab-spread-switch-c@c',
      'overlab-spread-h1@a',
      'overlab-spread-h2@b',
      'overlab-spread-h3@c',
      'overlab-spread-h4@a',
      'overlab-spread-h5@a',
      'overlab-spread-out@a',
      'overlab-spread-etcd@a',
    ]);
    expect(specs.every((s) => s.labels['overlab.run'] === 'run1' && (s.networkMode ?? 'none') === 'none')).toBe(true);
    // Each engine's switch writes the lab's share on its engine; every other container reads it.
    for (const s of specs) expect(s.mounts).toEqual([{ volume: 'overlab-spread-share', target: '/run/overlab/share', readonly: s.labels['overlab.role'] !== 'switch' }]);
  });

  it('the stitch: device made in the machine, moved into the switch, renamed, enslaved at the lab MTU, one flooding entry per other engine', () => {
    const lab = resolveLab(parseLabSpec(SPEC, '/labs/spread.yaml'), { takenSubnets: [] });
    lab.engines![0]!.address = '10.0.0.1';
    lab.underlay.mtu = 1450;
    const argv = stitchPlan(lab, 'b', 'helper').lines.flatMap((l) => ('argv' in l ? [l.argv.join(' ')] : []));
    const t = lab.stitch!.transitName;
    expect(t).toMatch(/^olst[0-9a-f]{8}$/);
    expect(argv).toEqual([
      `ip link add name ${t} type vxlan id ${lab.stitch!.vni} dstport 14789 local 10.0.0.2 nolearning`,
      `ip link set dev ${t} netns /run/overlab/switch.netns`,
      `nsenter --net=/run/overlab/switch.netns ip link set dev ${t} name stitch`,
      'nsenter --net=/run/overlab/switch.netns ip link set dev stitch mtu 1450 master underlay up',
      'nsenter --net=/run/overlab/switch.netns bridge fdb append 00:00:00:00:00:00 dev stitch dst 10.0.0.1',
      'nsenter --net=/run/overlab/switch.netns bridge fdb append 00:00:00:00:00:00 dev stitch dst 10.0.0.3',
    ]);
  });
});

const RACKS = `name: racks
engines:
  a: { host: unix:///var/run/docker.sock, address: 10.0.0.1 }
  b: { host: ssh://me@10.0.0.2 }
underlay:
  segments: [{ name: rack1 }, { name: rack2 }, { name: spine }]
hosts:
  - { name: h1, segment: rack1 }
  - { name: h2, segment: rack2 }
nodes:
  - { name: tor1, role: router, segments: [rack1, spine] }
  - { name: tor2, role: router, segments: [rack2, spine] }
`;

describe('a routed underlay across engines: every segment stitched', () => {
  it('one tunnel per segment\'s bridge, each on a VNI of its own (the lab\'s, then the next ones)', () => {
    const lab = resolveLab(parseLabSpec(RACKS, '/labs/racks.yaml'), { takenSubnets: [] });
    const v = lab.stitch!.vni;
    const tunnels = stitchTunnels(lab);
    expect(tunnels.map((t) => [t.segment, t.bridge, t.vni, t.device])).toEqual([
      ['rack1', lab.underlay.segments![0]!.bridge, v, 'stitch'],
      ['rack2', lab.underlay.segments![1]!.bridge, v + 1 > 0xffffff ? 2 : v + 1, 'stitch1'],
      ['spine', lab.underlay.segments![2]!.bridge, v + 2 > 0xffffff ? v + 2 - 0xffffff + 1 : v + 2, 'stitch2'],
    ]);
    lab.engines![1]!.address = '10.0.0.2';
    const argv = stitchPlan(lab, 'b', 'helper').lines.flatMap((l) => ('argv' in l ? [l.argv.join(' ')] : []));
    expect(argv.filter((a) => a.includes(' master '))).toEqual(
      tunnels.map((t) => `nsenter --net=/run/overlab/switch.netns ip link set dev ${t.device} mtu ${lab.underlay.mtu} master ${t.bridge} up`),
    );
    expect(argv.filter((a) => a.includes('fdb append'))).toHaveLength(3); // one peer, three tunnels
    expect(new Set(tunnels.map((t) => t.transitName)).size).toBe(3);
    for (const t of tunnels) expect(t.transitName.length).toBeLessThanOrEqual(15);
  });

  it('a VNI from the spec leaves room for every segment, or the field is named', () => {
    expect(specIssues(RACKS)).toEqual([]);
    expect(specIssues(`${RACKS}stitch: { vni: 16777214 }\n`)).toEqual(['13: 16777214 leaves no room for the 3 segments\' tunnels (VNI 16777214 to 16777216; the largest is 16777215).']);
    const lab = resolveLab(parseLabSpec(`${RACKS}stitch: { vni: 5000 }\n`, '/labs/racks.yaml'), { takenSubnets: [] });
    expect(stitchTunnels(lab).map((t) => t.vni)).toEqual([5000, 5001, 5002]);
  });
});

describe('spec rules and the --engine flag', () => {
  it('names the field: an unknown engine, engine: without engines:, host and context both, neither', () => {
    expect(specIssues('name: x\nengines: { a: { host: unix:///s }, b: { context: c } }\nhosts: [{ name: h1, engine: bb }]\n')).toEqual(['3: unknown engine "bb".']);
    expect(specIssues('name: x\nhosts: [{ name: h1, engine: a }]\n')).toEqual(['2: engine "a" is named, but the spec has no engines: section.']);
    expect(specIssues('name: x\nengines:\n  a: { host: unix:///s, context: c }\n  b: {}\nhosts: [{ name: h1 }]\n')).toEqual([
      '3: engine "a" has both host and context; a context already says where its engine is.',
      '4: engine "b" says neither host nor context.',
    ]);
  });

  it('reads NAME=ENDPOINT: an address, or a context name', () => {
    expect(parseEngineFlag('b=ssh://me@10.0.0.2')).toEqual({ name: 'b', host: 'ssh://me@10.0.0.2' });
    expect(parseEngineFlag('c=prod')).toEqual({ name: 'c', context: 'prod' });
    expect(() => parseEngineFlag('=tcp://x')).toThrow(/is not NAME=ENDPOINT/);
    expect(() => parseEngineFlag('B;x=tcp://x')).toThrow(/is not NAME=ENDPOINT/);
  });
});

describe('TLS from the environment', () => {
  it('a tcp:// engine keeps the TLS material it was reached with, so a command from another environment reaches it alike', () => {
    const env = { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs/e1' };
    expect(withEnvironmentTls({ name: 'e1', host: 'tcp://10.0.0.1:2376' }, env)).toEqual({ name: 'e1', host: 'tcp://10.0.0.1:2376', certPath: '/certs/e1', tlsVerify: true });
    expect(withEnvironmentTls({ name: 'e1', host: 'tcp://10.0.0.1:2376', certPath: '/mine' }, env)).toEqual({ name: 'e1', host: 'tcp://10.0.0.1:2376', certPath: '/mine' });
    expect(withEnvironmentTls({ name: 'e2', host: 'ssh://me@10.0.0.2' }, env)).toEqual({ name: 'e2', host: 'ssh://me@10.0.0.2' });
    expect(withEnvironmentTls({ name: 'e1', host: 'tcp://10.0.0.1:2375' }, {})).toEqual({ name: 'e1', host: 'tcp://10.0.0.1:2375' });
  });
});

describe('the routed runtime', () => {
  const two = () => {
    const a = new FakeRuntime();
    const b = new FakeRuntime();
    return { a, b, routed: new RoutedRuntime([{ name: 'a', runtime: a }, { name: 'b', runtime: b }]) };
  };
  const spec = (name: string, engine: string) => ({ name, hostname: name, image: 'overlab/host:latest', labels: { 'overlab.lab': 'x', [LABEL_ENGINE]: engine }, command: ['sleep', 'infinity'], capAdd: [], devices: [], sysctls: {} });

  it('creates each container on the engine its label names and sends later calls there', async () => {
    const { a, b, routed } = two();
    await routed.createAndStart(spec('overlab-x-h1', 'a'));
    await routed.createAndStart(spec('overlab-x-h2', 'b'));
    expect([...a.containers.keys()]).toEqual(['overlab-x-h1']);
    expect([...b.containers.keys()]).toEqual(['overlab-x-h2']);
    b.onExec(() => ({ stdout: 'on b', stderr: '', exitCode: 0 }));
    expect((await routed.exec('overlab-x-h2', ['true'])).stdout).toBe('on b');
    expect((await routed.list({ 'overlab.lab': 'x' })).map((c) => c.name).sort()).toEqual(['overlab-x-h1', 'overlab-x-h2']);
    expect(routed.endpoint).toBe(a.endpoint); // the lab's lock is the primary's
  });

  it('finds a container it was not told about on whichever engine has it', async () => {
    const { b, routed } = two();
    await b.createAndStart(spec('overlab-x-h9', 'b'));
    await routed.remove('overlab-x-h9');
    expect(b.containers.has('overlab-x-h9')).toBe(false);
  });

  it('adopts a lab read from its primary: the other engines are made by the factory', () => {
    const a = new FakeRuntime();
    const c = new FakeRuntime();
    const routed = new RoutedRuntime([{ name: '', runtime: a }], (e) => (e.name === 'c' ? c : new FakeRuntime()));
    routed.adopt({ engines: [{ name: 'a', switchContainer: 's' }, { name: 'c', context: 'ctx', switchContainer: 's-c' }], hosts: [{ container: 'h', engine: 'c' }], externals: [] });
    expect(routed.named.map((n) => n.name)).toEqual(['a', 'c']);
    expect(routed.engineOf('h')).toBe('c');
    expect(routed.primary).toBe(a);
  });

  it('copies the image from an engine that has it to each that lacks it', async () => {
    const { a, b, routed } = two();
    b.images.clear();
    expect(await copyImageWhereMissing(routed, 'overlab/host:latest', new AbortController().signal)).toEqual(['b']);
    expect(b.images.has('overlab/host:latest')).toBe(true);
    expect(a.calls.some((c) => c.method === 'saveImages')).toBe(true);
  });
});

describe('engine facts and lab state', () => {
  it('reads the machine\'s global IPv4 addresses with the MTU of their link', () => {
    const json = JSON.stringify([
      { ifname: 'lo', mtu: 65536, addr_info: [{ family: 'inet', local: '127.0.0.1', scope: 'host' }] },
      { ifname: 'eth0', mtu: 1500, addr_info: [{ family: 'inet', local: '10.99.0.11', scope: 'global' }] },
    ]);
    expect(machineAddresses(json)).toEqual([{ address: '10.99.0.11', ifname: 'eth0', mtu: 1500 }]);
  });

  it('a lab whose engine does not answer is degraded and says which engine and which nodes', () => {
    const lab = resolveLab(parseLabSpec(SPEC, '/labs/spread.yaml'), { takenSubnets: [] });
    const running = containerSpecs(lab, 'r').filter((s) => s.labels[LABEL_ENGINE] !== 'b').map((s) => ({ id: s.name, name: s.name, state: 'running', labels: s.labels }));
    const state = labState({ containers: running, model: lab, marker: { run: 'r', fingerprint: 'f', completedAt: '' }, lost: [{ engine: 'b', endpoint: 'ssh://me@10.0.0.2', why: 'no answer' }] });
    expect(state.status).toBe('degraded');
    expect(state.detail).toBe('engine b (ssh://me@10.0.0.2) does not answer: switch-b and h2 unreachable');
    expect(state.missing).toEqual([]);
  });
});

describe('a lab seen from an engine that is not its primary', () => {
  const engines = [
    { name: 'a', host: 'unix:///run/a.sock', switchContainer: 'overlab-spread-switch' },
    { name: 'b', host: 'ssh://me@10.0.0.2', switchContainer: 'overlab-spread-switch-b' },
  ];
  const setup = () => {
    const a = new FakeRuntime();
    const b = new FakeRuntime();
    a.addContainer('overlab-spread-switch', { [LABEL_LAB]: 'spread', [LABEL_NODE]: SWITCH_NODE, [LABEL_ENGINE]: 'a' });
    const other = b.addContainer('overlab-spread-switch-b', { [LABEL_LAB]: 'spread', [LABEL_NODE]: SWITCH_NODE, [LABEL_ENGINE]: 'b' });
    other.files.set(LAB_ENGINES_FILE, Buffer.from(JSON.stringify({ lab: 'spread', engines })));
    // The command talks to b (its DOCKER_HOST), and reaches a lab's other engines by the factory.
    const routed = new RoutedRuntime([{ name: '', runtime: b }], (e) => (e.name === 'a' ? a : new FakeRuntime()));
    return { a, b, routed };
  };

  it('finds the primary through the other switch\'s record: the command then reaches it, and the lab locks there', async () => {
    const { a, b, routed } = setup();
    expect(await locateLab(routed, 'spread')).toEqual({ kind: 'elsewhere', primary: 'a', from: 'b' });
    expect(routed.primary).toBe(a);
    expect(routed.named.map((n) => n.name)).toEqual(['a', 'b']);
    expect(routed.engineOf('overlab-spread-switch-b')).toBe('b');
    expect(routed.named[1]!.runtime).toBe(b); // the command's own engine keeps its client, under the lab's name for it
    expect(await engineLockKey(routed)).toBe(await engineLockKey(a));
    expect(await engineLockKey(routed)).not.toBe(await engineLockKey(b));
  });

  it('says what it needs when the primary does not answer from here (exit 3)', async () => {
    const { a, routed } = setup();
    a.failOn('list', engineError('unreachable', { engine: a.endpoint, operation: 'list containers' }));
    const where = await locateLab(routed, 'spread');
    expect(where.kind).toBe('unreachable');
    if (where.kind !== 'unreachable') return;
    expect(where.error.message).toMatch(/^lab "spread" is spread over engines a, b, and this command talks to b; its model, completion marker and lock are on its primary engine a \(unix:\/\/\/run\/a\.sock\), which does not answer from here/);
    expect(exitCodeFor(where.error)).toBe(3);
  });

  it('a lab on one engine, or seen from its primary, is simply here', async () => {
    const { a } = setup();
    expect(await locateLab(new RoutedRuntime([{ name: '', runtime: a }]), 'spread')).toEqual({ kind: 'here' });
    expect(await locateLab(new RoutedRuntime([{ name: '', runtime: new FakeRuntime() }]), 'spread')).toEqual({ kind: 'here' });
  });
});

describe('an engine that dies during up', () => {
  it('the run\'s containers on every other engine are removed; the error names the engine and what may be left there', async () => {
    const a = new FakeRuntime();
    const b = new FakeRuntime();
    const routed = new RoutedRuntime([{ name: 'a', runtime: a }, { name: 'b', runtime: b }]);
    const mine = { [LABEL_LAB]: 'spread', [LABEL_RUN]: 'r1' };
    a.addContainer('overlab-spread-switch', { ...mine, [LABEL_ENGINE]: 'a' });
    a.addContainer('overlab-spread-h1', { ...mine, [LABEL_ENGINE]: 'a' });
    a.addContainer('overlab-spread-h9', { [LABEL_LAB]: 'spread', [LABEL_RUN]: 'r0' }); // another run's: never touched
    b.addContainer('overlab-spread-switch-b', { ...mine, [LABEL_ENGINE]: 'b' });
    const gone = engineError('timeout', { engine: `${b.endpoint} (engine b)`, operation: 'list containers', timeoutMs: 1500 });
    b.failOn('list', gone);
    const rollback = await rollbackRun(routed, 'spread', 'r1');
    expect(rollback).toEqual({ removed: ['overlab-spread-h1', 'overlab-spread-switch'], clean: false, unreached: [{ engine: 'b', endpoint: b.endpoint }] });
    expect(a.names()).toEqual(['overlab-spread-h9']);

    a.addContainer('overlab-spread-h2', { ...mine, [LABEL_ENGINE]: 'a' });
    const error = (await withRunRollback(routed, 'spread', 'r1', new AbortController().signal, () => Promise.reject(gone)).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).toContain(`${b.endpoint} (engine b)`);
    expect(error.message).toContain(`; rolled back on the lab's other engines (1 containers removed), but engine b (${b.endpoint}) did not answer: what this run made there may be left`);
    expect(error.hint).toBe(`once it answers, \`overlab down spread\` talking to it (DOCKER_HOST=${b.endpoint}) removes the rest`);
  });
});

describe('a host joining a lab across engines (node add --engine)', () => {
  const lab = () => resolveLab(parseLabSpec(SPEC, '/labs/spread.yaml'), { takenSubnets: [] });

  it('goes on the engine asked for, one of the lab\'s; an unknown name is bad input naming the lab\'s engines', () => {
    expect(joiningEngine(lab(), 'c')).toEqual({ engine: 'c', chosen: 'asked' });
    const unknown = catchError(() => joiningEngine(lab(), 'd'));
    expect(exitCodeFor(unknown)).toBe(2);
    expect(unknown.message).toBe('--engine d: lab spread has no engine "d"');
    expect(unknown.hint).toBe('its engines: a, b, c');
    const hostile = catchError(() => joiningEngine(lab(), 'b;rm -rf /'));
    expect(exitCodeFor(hostile)).toBe(2);
    expect(hostile.message).toContain('is not an engine name');
  });

  it('without --engine, the next in turn as the spec deals hosts: the lab\'s k-th host on engine k mod n', () => {
    const five = lab(); // h1..h5: the sixth host (k = 5) is dealt to engine c (5 mod 3 = 2)
    expect(joiningEngine(five)).toEqual({ engine: 'c', chosen: 'in turn' });
    expect(joiningEngine({ ...five, hosts: five.hosts.slice(0, 3) })).toEqual({ engine: 'a', chosen: 'in turn' });
  });

  it('a lab on one engine takes no --engine and places nothing', () => {
    const one = resolveLab(parseLabSpec('name: one\nhosts: [{ name: h1 }]\n', '/labs/one.yaml'), { takenSubnets: [] });
    expect(joiningEngine(one)).toBeUndefined();
    const refused = catchError(() => joiningEngine(one, 'a'));
    expect(exitCodeFor(refused)).toBe(2);
    expect(refused.message).toBe('--engine a: lab one runs on one engine, not across engines');
  });

  it('an engine that does not answer is named, exit 3, before anything is created', async () => {
    const a = new FakeRuntime();
    const b = new FakeRuntime();
    const routed = new RoutedRuntime([{ name: 'a', runtime: a }, { name: 'b', runtime: b }, { name: 'c', runtime: new FakeRuntime() }]);
    b.failOn('info', engineError('timeout', { engine: `${b.endpoint} (engine b)`, operation: 'answer a ping', timeoutMs: 6000 }));
    const error = (await placeJoiningHost(routed, lab(), 'b', new AbortController().signal).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(exitCodeFor(error)).toBe(3);
    expect(error.message).toMatch(new RegExp(`^engine b \\(${b.endpoint.replace(/[/.]/g, '\\$&')}\\) of lab spread does not answer, so no host can join there; nothing was created: `));
    expect(error.hint).toContain('--engine a|c');
    expect([...a.containers.keys(), ...b.containers.keys()]).toEqual([]);
    expect(await placeJoiningHost(routed, lab(), 'c', new AbortController().signal)).toEqual({ engine: 'c', chosen: 'asked' });
  });
});

function catchError(f: () => unknown): Error & { hint?: string } {
  try {
    f();
  } catch (error) {
    return error as Error & { hint?: string };
  }
  throw new Error('expected an error');
}

describe('a lab whose engine is lost while it is up', () => {
  const lab = () => resolveLab(parseLabSpec(SPEC, '/labs/spread.yaml'), { takenSubnets: [] });
  const lostB = [{ engine: 'b', endpoint: 'ssh://me@10.0.0.2', why: 'no answer within 6 s' }];

  it('its nodes there are unreachable, naming the engine; a node gone from an engine that answers is gone', () => {
    const spread = lab();
    const listed = containerSpecs(spread, 'r')
      .filter((s) => s.labels[LABEL_ENGINE] !== 'b' && s.labels[LABEL_NODE] !== 'h3')
      .map((s) => ({ id: s.name, name: s.name, state: 'running', labels: s.labels }));
    const out = availability(spread, listed, lostB);
    expect(out.get('h2')).toEqual({ reason: 'could not reach engine b (ssh://me@10.0.0.2), where h2 runs: no answer within 6 s', engine: 'b' });
    expect(out.get('h3')).toEqual({ reason: 'h3 (container overlab-spread-h3) is gone from the lab' });
    expect([...out.keys()].sort()).toEqual(['h2', 'h3']);
  });

  it('lists every engine on its own: the one that does not answer is lost, the others\' containers are found and placed', async () => {
    const a = new FakeRuntime();
    const b = new FakeRuntime();
    const routed = new RoutedRuntime([{ name: 'a', runtime: a }, { name: 'b', runtime: b }]);
    a.addContainer('overlab-spread-h1', { [LABEL_LAB]: 'spread', [LABEL_NODE]: 'h1' });
    b.failOn('list', engineError('timeout', { engine: `${b.endpoint} (engine b)`, operation: 'list containers', timeoutMs: 6000 }));
    const { listed, lost } = await listAcrossEngines(routed, lab());
    expect(listed.map((c) => c.name)).toEqual(['overlab-spread-h1']);
    expect(lost).toEqual([{ engine: 'b', endpoint: b.endpoint, why: expect.stringContaining('(engine b) does not answer within 6 s') }]);
    expect(routed.engineOf('overlab-spread-h1')).toBe('a');
  });

  it('a check needing a node there is unreachable (not judged), one with a node known gone is an error, the rest run', async () => {
    const spread = lab();
    const names = new LabReferences(spread);
    const signal = new AbortController().signal;
    const ping = (name: string, to: string): CheckSpec => ({ kind: 'ping', name, ping: { from: 'h1/p1', to, count: 1, expect: 'reachable' } });
    const unavailable = new Map([
      ['h2', { reason: 'could not reach engine b (ssh://me@10.0.0.2), where h2 runs: no answer', engine: 'b' }],
      ['h3', { reason: 'h3 (container overlab-spread-h3) is gone from the lab' }],
    ]);
    const runtime = new FakeRuntime();
    const toB = await runCheck(runtime, names, ping('to b', 'h2/p1'), signal, unavailable);
    expect(toB).toMatchObject({ status: 'unreachable', reason: 'could not reach engine b (ssh://me@10.0.0.2), where h2 runs: no answer', details: { unreachableEngines: ['b'] } });
    expect((await runCheck(runtime, names, ping('to gone', 'h3/p1'), signal, unavailable)).status).toBe('error');
    expect(runtime.calls.filter((c) => c.method === 'exec')).toEqual([]);
  });

  it('verify exits 1 when a judged check failed, else 3 when one could not be judged, else 0; JUnit says skipped', () => {
    const check = (status: CheckResult['status']): CheckResult => ({ name: status, kind: 'ping', status, seen: '-', durationMs: 1, details: {}, ...(status === 'pass' ? {} : { reason: `${status} because` }) });
    const report = summarize('spread', [check('pass'), check('unreachable')]);
    expect(report).toMatchObject({ passed: 1, failed: 0, unreachable: 1 });
    expect(verifyExitCode([report])).toBe(3);
    expect(verifyExitCode([summarize('spread', [check('fail'), check('unreachable')])])).toBe(1);
    expect(verifyExitCode([summarize('spread', [check('error'), check('pass')])])).toBe(1);
    expect(verifyExitCode([summarize('spread', [check('pass')])])).toBe(0);
    const xml = renderJunit([report]);
    expect(xml).toContain('tests="2" failures="0" errors="0" skipped="1"');
    expect(xml).toContain('<skipped message="unreachable because"/>');
    const text = renderVerifyReport(report, palette(false));
    expect(text).toContain('UNREACHED');
    expect(text).toContain('spread: 1/2 checks passed, 1 not judged (an engine does not answer)');
  });

  it('the lab\'s state names the lost engine for ls (--json: lostEngines)', () => {
    const spread = lab();
    const running = containerSpecs(spread, 'r').filter((s) => s.labels[LABEL_ENGINE] !== 'b').map((s) => ({ id: s.name, name: s.name, state: 'running', labels: s.labels }));
    const state = labState({ containers: running, model: spread, marker: { run: 'r', fingerprint: 'f', completedAt: '' }, lost: lostB });
    expect(state.lostEngines).toEqual(lostB);
    expect(labState({ containers: running, model: spread }).lostEngines).toBeUndefined();
  });
});
