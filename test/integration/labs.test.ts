// A lab whose checks expect what is not so: `run` exits 1 and says why in one line, JUnit
// counts the failures, and nothing is left. (Every lab in labs/ coming up, passing its checks,
// showing its wiring and going away without a trace: trace.test.ts, which builds them anyway.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersWithLabel, downLabs, overlab } from './harness.js';

beforeAll(async () => {
  await downLabs(['wrong-expectation']);
});

afterAll(async () => {
  await downLabs(['wrong-expectation']);
});

describe('a check that fails', () => {
  it('exits 1 and explains the failure in one line', async () => {
    // same-host's pods are reachable; asking for "unreachable" must fail, with the reason.
    const spec = `name: wrong-expectation
hosts:
  - name: host1
    pods: [pod1, pod2]
checks:
  - name: pods are isolated
    ping: { from: host1/pod1, to: host1/pod2, expect: unreachable }
  - name: udp appears on the bridge
    capture:
      on: host1:docker0
      during: { ping: { from: host1/pod1, to: host1/pod2, count: 1 } }
      expect: [{ proto: udp, dstPort: 8472 }]
`;
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/overlab-test-');
    await writeFile(`${dir}/wrong.yaml`, spec);
    const r = await overlab(['run', `${dir}/wrong.yaml`, '--junit', `${dir}/junit.xml`]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('✗ pods are isolated: expected 172.16.1.3 to be unreachable, but 3 replies came back');
    expect(r.stdout).toContain('✗ udp appears on the bridge: not seen on host1:docker0: udp port * > 8472');
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(`${dir}/junit.xml`, 'utf8')).toContain('failures="2"');
    expect(await containersWithLabel('overlab.lab=wrong-expectation')).toEqual([]);
  });
});
