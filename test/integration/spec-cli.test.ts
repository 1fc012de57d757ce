// `overlab validate` on odd and hostile spec files, as a user runs it (the built CLI, no engine
// needed): exit 2 naming the file, fast, and a large spec never makes the CLI deaf to signals.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, overlab } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'overlab-spec-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A ~1 MiB spec that parses slowly (thousands of flow collections) and then fails on one key. */
function bigSpec(): string {
  const lines = ['name: big', 'hosts: [{name: h1}]', 'junk:'];
  let size = 40;
  for (let i = 0; size < 1_000_000; i++) {
    const line = `  - {a: ${i}, b: "xxxxxxxxxxxxxxxx", c: [1, 2, 3]}`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

function runUntilSignal(
  file: string,
  signal: NodeJS.Signals,
  afterMs: number,
): Promise<{ code: number | null; killedBy: NodeJS.Signals | null; stderr: string; msAfterSignal: number }> {
  return new Promise((resolve) => {
    const child = spawn('node', [CLI, 'validate', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let sentAt = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Signal once the CLI is past start-up (it has opened the file), so the parse is what runs.
    const timer = setTimeout(() => {
      sentAt = Date.now();
      child.kill(signal);
    }, afterMs);
    child.on('exit', (code, killedBy) => {
      clearTimeout(timer);
      resolve({ code, killedBy, stderr, msAfterSignal: sentAt ? Date.now() - sentAt : -1 });
    });
  });
}

describe('overlab validate on odd files', () => {
  it('refuses a FIFO at once with exit 2 naming the file', async () => {
    const fifo = join(dir, 'lab.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = await overlab(['validate', fifo]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${fifo}: is a FIFO (named pipe); a spec must be a regular file.`);
  });

  it('refuses a 10 MB spec with exit 2 without parsing it', async () => {
    const file = join(dir, 'ten.yaml');
    writeFileSync(file, `name: x\ndescription: "${'a'.repeat(10_000_000)}"\nhosts: [{name: h}]\n`);
    const r = await overlab(['validate', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${file}: is 9.5 MiB; a spec file is at most 1.0 MiB.`);
  });

  it('a hostile spec: exit 2, every problem with file:line:col, in one run', async () => {
    const file = join(dir, 'hostile.yaml');
    writeFileSync(
      file,
      'name: hostile\nimage: "overlab/host:latest --privileged"\nnetwork: {bridge: "b$(id>&2)"}\nhosts: [{name: host1, pods: [pod1]}, {name: switch}]\nchecks:\n  - name: c\n    capture: {on: "host1:e$(id)", during: {ping: {from: host1/pod1, to: host1}}, expect: [{proto: icmp}]}\n',
    );
    const r = await overlab(['validate', file]);
    expect(r.exitCode).toBe(2);
    for (const where of [':2:8 image:', ':3:19 network.bridge:', ':4:45 hosts[1].name:', ':7:19 checks[0].capture.on:']) expect(r.stderr, r.stderr).toContain(`${file}${where}`);
    expect(r.stderr).not.toContain('uid=');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('a 1 MiB spec being parsed still ends within a second of %s', async (signal) => {
    const file = join(dir, `big-${signal}.yaml`);
    writeFileSync(file, bigSpec());
    const r = await runUntilSignal(file, signal, 1_500);
    if (r.msAfterSignal < 0) {
      // The parse finished before the signal was due: the machine was fast; the refusal must be right.
      expect(r.code).toBe(2);
      return;
    }
    // Handled (130 for SIGINT, 143 for SIGTERM), or — when it lands before Node runs any of
    // overlab's code — the default action.
    const handled = signal === 'SIGINT' ? 130 : 143;
    expect(r.code === handled || r.killedBy === signal, `exit ${r.code} ${r.killedBy}: ${r.stderr}`).toBe(true);
    expect(r.msAfterSignal).toBeLessThan(1_000);
  });
});

describe('DEBUG=overlab* shows what overlab goes on without', () => {
  // `up --dry-run` works without an engine: it leaves the subnets in use out. Asked, it says why.
  const noEngine = { DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` };

  it('says why the subnets in use could not be listed, naming the scope, only under DEBUG', async () => {
    const spec = join(ROOT, 'labs/host-gw.yaml');
    const quiet = await overlab(['up', spec, '--dry-run'], noEngine);
    const asked = await overlab(['up', spec, '--dry-run'], { ...noEngine, DEBUG: 'overlab*' });
    expect(quiet.exitCode).toBe(0);
    expect(asked.exitCode).toBe(0);
    expect(asked.stdout).toBe(quiet.stdout);
    expect(quiet.stderr).not.toContain('overlab:');
    expect(asked.stderr).toContain(`overlab:cli list the subnets in use (a dry run works without an engine): no Docker engine answers at ${join(dir, 'no-engine.sock')}`);
  });
});

describe('what the CLI loads to start', () => {
  it('oclif without its check of Node against its own engines (semver), and the switch that skips it left out of the environment', async () => {
    const hook = join(dir, 'loads.cjs');
    writeFileSync(
      hook,
      [
        "const Module = require('node:module');",
        'const load = Module._load;',
        'let semver = false;',
        "Module._load = function (request, ...rest) { if (request === 'semver') semver = true; return load.call(this, request, ...rest); };",
        "process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify({ semver, switch: process.env.OCLIF_DISABLE_ENGINE_WARNING ?? null }) + '\\n'));",
      ].join('\n'),
    );
    const r = await overlab(['labs'], { NODE_OPTIONS: `--require ${hook}` });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('flannel-vxlan');
    expect(JSON.parse(/^LOADED (.*)$/m.exec(r.stderr)?.[1] ?? 'null')).toEqual({ semver: false, switch: null });
  });
});
