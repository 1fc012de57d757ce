// A bad exercise is reported like a bad lab spec: every problem at its file, line and column, in
// the lab's own words for the lab, checks and faults inside it.
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { findExercise, loadExercise, loadExercises } from '../../src/workshop/exercise-load.js';
import { SpecError, formatIssue } from '../../src/lab-spec/spec-error.js';
import { fillPlaceholders, placeholdersIn } from '../../src/workshop/placeholders.js';
import { progressFile, statusOf, entryOf, type Progress } from '../../src/workshop/progress.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { LabReferences } from '../../src/lab/lab-references.js';

const LABS = fileURLToPath(new URL('../../labs/', import.meta.url));

const GOOD = `id: 3
title: t
level: beginner
lab: ${LABS}same-host.yaml
faults:
  - link-down: { on: host1:veth-pod2 }
task: fix it
checks:
  - name: p
    ping: { from: host1/pod1, to: host1/pod2 }
hints: [one, two]
solution:
  - overlab exec <lab> host1 -- ip link set veth-pod2 up
  - on: host1
    run: [ip, route, add, "<subnet:host1>", via, "<ip:host1>"]
`;

async function issuesOf(text: string): Promise<string[]> {
  const dir = await mkdtemp('/tmp/overlab-ex-');
  const file = `${dir}/ex.yaml`;
  await writeFile(file, text);
  try {
    await loadExercise(file, dir);
    return [];
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return error.issues.map((i) => formatIssue({ ...i, file: 'ex.yaml' }));
  }
}

describe('loading an exercise', () => {
  it('builds the lab ex<id>: the exercise\'s checks, its faults marked as the exercise\'s, argv solution steps', async () => {
    const dir = await mkdtemp('/tmp/overlab-ex-');
    await writeFile(`${dir}/ex.yaml`, GOOD);
    const e = await loadExercise(`${dir}/ex.yaml`, 'mine');
    expect(e.lab.name).toBe('ex3');
    expect(e.lab.checks.map((c) => c.name)).toEqual(['p']);
    expect(e.lab.faults).toEqual([expect.objectContaining({ kind: 'link-down', source: 'exercise', 'link-down': { on: 'host1:veth-pod2' } })]);
    expect(e.solution).toEqual([
      { on: 'host1', argv: ['ip', 'link', 'set', 'veth-pod2', 'up'] },
      { on: 'host1', argv: ['ip', 'route', 'add', '<subnet:host1>', 'via', '<ip:host1>'] },
    ]);
  });

  it('reports every problem at its place', async () => {
    const bad = GOOD.replace('level: beginner', 'level: expert')
      .replace('hints: [one, two]', 'hints:\n  - look: here\n  - two\ncolour: red')
      .replace('  - link-down: { on: host1:veth-pod2 }', '  - link-down: { on: host9:eth0 }')
      .replace('    ping: { from: host1/pod1, to: host1/pod2 }', '    ping: { from: host1/pod7, to: host1/pod2 }')
      .replace('  - on: host1\n    run: [ip, route', '  - on: host1\n    run: [sh, -c, "ip route"]\n  - on: host1\n    run: [ip, route')
      .replace('"<ip:host1>"', '"<ip:host5>"');
    expect(await issuesOf(bad)).toEqual([
      'ex.yaml:3:8 level: must be one of "beginner", "intermediate", "advanced".',
      'ex.yaml:6:22 faults[0].link-down.on: unknown host or node "host9" in "host9:eth0". Did you mean "host1"?',
      'ex.yaml:10:19 checks[0].ping.from: host1 has no pod "pod7". Did you mean "host1/pod1"?',
      'ex.yaml:12:5 hints[0]: must be text. YAML read it as a mapping: an unquoted line with ": " in it is a key and a value. Put the text in quotes (or use a | block).',
      'ex.yaml:14:1 colour: unknown key "colour". Allowed here: id, title, level, story, lab, faults, task, commands, checks, hints, solution, explanation.',
      'ex.yaml:17:5 solution[1]: a solution runs commands, not a shell or a wrapper ("sh"). Write the command itself as an argv list, e.g. [ip, route, add, <subnet:host2>, via, <ip:host2>].',
      'ex.yaml:19:5 solution[2]: unknown host or node "host5". Did you mean "host1"?',
    ]);
  });

  it('a lab file that is not there, and an inline lab with its own mistakes', async () => {
    expect(await issuesOf(GOOD.replace(`lab: ${LABS}same-host.yaml`, 'lab: ../nowhere.yaml'))).toEqual([
      expect.stringMatching(/^ex\.yaml:4:6 lab: the lab spec \/tmp\/nowhere\.yaml does not exist\. The path is relative to the exercise file\.$/),
    ]);
    const inline = GOOD.replace(`lab: ${LABS}same-host.yaml`, 'lab:\n  network: { backend: vxlan, vni: 7, controlPlane: static }\n  hosts:\n    - { name: host1, pods: [pod1, pod2], colour: blue }');
    expect(await issuesOf(inline)).toEqual(['ex.yaml:7:42 lab.hosts[0].colour: unknown key "colour". Allowed here: name, subnet, subnets, underlayIp, pods, podAttach, engine, segment.']);
  });

  it('a directory: ids are unique; an exercise is found by id or file name', async () => {
    const dir = await mkdtemp('/tmp/overlab-exdir-');
    await mkdir(`${dir}/x`);
    await writeFile(`${dir}/a.yaml`, GOOD);
    await writeFile(`${dir}/b.yaml`, GOOD);
    await expect(loadExercises(dir)).rejects.toThrow(/id 3 is taken by .*a\.yaml too/);
    await writeFile(`${dir}/b.yaml`, GOOD.replace('id: 3', 'id: 4'));
    const all = await loadExercises(dir);
    expect(findExercise(all, '4').file).toBe(`${dir}/b.yaml`);
    expect(findExercise(all, 'a').id).toBe(3);
    expect(() => findExercise(all, '9')).toThrow(/no exercise "9"/);
  });
});

describe('placeholders', () => {
  it('are filled from the lab\'s model, one argv word each', async () => {
    const dir = await mkdtemp('/tmp/overlab-ex-');
    await writeFile(`${dir}/ex.yaml`, GOOD);
    const e = await loadExercise(`${dir}/ex.yaml`, 'mine');
    const lab = resolveLab(e.lab, { takenSubnets: [] });
    const names = new LabReferences(lab);
    expect(placeholdersIn('<ip:host1>/<subnet:host1>')).toEqual([{ kind: 'ip', ref: 'host1' }, { kind: 'subnet', ref: 'host1' }]);
    expect(fillPlaceholders('<subnet:host1>', lab, names)).toBe('172.16.1.0/24');
    expect(fillPlaceholders('<gateway:host1>', lab, names)).toBe('172.16.1.1');
    expect(fillPlaceholders('<ip:host1/pod2>', lab, names)).toBe('172.16.1.3');
    expect(fillPlaceholders('<lab>', lab, names)).toBe('ex3');
    expect(fillPlaceholders('plain; $(not a shell)', lab, names)).toBe('plain; $(not a shell)');
    expect(() => fillPlaceholders('<subnet:host7>', lab, names)).toThrow(/not a host/);
  });
});

describe('progress', () => {
  it('lives under XDG_STATE_HOME, else ~/.local/state', () => {
    expect(progressFile({ XDG_STATE_HOME: '/x/state', HOME: '/home/a' })).toBe('/x/state/overlab/workshop.json');
    expect(progressFile({ HOME: '/home/a' })).toBe('/home/a/.local/state/overlab/workshop.json');
    expect(progressFile({ XDG_STATE_HOME: 'relative', HOME: '/home/a' })).toBe('/home/a/.local/state/overlab/workshop.json');
  });

  it('says new, started, active, solved', () => {
    const p: Progress = { version: 1, student: { user: 'a', host: 'h' }, exercises: [] };
    const ex = { collection: 'builtin', id: 2, title: 't', level: 'beginner', hints: ['a', 'b'] };
    expect(statusOf(p, 'builtin', 2)).toBe('new');
    entryOf(p, ex, '2026-01-01T00:00:00Z');
    expect(statusOf(p, 'builtin', 2)).toBe('started');
    p.active = { collection: 'builtin', dir: '/w', id: 2, lab: 'ex2', run: 'r', startedAt: '' };
    expect(statusOf(p, 'builtin', 2)).toBe('active');
    p.exercises[0]!.solvedAt = '2026-01-01T00:05:00Z';
    expect(statusOf(p, 'builtin', 2)).toBe('solved');
    expect(statusOf(p, 'other', 2)).toBe('new');
  });
});
