// verify on a lab whose parts are gone (issue: after the etcd node was removed, verify gave raw
// 404 text and two capture checks said "not seen" while the ping passed). Every check that needs
// the missing part now reports status "error" with the reason; the rest still run.
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containersWithLabel, overlab, overlabJson } from './harness.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';

const LAB = 'spec-gone';
const dir = mkdtempSync(join(tmpdir(), 'overlab-gone-'));

afterAll(async () => {
  await overlab(['down', LAB]);
  rmSync(dir, { recursive: true, force: true });
});

describe('verify when part of the lab is gone', () => {
  it('etcd removed, then host2 removed: the checks that need them are errors with the reason', async () => {
    const spec = join(dir, 'gone.yaml');
    writeFileSync(
      spec,
      `name: ${LAB}
network: { cidr: 10.244.0.0/16, backend: vxlan, controlPlane: etcd }
hosts:
  - { name: host1, pods: [pod1] }
  - { name: host2, pods: [pod1] }
checks:
  - name: ping
    ping: { from: host1/pod1, to: host2/pod1 }
  - name: vtep macs on the wire
    capture:
      on: host1:eth0
      during: { ping: { from: host1/pod1, to: host2/pod1, count: 1 } }
      expect: [{ proto: vxlan, inner: { srcMac: host1:flannel.1, dstMac: host2:flannel.1 } }]
  - name: lease
    lease: { host: host2 }
  - name: kernel
    kernel: { on: host1, peer: host2 }
  - name: isolated
    ping: { from: host1/pod1, to: host2/pod1, expect: unreachable }
`,
    );
    expect((await overlab(['up', spec])).exitCode).toBe(0);
    await execa('docker', ['rm', '-f', `overlab-${LAB}-etcd`]);

    const first = await overlabJson<VerifyReport>(['verify', LAB]);
    expect(first.exitCode).toBe(1);
    const byName = Object.fromEntries(first.body.result.checks.map((c) => [c.name, c]));
    expect(byName.ping?.status).toBe('pass'); // the data path does not need etcd once programmed
    expect(byName['vtep macs on the wire']).toMatchObject({
      status: 'error',
      reason: `host1:flannel.1: the VTEP MAC is published only in host1's etcd lease, and etcd (container overlab-${LAB}-etcd) is gone from the lab`,
    });
    expect(byName.lease).toMatchObject({ status: 'error', reason: `etcd (container overlab-${LAB}-etcd) is gone from the lab` });
    expect(byName.kernel).toMatchObject({ status: 'error', reason: `etcd (container overlab-${LAB}-etcd) is gone from the lab` });

    // An "unreachable" ping whose target is gone must not pass.
    await execa('docker', ['rm', '-f', `overlab-${LAB}-host2`]);
    const second = await overlabJson<VerifyReport>(['verify', LAB, '--check', 'isolated']);
    expect(second.exitCode).toBe(1);
    // The lab's model (in its switch) still has host2; its container is what is gone.
    expect(second.body.result.checks[0]).toMatchObject({
      status: 'error',
      reason: `host2 (container overlab-${LAB}-host2) is gone from the lab`,
    });

    expect((await overlab(['down', LAB])).exitCode).toBe(0);
    expect(await containersWithLabel(`overlab.lab=${LAB}`)).toEqual([]);
  });
});
