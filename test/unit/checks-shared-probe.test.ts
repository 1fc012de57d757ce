// Checks that watch the very same traffic share one probe: the schedule (planUnits) puts them in
// one unit, SharedProbe sends the ping once every check of the unit is listening, and verifyLab on
// the in-memory runtime sends one ping for two captures of it — with the verdicts each capture
// would have alone (a capture that does not see the packet still fails).
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { SharedProbe } from '../../src/checks/shared-probe.js';
import { planUnits, reachOf } from '../../src/checks/check-plan.js';
import { footprintOf } from '../../src/checks/run-checks.js';
import { LabReferences } from '../../src/lab/lab-references.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { verifyLab } from '../../src/core/lab-verify.js';
import { LABEL_LAB, LABEL_NODE } from '../../src/plan/container-names.js';
import type { PingResult } from '../../src/probes/ping.js';
import type { CaptureSpec, CheckSpec } from '../../src/lab-spec/lab-spec.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { REAP_SCRIPT } from '../../src/probes/probe-reaper.js';
import { twoHostSpec } from './lab-fixture.js';

const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
const names = new LabReferences(lab);
const pingSpec = (from: string, to: string, count = 1) => ({ from, to, count, expect: 'reachable' as const });
const capture = (name: string, on: string, from: string, to: string, count = 1): CheckSpec => ({
  kind: 'capture',
  name,
  capture: { on, during: { ping: pingSpec(from, to, count) }, expect: [{ proto: 'icmp' }], absent: [] },
});
const ping = (name: string, from: string, to: string): CheckSpec => ({ kind: 'ping', name, ping: pingSpec(from, to) });
const unitsOf = (checks: CheckSpec[]) => planUnits(checks.map((c) => reachOf(footprintOf(c, names), names)));
const result: PingResult = { from: 'a', to: 'b', transmitted: 1, received: 1, exitCode: 0 };

describe('SharedProbe', () => {
  it('sends once, when every check has arrived, and gives each the same result', async () => {
    let sends = 0;
    const probe = new SharedProbe(2, async () => (sends++, result));
    const first = probe.arrive();
    await Promise.resolve();
    expect(sends).toBe(0);
    const second = probe.arrive();
    expect(await Promise.all([first, second])).toEqual([result, result]);
    expect(sends).toBe(1);
  });

  it('a check that fails before its traffic leaves: the others are not kept waiting', async () => {
    let sends = 0;
    const probe = new SharedProbe(3, async () => (sends++, result));
    const waiting = probe.arrive();
    probe.leave();
    probe.leave();
    expect(await waiting).toBe(result);
    expect(sends).toBe(1);
  });

  it('sends nothing when no check arrives', () => {
    let sends = 0;
    const probe = new SharedProbe(2, async () => (sends++, result));
    probe.leave();
    probe.leave();
    expect(sends).toBe(0);
  });

  it("a failed probe fails every check that waited for it", async () => {
    const probe = new SharedProbe(2, () => Promise.reject(new Error('exec failed')));
    await expect(Promise.all([probe.arrive(), probe.arrive()])).rejects.toThrow('exec failed');
  });
});

describe('planUnits', () => {
  it('two captures of the very same ping form one unit; of different pings, they wait for each other', () => {
    const same = unitsOf([capture('a', 'host1:eth0', 'host1/pod1', 'host2/pod1'), capture('b', 'host2:eth0', 'host1/pod1', 'host2/pod1')]);
    expect(same).toEqual([{ checks: [0, 1], after: [], shared: true }]);
    const other = unitsOf([capture('a', 'host1:eth0', 'host1/pod1', 'host2/pod1'), capture('b', 'host2:eth0', 'host1/pod1', 'host2/pod1', 3)]);
    expect(other).toEqual([
      { checks: [0], after: [], shared: false },
      { checks: [1], after: [0], shared: false },
    ]);
  });

  it('a ping between them keeps the order: the second capture would see it', () => {
    const units = unitsOf([
      capture('a', 'host1:eth0', 'host1/pod1', 'host2/pod1'),
      ping('p', 'host1/pod2', 'host2/pod1'),
      capture('b', 'host2:eth0', 'host1/pod1', 'host2/pod1'),
    ]);
    // The ping waits for the first capture, the second capture for the ping: no shared unit.
    expect(units.map((u) => u.checks)).toEqual([[0], [1], [2]]);
    expect(units[1]!.after).toEqual([0]);
    expect(units[2]!.after).toContain(1);
  });

  it('a check waits only for the checks it interferes with', () => {
    const units = unitsOf([capture('a', 'host1:docker0', 'host1/pod1', 'host1/pod2'), ping('p', 'host2/pod1', 'host2/pod2'), capture('b', 'host2:docker0', 'host2/pod1', 'host2')]);
    expect(units.map((u) => u.after)).toEqual([[], [], [1]]);
  });
});

/** A pcap file (Ethernet) holding one ICMP echo request from `src` to `dst`, or no packet. */
function pcap(packet?: { src: string; dst: string }): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  if (!packet) return header;
  const ip = Buffer.alloc(28);
  ip[0] = 0x45;
  ip.writeUInt16BE(28, 2);
  ip[8] = 64;
  ip[9] = 1;
  Buffer.from(packet.src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(packet.dst.split('.').map(Number)).copy(ip, 16);
  ip[20] = 8; // echo request
  const frame = Buffer.concat([Buffer.alloc(12, 0x02), Buffer.from([0x08, 0x00]), ip]);
  const record = Buffer.alloc(16);
  record.writeUInt32LE(frame.length, 8);
  record.writeUInt32LE(frame.length, 12);
  return Buffer.concat([header, record, frame]);
}

/** The lab's containers running on the in-memory runtime; tcpdump on `sees` captures the echo. */
function labRuntime(sees: (container: string) => boolean): { runtime: FakeRuntime; order: string[] } {
  const runtime = new FakeRuntime();
  const order: string[] = [];
  for (const node of [...lab.hosts, ...lab.externals]) runtime.addContainer(node.container, { [LABEL_LAB]: lab.name, [LABEL_NODE]: node.name });
  const src = lab.hosts[0]!.pods[0]!.ip;
  const dst = lab.hosts[1]!.pods[0]!.ip;
  runtime.onExec(({ container, command }) => {
    if (command.includes('ping')) {
      order.push(`ping@${container}`);
      return { stdout: '1 packets transmitted, 1 received, 0% packet loss\nrtt min/avg/max/mdev = 0.1/0.1/0.1/0.0 ms\n' };
    }
    if (command[0] === 'kill') stopped.get(container)?.();
    return undefined;
  });
  // tcpdump announces its PID, listens, writes a pcap (bytes) and runs until it is stopped by PID
  // (kill -INT), as the real one does.
  const stopped = new Map<string, () => void>();
  const execStream = runtime.execStream.bind(runtime);
  runtime.execStream = async (container, command, options) => {
    await execStream(container, command, options);
    order.push(`tcpdump@${container}`);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end(pcap(sees(container) ? { src, dst } : undefined));
    stderr.end('pid 4242\ntcpdump: listening on eth0\n');
    return { stdout, stderr, exited: new Promise<number>((resolve) => stopped.set(container, () => resolve(0))) };
  };
  return { runtime, order };
}

describe('verifyLab with a shared probe', () => {
  const checks = [capture('at-host1', 'host1:eth0', 'host1/pod1', 'host2/pod1'), capture('at-host2', 'host2:eth0', 'host1/pod1', 'host2/pod1')];

  it('two captures of one ping: one ping, sent once both tcpdumps listen; both see it', async () => {
    const { runtime, order } = labRuntime(() => true);
    const report = await verifyLab(runtime, lab, checks, { signal: new AbortController().signal });
    expect(order.filter((o) => o.startsWith('ping'))).toHaveLength(1);
    expect(order.at(-1)).toMatch(/^ping@/);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['at-host1', 'pass'],
      ['at-host2', 'pass'],
    ]);
  });

  it('a capture that does not see the packet still fails, the other still passes', async () => {
    const host2 = lab.hosts[1]!.container;
    const { runtime } = labRuntime((container) => container !== host2);
    const report = await verifyLab(runtime, lab, checks, { signal: new AbortController().signal });
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['at-host1', 'pass'],
      ['at-host2', 'fail'],
    ]);
  });

  it('a capture that fails before its traffic (a name the lab cannot resolve) does not hold back the other', async () => {
    const { runtime, order } = labRuntime(() => true);
    const broken = capture('at-host2', 'host2:eth0', 'host1/pod1', 'host2/pod1');
    if (broken.kind === 'capture') (broken.capture as CaptureSpec).expect = [{ proto: 'icmp', src: 'host9/pod1' }];
    const report = await verifyLab(runtime, lab, [checks[0]!, broken], { signal: new AbortController().signal });
    expect(order).toEqual([`tcpdump@${lab.hosts[0]!.container}`, `ping@${lab.hosts[0]!.container}`]);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['at-host1', 'pass'],
      ['at-host2', 'error'],
    ]);
  });
});

describe('two verifies of one lab at once', () => {
  it('run one after the other: the second reaps leftovers only once the first has stopped its captures', async () => {
    const { runtime, order } = labRuntime(() => true);
    runtime.onExec(({ container, command }) => {
      if (command[2] === REAP_SCRIPT) order.push(`reap@${container}`);
      return undefined;
    });
    const one = [capture('at-host1', 'host1:eth0', 'host1/pod1', 'host2/pod1')];
    const signal = new AbortController().signal;
    const reports = await Promise.all([verifyLab(runtime, lab, one, { signal }), verifyLab(runtime, lab, one, { signal })]);
    expect(reports.map((r) => r.checks[0]!.status)).toEqual(['pass', 'pass']);
    const host1 = lab.hosts[0]!.container;
    const mine = order.filter((o) => o.endsWith(`@${host1}`)).map((o) => o.split('@')[0]);
    expect(mine).toEqual(['reap', 'tcpdump', 'ping', 'reap', 'tcpdump', 'ping']);
  });
});
