// A lab is whole or it says so, on the real engine: `up` killed with SIGKILL at random points,
// two `up`s at once, `up` racing `down`, name collisions between labs (a hung engine:
// engine-wide/hung-engine.test.ts). Each
// racing test runs several trials and prints its tally (the figures the closing note quotes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { CLI, containersWithLabel, downLabs, endsWithTest, overlab, overlabJson, ROOT, seedAs } from './harness.js';
import { setting } from '../../src/shared/settings.js';

// Copies of seed labs under names of their own (other test files run beside this one); the spec
// files are written in beforeAll.
const LAB = 'r-k8s-cni0';
let SPEC = '';
/** The races need many trials, not many phases: a lab that comes up quickly. */
const RACE_LAB = 'r-host-gw';
let RACE_SPEC = '';
const MODEL_LAB = 'r-same-host';
const VERIFY_LAB = 'r-two-verifies';
const LABS = [LAB, RACE_LAB, MODEL_LAB, VERIFY_LAB, 'hx-a', 'hx-a-b'];
const TRIALS = setting('trials', 5);

interface LsRow {
  lab: string;
  status: 'complete' | 'degraded' | 'building' | 'incomplete';
  detail: string;
  nodes: number;
  running: number;
}

let dir: string;

function start(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; cwd: string; env: Record<string, string> }> {
  return endsWithTest(execa('node', [CLI, ...args], { cwd: ROOT, reject: false, env: { NO_COLOR: '1', ...env } }));
}

async function labRow(lab = LAB): Promise<LsRow | undefined> {
  const ls = await overlabJson<LsRow[]>(['ls']);
  expect(ls.exitCode, JSON.stringify(ls.body)).toBe(0);
  return ls.body.result.find((r) => r.lab === lab);
}

/** Milliseconds a whole `up` of the lab takes on this machine now (the range kills are drawn from). */
async function upDuration(lab = LAB, spec = SPEC): Promise<number> {
  const started = Date.now();
  const up = await overlab(['up', spec]);
  expect(up.exitCode, up.stderr).toBe(0);
  const ms = Date.now() - started;
  expect((await overlab(['down', lab])).exitCode).toBe(0);
  return ms;
}

const tally = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-reliability-');
  SPEC = await seedAs('k8s-cni0', LAB);
  RACE_SPEC = await seedAs('host-gw', RACE_LAB);
  await downLabs(LABS);
});

afterAll(async () => {
  await downLabs(LABS);
  await rm(dir, { recursive: true, force: true });
});

describe('up killed with SIGKILL at random points', () => {
  it('never passes a half-built lab for a whole one', async () => {
    const full = await upDuration();
    const counts: Record<string, number> = {};
    const delays: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const delay = Math.round(200 + Math.random() * full * 1.1);
      delays.push(delay);
      const child = start(['up', SPEC]);
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      await child;
      clearTimeout(timer);
      const row = await labRow();
      const again = await overlabJson<{ status: string }>(['up', SPEC]);
      if (!row) {
        counts['nothing made'] = (counts['nothing made'] ?? 0) + 1;
        expect(again.exitCode).toBe(0);
        expect(again.body.result.status).toBe('created');
      } else if (row.status === 'complete') {
        counts['finished before the kill'] = (counts['finished before the kill'] ?? 0) + 1;
        expect(again.body.result.status).toBe('unchanged');
      } else {
        counts[row.status] = (counts[row.status] ?? 0) + 1;
        expect(['incomplete', 'degraded']).toContain(row.status);
        // Never "nothing to do": exit 3, what is missing, and the way out.
        expect(again.exitCode).toBe(3);
        expect(again.body.message).toMatch(/is only partly there|degraded/);
        const verify = await overlab(['verify', LAB]);
        if (row.status === 'incomplete') {
          // Never built to the end: nothing to judge, only the way out.
          expect(verify.exitCode).toBe(3);
          expect(verify.stderr).toContain('--recreate');
        } else {
          // Built, then a node went: the checks run, and those needing the missing node are errors.
          expect(verify.exitCode).toBe(1);
        }
        const rebuilt = await overlabJson<{ status: string }>(['up', SPEC, '--recreate']);
        expect(rebuilt.body.result.status).toBe('created');
        expect((await labRow())?.status).toBe('complete');
      }
      expect((await overlab(['down', LAB])).exitCode).toBe(0);
    }
    console.log(`SIGKILL of up (${LAB}, full up ${full} ms) at ${delays.join(', ')} ms: ${tally(counts)} (of ${TRIALS})`);
  }, 600_000);
});

describe('two ups of the same lab at once', () => {
  it('at most one builds, neither removes the other\'s containers, the loser says who holds the lab', async () => {
    const counts: Record<string, number> = {};
    for (let trial = 0; trial < TRIALS; trial++) {
      const [a, b] = await Promise.all([start(['up', RACE_SPEC, '--json']), start(['up', RACE_SPEC, '--json'])]);
      const outcomes = [a, b].map((r) => {
        const body = JSON.parse(r.stdout) as { status: number; result?: { status: string }; message?: string };
        if (r.exitCode === 0) return body.result!.status; // created | unchanged
        expect(r.exitCode).toBe(3);
        expect(body.message).toMatch(/^lab "r-host-gw" is being changed by another overlab process \(pid \d+: `overlab up \S+\/r-host-gw\.yaml --json`, for \d+ s\)$/);
        return 'told who holds it';
      });
      expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
      for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
      const row = await labRow(RACE_LAB);
      expect(row).toMatchObject({ status: 'complete' });
      expect(row!.running).toBe(row!.nodes);
      expect(await containersWithLabel(`overlab.lab=${RACE_LAB}`)).toHaveLength(row!.nodes);
      expect((await overlab(['down', RACE_LAB])).exitCode).toBe(0);
    }
    console.log(`two concurrent ups of ${RACE_LAB}: ${tally(counts)} (${TRIALS} trials, ${2 * TRIALS} runs; every trial left one whole lab)`);
  }, 600_000);
});

describe('up racing down', () => {
  it('is serialised: the end state is what one order of the two gives, never a partial lab', async () => {
    const full = await upDuration(RACE_LAB, RACE_SPEC);
    const counts: Record<string, number> = {};
    for (let trial = 0; trial < TRIALS; trial++) {
      const wasUp = trial % 2 === 0;
      if (wasUp) expect((await overlab(['up', RACE_SPEC])).exitCode).toBe(0);
      const up = start(['up', RACE_SPEC, '--json']);
      await new Promise((resolve) => setTimeout(resolve, Math.round(Math.random() * (wasUp ? 300 : full))));
      const down = await start(['down', RACE_LAB, '--json']);
      const upResult = await up;
      const upStatus = upResult.exitCode === 0 ? (JSON.parse(upResult.stdout) as { result: { status: string } }).result.status : `exit ${upResult.exitCode}`;
      const row = await labRow(RACE_LAB);
      const end = row ? row.status : 'absent';
      expect(['absent', 'complete']).toContain(end);
      if (down.exitCode !== 0) {
        // down waited, then said who held the lab: up finished and the lab stays.
        expect(down.exitCode).toBe(3);
        expect((JSON.parse(down.stdout) as { message: string }).message).toContain('is being changed by another overlab process');
        expect(end).toBe('complete');
      }
      if (end === 'complete' && down.exitCode === 0) expect(upStatus).toBe('created'); // down, then up
      const key = `${wasUp ? 'from up' : 'from nothing'}: up ${upStatus}, down ${down.exitCode === 0 ? 'ok' : 'told who holds it'}, lab ${end}`;
      counts[key] = (counts[key] ?? 0) + 1;
      await overlab(['down', RACE_LAB]);
    }
    console.log(`up racing down (${RACE_LAB}): ${tally(counts)} (of ${TRIALS})`);
  }, 600_000);
});

describe('two verifies of one lab at once', () => {
  it('take turns: both pass every check (neither stops the other\'s captures), and no probe is left', async () => {
    // A capture that listens for about 3 s (15 pings, 0.2 s apart): long enough for a second
    // verify to start, reap what it takes for leftovers, and stop it, were the two not to take turns.
    const spec = `${dir}/${VERIFY_LAB}.yaml`;
    await writeFile(spec, [
      `name: ${VERIFY_LAB}`,
      'hosts:',
      '  - name: host1',
      '    pods: [pod1, pod2]',
      'checks:',
      '  - name: the pods talk over the bridge',
      '    capture:',
      '      on: host1:docker0',
      '      during: { ping: { from: host1/pod1, to: host1/pod2, count: 15 } }',
      '      expect: [{ proto: icmp, icmpType: echo-request, src: host1/pod1, dst: host1/pod2 }]',
      '',
    ].join('\n'));
    expect((await overlab(['up', spec])).exitCode).toBe(0);
    const host = `overlab-${VERIFY_LAB}-host1`;
    const first = start(['verify', VERIFY_LAB, '--json']);
    let capturing = false;
    for (const deadline = Date.now() + 20_000; !capturing && Date.now() < deadline && first.exitCode === null; ) {
      capturing = (await execa('docker', ['exec', host, 'pgrep', '-x', 'tcpdump'], { reject: false })).exitCode === 0;
    }
    expect(capturing, 'the first verify started its capture').toBe(true);
    const runs = await Promise.all([first, start(['verify', VERIFY_LAB, '--json'])]);
    for (const r of runs) {
      const body = JSON.parse(r.stdout) as { result: { checks: { name: string; status: string; reason?: string; details?: { packets?: { summary: string }[] } }[] } };
      expect(body.result.checks.map((c) => `${c.name}: ${c.status}${c.reason ? ` (${c.reason})` : ''}`)).toEqual(['the pods talk over the bridge: pass']);
      // A capture stopped half-way would still have seen the first requests: count them all.
      const requests = body.result.checks[0]!.details?.packets?.filter((p) => p.summary.includes('echo-request')) ?? [];
      expect(requests.length, 'echo requests the capture saw').toBeGreaterThanOrEqual(15);
      expect(r.exitCode).toBe(0);
    }
    expect((await execa('docker', ['exec', host, 'pgrep', '-x', 'tcpdump'], { reject: false })).stdout, 'tcpdump left running').toBe('');
    expect((await overlab(['down', VERIFY_LAB])).exitCode).toBe(0);
  }, 120_000);
});

describe('names and the lab model', () => {
  it('finds a container-name collision with another lab before creating anything (exit 2, naming the owner)', async () => {
    await writeFile(`${dir}/hx-a-b.yaml`, 'name: hx-a-b\nhosts:\n  - name: host1\n');
    await writeFile(`${dir}/hx-a.yaml`, 'name: hx-a\nhosts:\n  - name: b-host1\n');
    expect((await overlab(['up', `${dir}/hx-a-b.yaml`])).exitCode).toBe(0);
    const r = await overlab(['up', `${dir}/hx-a.yaml`]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('container overlab-hx-a-b-host1, which lab hx-a needs for its node b-host1, already belongs to lab hx-a-b (its node host1)');
    expect(await containersWithLabel('overlab.lab=hx-a')).toEqual([]);
    expect((await labRow('hx-a-b'))?.status).toBe('complete');
    expect((await overlab(['down', 'hx-a-b'])).exitCode).toBe(0);
  });

  it('keeps the resolved lab in a file inside the switch, and only small values in labels', async () => {
    const up = await overlabJson<{ resolved: unknown }>(['up', await seedAs('same-host', MODEL_LAB)]);
    expect(up.exitCode).toBe(0);
    const file = await execa('docker', ['exec', 'overlab-r-same-host-switch', 'cat', '/etc/overlab/lab.json']);
    expect(JSON.parse(file.stdout)).toEqual(up.body.result.resolved);
    const labels = JSON.parse((await execa('docker', ['inspect', '-f', '{{json .Config.Labels}}', 'overlab-r-same-host-switch'])).stdout) as Record<string, string>;
    // (overlab.image.* come from the image's own labels)
    expect(Object.keys(labels).filter((k) => k.startsWith('overlab.') && !k.startsWith('overlab.image.')).sort()).toEqual(['overlab.fingerprint', 'overlab.lab', 'overlab.node', 'overlab.role', 'overlab.run', 'overlab.spec', 'overlab.underlay']);
    expect(Math.max(...Object.values(labels).map((v) => v.length))).toBeLessThan(256);
    expect((await overlab(['down', MODEL_LAB])).exitCode).toBe(0);
  });
});
