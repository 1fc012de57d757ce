// overlab as a new user gets it: `npm pack`, installed with its dependencies into a prefix of
// its own (as `npm i -g` does; the npm cache is reused, nothing but the npm registry is asked),
// then used from a directory outside the clone — the bundled labs and exercises by name, a lab
// built, verified and removed, the host image found, and doctor's words for a machine without
// an engine.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentLogs, containersWithLabel, downLabs, ROOT } from './harness.js';

const LAB = 'cli-pk';
let dir: string;
let bin: string;
let installed: string;

const overlab = (args: string[], env: Record<string, string> = {}) =>
  execa(bin, args, { cwd: `${dir}/elsewhere`, reject: false, env: { NO_COLOR: '1', ...env } });

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-packed-');
  await execa('mkdir', ['-p', `${dir}/elsewhere`, `${dir}/prefix`]);
  const packed = await execa('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT });
  const tarball = `${dir}/${packed.stdout.trim().split('\n').at(-1)}`;
  await execa('npm', ['install', '--global', '--prefix', `${dir}/prefix`, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: dir });
  bin = `${dir}/prefix/bin/overlab`;
  installed = `${dir}/prefix/lib/node_modules/overlab`;
  await downLabs([LAB]);
}, 180_000);

afterAll(async () => {
  await downLabs([LAB]);
  await rm(dir, { recursive: true, force: true });
});

describe('installed from the packed tarball, used outside the clone', () => {
  it('answers -v and -h, and lists the bundled labs with their stories', async () => {
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { version: string };
    expect((await overlab(['-v'])).stdout).toMatch(new RegExp(`^overlab/${pkg.version.replace(/\./g, '\\.')} linux-`));
    expect((await overlab(['-h'])).stdout).toMatch(/^COMMANDS$/m);
    const labs = await overlab(['labs', '--json']);
    const listed = (JSON.parse(labs.stdout) as { result: { name: string; description: string; file: string }[] }).result;
    expect(listed.map((l) => l.name)).toContain('flannel-vxlan');
    // Every lab of the clone's labs/ ships, whatever their number.
    expect(listed.map((l) => l.name).sort()).toEqual(readdirSync(`${ROOT}labs`).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort());
    for (const l of listed) expect(l.file.startsWith(`${installed}/labs/`)).toBe(true);
    expect((await overlab(['labs'])).stdout).toMatch(/^flannel-vxlan\s+flannel VXLAN mode driven by etcd and the overlab agent$/m);
    // An installed overlab has no TypeScript sources: oclif must not look for them (nor warn) in development.
    expect((await overlab(['labs'], { NODE_ENV: 'development' })).stderr).toBe('');
  });

  it('answers a mistyped command with the closest ones: exit 2, a JSON error envelope under --json', async () => {
    const typo = await overlab(['verfy', 'x']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toMatch(/^Error: "verfy" is not an overlab command\n/);
    expect(typo.stderr).toContain('did you mean `overlab verify`?');
    const json = await overlab(['node', 'ad', '--json']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ status: 2, name: 'OverlabError', message: '"node ad" is not an overlab command', hint: 'did you mean `overlab node add`? (`overlab --help` lists every command)' });
    expect((await overlab(['help', 'up'])).stdout).toMatch(/^USAGE\n {2}\$ overlab up SPEC/m);
  });

  it('finds bundled labs and exercises by name from any directory', async () => {
    const valid = await overlab(['validate', 'flannel-vxlan']);
    expect(valid.exitCode, valid.stderr).toBe(0);
    expect(valid.stdout).toContain(`${installed}/labs/flannel-vxlan.yaml is a valid lab "flannel-vxlan"`);
    const missing = await overlab(['up', 'flannel-vxlam']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).not.toMatch(/:0:0/);
    expect(missing.stderr).toMatch(/did you mean the bundled lab flannel-vxlan/);
    const exercises = await overlab(['workshop', 'list', '--json']);
    const shipped = readdirSync(`${ROOT}workshop`).filter((f) => f.endsWith('.yaml'));
    expect(shipped.length).toBeGreaterThanOrEqual(15);
    expect((JSON.parse(exercises.stdout) as { result: { exercises: unknown[] } }).result.exercises).toHaveLength(shipped.length);
  });

  it('builds, verifies and removes a lab (agent, native helpers and all) from a spec outside the clone', async () => {
    const spec = `${dir}/elsewhere/${LAB}.yaml`;
    await writeFile(spec, (await readFile(`${installed}/labs/flannel-udp.yaml`, 'utf8')).replace(/^name: .*$/m, `name: ${LAB}`));
    // --keep: a failed check is judged with the agents' own logs, read before the lab goes.
    const run = await overlab(['run', '--keep', `${LAB}.yaml`]);
    const logs = run.exitCode === 0 ? '' : await agentLogs(LAB, ['host1', 'host2']);
    const down = await overlab(['down', LAB]);
    expect(run.exitCode, `${run.stdout}\n${run.stderr}${logs}`).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${LAB}: (\\d+)/\\1 checks passed`));
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await containersWithLabel(`overlab.lab=${LAB}`)).toEqual([]);
  });

  it('finds the host image the installed version needs', async () => {
    const image = await overlab(['image', 'build', '--if-missing', '--json']);
    expect(image.exitCode, image.stderr).toBe(0);
    expect(JSON.parse(image.stdout)).toMatchObject({ result: { status: 'present' } });
    // What `image build --method dockerfile` sends, shipped in the package.
    expect(await readFile(`${installed}/image/Dockerfile`, 'utf8')).toMatch(/^FROM /m);
  });

  it('doctor tells a machine without an engine exactly what to install and start', async () => {
    const noEngine = { DOCKER_HOST: `unix://${dir}/no-engine.sock` };
    // As on a fresh machine: no dockerd on PATH (only node's own directory and /bin).
    const bare = await overlab(['doctor'], { ...noEngine, PATH: `${dirname(process.execPath)}:/bin` });
    expect(bare.exitCode).toBe(3);
    expect(bare.stdout).toMatch(/no Docker engine answers at .*no-engine\.sock/);
    expect(bare.stdout).toContain('install the engine: apt-get install docker.io; then start it as root: dockerd --bridge=none &');
    expect(bare.stdout).not.toContain('scripts/setup.sh'); // not there for an installed overlab
    // Installed but not started: only the start.
    const present = await overlab(['doctor'], { ...noEngine, PATH: `${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin` });
    expect(present.stdout).toContain('start it as root: dockerd --bridge=none &');
    expect(present.stdout).not.toContain('apt-get install docker.io');
  });
});
