// The hostile corpus: names and flag values that try to run something. At every CLI entry point
// they are refused as bad input (exit 2) before the engine is asked anything; if one ever got
// past validation, the planner refuses to put it on a batch line, and a lone command carries it
// as one argv element that no shell reads — proven by running the real step runner.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { renderNodePlans } from '../../src/plan/node-plans.js';
import { encodeSteps, RUNNER_ARGV } from '../../src/plan/step-runner.js';
import { checkedTarget } from '../../src/lab-spec/name-assert.js';
import { assertName as checkedName } from '../../src/lab-spec/name-assert.js';
import { addHost, removeHost } from '../../src/core/node-membership.js';
import { bringUpLab } from '../../src/deploy/node-bringup.js';
import { compilePlan } from '../../src/deploy/run-steps.js';
import { EXIT_BAD_INPUT, exitCodeFor, OverlabError } from '../../src/base/errors.js';
import { FakeRuntime } from '../support/fake-runtime.js';

/** Calls that create something or run a process. */
const effects = (runtime: FakeRuntime) =>
  runtime.calls.filter((c) => ['createAndStart', 'exec', 'execStream', 'execDetached', 'putTar', 'importImage', 'buildImage'].includes(c.method));
import { twoHostSpec } from './lab-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'overlab-hostile-'));
const canary = join(dir, 'canary');

const HOSTILE_NAMES = [
  `h$(touch ${canary})`,
  `h\`touch ${canary}\``,
  `h;touch ${canary}`,
  `h && touch ${canary}`,
  `h|touch`,
  `h'q`,
  `h"q`,
  `h\ntouch ${canary}`,
  '-h',
  '--help',
  'ｈost1', // full-width h
  'hоst1', // Cyrillic o
  '../etc',
  '..',
  '.',
  'a/b/c',
  'a b',
  'h#x',
  'h\\x',
  'H1',
  '',
  'h'.repeat(25),
];

const signal = new AbortController().signal;
const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });

function expectBadInput(run: () => unknown, field: RegExp): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OverlabError);
  expect(exitCodeFor(error)).toBe(EXIT_BAD_INPUT);
  expect((error as Error).message).toMatch(field);
}

describe('names entering from the command line', () => {
  it('every hostile value is refused for every kind of name, naming the field', () => {
    for (const value of HOSTILE_NAMES) {
      for (const kind of ['lab', 'node', 'pod'] as const) expectBadInput(() => checkedName(kind, value, `--${kind}`), new RegExp(`^--${kind}: `));
    }
  });

  it('exec targets are <node> or <host>/<pod>, each part a name', () => {
    for (const value of HOSTILE_NAMES.filter((v) => v !== 'a/b/c')) {
      expectBadInput(() => checkedTarget(value), /^target: /);
      expectBadInput(() => checkedTarget(`host1/${value}`), /^target: /);
    }
    expectBadInput(() => checkedTarget('host1/pod1/x'), /not <node> or <host>\/<pod>/);
    expect(checkedTarget('host1/pod1')).toBe('host1/pod1');
    expect(checkedTarget('router')).toBe('router');
  });

  it('node add and node rm refuse them before the engine is asked anything', async () => {
    for (const value of HOSTILE_NAMES) {
      for (const attempt of [
        (runtime: FakeRuntime) => addHost(runtime, lab, value, ['pod1'], signal),
        (runtime: FakeRuntime) => addHost(runtime, lab, 'host3', [value], signal),
        (runtime: FakeRuntime) => addHost(runtime, lab, 'host3', ['pod1', value], signal),
        (runtime: FakeRuntime) => removeHost(runtime, lab, value, signal),
      ]) {
        const runtime = new FakeRuntime();
        const error = await attempt(runtime).catch((e: unknown) => e);
        expect(exitCodeFor(error), `${JSON.stringify(value)}: ${String(error)}`).toBe(EXIT_BAD_INPUT);
        expect(runtime.calls).toEqual([]);
      }
    }
    expect(existsSync(canary)).toBe(false);
  });

  it('node add refuses reserved, taken and repeated names too', async () => {
    for (const [host, pods, message] of [
      ['switch', ['pod1'], /is reserved: overlab names/],
      ['etcd', ['pod1'], /is reserved: overlab names/],
      ['host1', ['pod1'], /already has a node "host1"/],
      ['router', ['pod1'], /already has a node "router"/],
      ['host3', ['pod1', 'pod1'], /"pod1" is given twice/],
      ['host3', [], /no pod name/],
    ] as const) {
      const runtime = new FakeRuntime();
      await expect(addHost(runtime, lab, host, [...pods], signal)).rejects.toThrow(message);
      expect(runtime.calls).toEqual([]);
    }
  });
});

describe('a hostile name that got past validation', () => {
  it('is refused by the planner before any container exists when it would reach a batch line', async () => {
    for (const value of HOSTILE_NAMES.filter((v) => v !== '' && !/^[A-Za-z0-9_.:/][A-Za-z0-9_.:/-]*$/.test(v))) {
      for (const spec of [
        twoHostSpec({ networks: [{ ...twoHostSpec().networks[0]!, bridge: value }] }),
        twoHostSpec({ hosts: [{ name: 'host1', subnets: {}, pods: [{ name: value, network: 'default' }] }] }),
      ]) {
        const runtime = new FakeRuntime();
        const error = await bringUpLab(runtime, resolveLab(spec, { takenSubnets: [] }), signal).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(OverlabError);
        expect((error as OverlabError).kind).toBe('internal');
        expect((error as Error).message).toMatch(/refusing to put .* on an iproute2 batch line/);
        expect(effects(runtime)).toEqual([]);
      }
    }
  });

  it('reaches a lone command only as one argv element, which the real runner passes on unread', () => {
    const log = join(dir, 'argv.log');
    // Record every command's argv (NUL-separated) instead of running ip/nsenter on this machine.
    const RECORD = 'printf "%s\\0" "$@" >>"$0"; printf "\\n" >>"$0"; cat >/dev/null';
    for (const value of HOSTILE_NAMES.filter((v) => v !== '' && v !== '.' && v !== '..')) {
      const odd = resolveLab(twoHostSpec(), { takenSubnets: [] });
      odd.hosts[0] = { ...odd.hosts[0]!, name: value };
      const plan = compilePlan(renderNodePlans(odd)[0]!);
      const lone = plan.steps.filter((s) => s.input === undefined && s.argv.includes(value));
      expect(lone.length, JSON.stringify(value)).toBeGreaterThan(0);
      const recorded = lone.map((s) => ({ ...s, argv: ['sh', '-c', RECORD, log, ...s.argv] }));
      const [cmd, ...args] = RUNNER_ARGV;
      const r = spawnSync(cmd!, args, { input: encodeSteps(recorded), cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const lines = readFileSync(log, 'utf8').split('\0\n').slice(-lone.length - 1, -1);
      expect(lines.map((l) => l.split('\0'))).toEqual(lone.map((s) => s.argv));
    }
    expect(existsSync(canary)).toBe(false);
  });
});
