// Labs on engines reached the ways users reach theirs, on one machine, honestly: the engine rig
// (test/support/engine-rig.ts) runs three engines in network namespaces on a LAN of their own —
// e1 dockerd over tcp:// with mutual TLS, e2 dockerd over ssh:// (sshd in its namespace, key auth),
// e3 Podman through a Docker context — and overlab runs in a workstation namespace on that LAN.
// The rig is started once for this file and comes down leaving nothing (checked last).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineNetworkState, ROOT } from './harness.js';
import { containersOn, engineEnv, overlabOnRig, rigLeftovers, startRig, stopRig, type Rig } from '../support/engine-rig.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';

const RIG = `olrig${process.pid % 1000}`;
const LABS = ['same-host', 'egress', 'no-overlay', 'host-gw', 'flannel-udp', 'flannel-vxlan', 'vxlan-static', 'k8s-cni0', 'vxlan-tenants'];

let rig: Rig;
let specs: string;
let machineBefore: Awaited<ReturnType<typeof machineNetworkState>>;

/** labs/<seed>.yaml renamed, in this file's own directory. */
async function specAs(seed: string, name: string): Promise<string> {
  const text = (await readFile(`${ROOT}labs/${seed}.yaml`, 'utf8')).replace(/^name: .*$/m, `name: ${name}`);
  const file = join(specs, `${name}.yaml`);
  await writeFile(file, text);
  return file;
}

beforeAll(async () => {
  machineBefore = await machineNetworkState();
  rig = await startRig(RIG);
  specs = await mkdtemp(join(tmpdir(), 'overlab-engines-'));
}, 180_000);

afterAll(async () => {
  await stopRig(RIG);
}, 120_000);

describe('one engine, reached over TLS, ssh or a context', () => {
  it('doctor names the engine, its kind and version, and where it is', async () => {
    const [tls, ssh, context] = rig.engines;
    const answers = await Promise.all(
      [tls, ssh, context].map(async (engine) => {
        const r = await overlabOnRig(rig, ['ls', '--json'], engineEnv(rig, engine));
        expect(r.exitCode, r.stderr).toBe(0);
        return r;
      }),
    );
    expect(answers).toHaveLength(3);
    const doctor = await overlabOnRig(rig, ['doctor', '--json'], engineEnv(rig, context));
    const findings = (JSON.parse(doctor.stdout) as { result: { check: string; ok: boolean; detail: string }[] }).result;
    expect(findings.find((f) => f.check === 'Docker engine')?.detail).toMatch(new RegExp(`^Podman 4\\.\\d+\\.\\d+ at ${context.socket} \\(API 1\\.4\\d\\)`));
    expect(findings.filter((f) => !f.ok && !('optional' in f && f.optional)).map((f) => `${f.check}: ${f.detail}`)).toEqual([]);
    const overTls = await overlabOnRig(rig, ['doctor', '--json'], engineEnv(rig, tls));
    const tlsEngine = (JSON.parse(overTls.stdout) as { result: { check: string; detail: string }[] }).result.find((f) => f.check === 'Docker engine');
    expect(tlsEngine?.detail).toMatch(new RegExp(`^Docker \\S+ at tcp://${tls.address.replace(/\./g, '\\.')}:2376 \\(API 1\\.4\\d\\)`));
  });

  it('a lab comes up, verifies and goes away over TLS, and over ssh', async () => {
    const [tls, ssh] = rig.engines;
    await Promise.all(
      [
        { engine: tls, seed: 'same-host', name: 'eng-tls' },
        { engine: ssh, seed: 'flannel-vxlan', name: 'eng-ssh' },
      ].map(async ({ engine, seed, name }) => {
        const env = engineEnv(rig, engine);
        const up = await overlabOnRig(rig, ['up', await specAs(seed, name)], env);
        expect(up.exitCode, up.stderr).toBe(0);
        expect(await containersOn(engine, `overlab.lab=${name}`)).toContain(`overlab-${name}-switch`);
        const verify = await overlabOnRig(rig, ['verify', name, '--json'], env);
        const report = (JSON.parse(verify.stdout) as { result: VerifyReport }).result;
        expect(report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.reason}`)).toEqual([]);
        expect((await overlabOnRig(rig, ['down', name], env)).exitCode).toBe(0);
        expect(await containersOn(engine, `overlab.lab=${name}`)).toEqual([]);
      }),
    );
  });

  it('the nine labs verify on Podman (`podman system service`, reached through a context)', async () => {
    const [, , podman] = rig.engines;
    const files = await Promise.all(LABS.map((seed) => specAs(seed, `engp-${seed}`)));
    const r = await overlabOnRig(rig, ['run', '--parallel', '3', ...files], engineEnv(rig, podman));
    for (const seed of LABS) expect(r.stdout, r.stderr).toMatch(new RegExp(`engp-${seed}: (\\d+)/\\1 checks passed`));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await containersOn(podman, 'overlab.lab')).toEqual([]);
  }, 240_000);
});

describe('the rig itself', () => {
  it('comes down leaving nothing: no namespace, process, mount or directory, and the machine\'s own network untouched', async () => {
    expect(await stopRig(RIG)).toEqual([]);
    expect(await rigLeftovers(RIG)).toEqual([]);
    expect(await machineNetworkState()).toEqual(machineBefore);
  }, 120_000);
});
