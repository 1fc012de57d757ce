// Odd but valid names build a working lab; hostile flag values are refused with exit 2 and
// leave nothing behind — and a canary file that any of them would create never appears, in
// any container or on this machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { containersWithLabel, overlab } from './harness.js';

let dir: string;
const LAB = 'odd-names-1';
const CANARY = `/tmp/overlab-canary-${process.pid}`;

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-hostile-');
  await overlab(['down', LAB]);
});

afterAll(async () => {
  await overlab(['down', LAB]);
  await rm(dir, { recursive: true, force: true });
});

async function canaryAnywhere(): Promise<string[]> {
  const found = existsSync(CANARY) ? ['the machine'] : [];
  for (const container of await containersWithLabel('overlab.lab')) {
    if ((await execa('docker', ['exec', container, 'test', '-e', CANARY], { reject: false })).exitCode === 0) found.push(container);
  }
  return found;
}

describe('names', () => {
  it('a lab whose names use every odd-but-valid character works end to end', async () => {
    const spec = `${dir}/odd.yaml`;
    await writeFile(
      spec,
      [
        `name: ${LAB}`,
        'network: { cidr: 10.77.0.0/16, bridge: Br_0.x-y, backend: host-gw }',
        'hosts:',
        '  - name: h-1',
        '    pods: [p-1, a-very-long-pod]', // 15 characters: its host-side veth gets a hashed name
        '  - name: host-with-15-ch', // 15 characters: its switch port too
        '    pods: [x]',
        'checks:',
        '  - name: across hosts',
        '    ping: { from: h-1/a-very-long-pod, to: host-with-15-ch/x }',
        '  - name: on the odd bridge',
        '    capture:',
        '      on: h-1:Br_0.x-y',
        '      during: { ping: { from: h-1/p-1, to: host-with-15-ch/x, count: 2 } }',
        '      expect: [{ proto: icmp, src: h-1/p-1, dst: host-with-15-ch/x }]',
      ].join('\n') + '\n',
    );
    const up = await overlab(['up', spec]);
    expect(up.exitCode, up.stderr).toBe(0);
    const verify = await overlab(['verify', LAB]);
    expect(verify.exitCode, verify.stdout).toBe(0);
    const exec = await overlab(['exec', LAB, 'h-1/a-very-long-pod', '--', 'ip', '-br', 'addr', 'show', 'eth0']);
    expect(exec.stdout).toMatch(/eth0@\S+\s+UP\s+10\.77\.1\.3\/24/);
  });

  it('hostile flag values exit 2 naming the field, and create and run nothing', async () => {
    const before = await containersWithLabel(`overlab.lab=${LAB}`);
    expect(before.length).toBe(3);
    const touch = `touch\${IFS}${CANARY}`;
    const cases: { args: string[]; message: RegExp }[] = [
      { args: ['node', 'add', LAB, 'h-3', '--pods', `p$(${touch})`], message: /--pods: "p\$\(touch/ },
      { args: ['node', 'add', LAB, 'h-3', '--pods', `p1,p;touch ${CANARY}`], message: /--pods: / },
      { args: ['node', 'add', LAB, 'h-3', '--pods', `\`touch ${CANARY}\``], message: /--pods: / },
      { args: ['node', 'add', LAB, 'h-3', '--pods', `p1\ntouch ${CANARY}`], message: /--pods: / },
      { args: ['node', 'add', LAB, 'h-3', '--pods', `p1'`], message: /--pods: / },
      { args: ['node', 'add', LAB, 'h-3', '--pods', 'ｐod1'], message: /--pods: .*only ASCII/ },
      { args: ['node', 'add', LAB, `h$(${touch})`], message: /host: / },
      { args: ['node', 'add', LAB, '../h-3'], message: /host: / },
      { args: ['node', 'add', LAB, 'switch'], message: /is reserved: overlab names/ },
      { args: ['node', 'rm', LAB, `h-1;touch ${CANARY}`], message: /host: / },
      { args: ['exec', LAB, `h-1/p$(${touch})`, '--', 'true'], message: /target: / },
      { args: ['exec', LAB, '../../h-1', '--', 'true'], message: /target: / },
      { args: ['exec', `odd$(${touch})`, 'h-1', '--', 'true'], message: /lab: / },
    ];
    for (const { args, message } of cases) {
      const r = await overlab(args);
      expect(r.exitCode, `${JSON.stringify(args)}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // A name oclif reads as a flag is bad input as well.
    expect((await overlab(['node', 'rm', LAB, '-rf'])).exitCode).toBe(2);
    expect(await containersWithLabel(`overlab.lab=${LAB}`)).toEqual(before);
    expect(await canaryAnywhere()).toEqual([]);
  });

  it('a hostile bridge name never reaches a shell: up refuses it and creates nothing', async () => {
    const spec = `${dir}/evil.yaml`;
    await writeFile(spec, `name: evil-bridge\nnetwork: { bridge: "b$(id>&2)" }\nhosts:\n  - name: host1\n    pods: [pod1]\n`);
    const r = await overlab(['up', spec]);
    // Refused as bad input by the spec's name rules, or — should one ever let it through — by
    // the planner before the first container (exit 2 or an internal error; never success).
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).not.toMatch(/uid=\d+/);
    expect(await containersWithLabel('overlab.lab=evil-bridge')).toEqual([]);
    expect(await canaryAnywhere()).toEqual([]);
  });
});
