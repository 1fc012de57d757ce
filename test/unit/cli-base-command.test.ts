// The CLI contract every command inherits: --json only before `--`, the envelope, exit codes,
// internal errors reported as bugs (stack only on request), control characters escaped.
import { Config } from '@oclif/core';
import { Args } from '@oclif/core';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BaseCommand } from '../../src/cli/base-command.js';
import { environmentError, inputError } from '../../src/base/errors.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let config: Config;

beforeAll(async () => {
  config = await Config.load(ROOT);
});

let behaviour: (command: Probe) => unknown = () => ({ ok: true });

class Probe extends BaseCommand<unknown> {
  static override strict = false;
  static override args = { rest: Args.string({ required: false }) };
  protected async execute() {
    await this.parse(Probe);
    return behaviour(this);
  }
  /** Where the command's engine is (not asked: the address it would talk to). */
  get engineEndpoint(): string {
    return this.runtime.endpoint;
  }
  askEngine(): Promise<unknown> {
    return this.runtime.info();
  }
  protected renderHuman(result: unknown) {
    return typeof result === 'string' ? `human: ${result}` : `human: ${JSON.stringify(result)}`;
  }
}

async function runProbe(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  process.exitCode = undefined;
  try {
    await Probe.run(argv, config);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.env = saved;
  }
  const code = process.exitCode;
  process.exitCode = undefined;
  return { code: code ?? 0, stdout: out.join(''), stderr: err.join('') };
}

afterEach(() => {
  behaviour = () => ({ ok: true });
});

describe('the base command', () => {
  it('prints the envelope with --json', async () => {
    const r = await runProbe(['--json']);
    expect(JSON.parse(r.stdout)).toEqual({ status: 0, result: { ok: true } });
  });

  it('takes a --json after `--` for an argument, not for the flag', async () => {
    const r = await runProbe(['--', 'echo', '--json']);
    expect(r.stdout).toBe('human: {"ok":true}\n');
  });

  it('maps bad input to 2 and an environment problem to 3, with the hint', async () => {
    behaviour = () => {
      throw inputError('bad thing', 'do the good thing');
    };
    const bad = await runProbe([]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Error: bad thing');
    expect(bad.stderr).toContain('Try: do the good thing');
    behaviour = () => {
      throw environmentError('no engine', 'start it');
    };
    const env = await runProbe(['--json']);
    expect(env.code).toBe(3);
    expect(JSON.parse(env.stdout)).toMatchObject({ status: 3, message: 'no engine', hint: 'start it' });
  });

  it('reports a TypeError as an internal error: exit 70, "this is a bug", stack only on request', async () => {
    behaviour = () => (undefined as unknown as { x: { y: number } }).x.y;
    const plain = await runProbe([]);
    expect(plain.code).toBe(70);
    expect(plain.stderr).toMatch(/Internal error: .*undefined/);
    expect(plain.stderr).toMatch(/This is a bug/);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await runProbe(['--debug']);
    expect(debug.stderr).toMatch(/\n\s+at /);
    const viaEnv = await runProbe(['--json'], { DEBUG: 'overlab*' });
    const body = JSON.parse(viaEnv.stdout);
    expect(body).toMatchObject({ status: 70, name: 'InternalError' });
    expect(body.hint).toMatch(/bug/);
    expect(body.stack).toMatch(/at /);
  });

  it('escapes control characters a result smuggles into human output', async () => {
    behaviour = () => 'check\u001b]0;owned\u0007';
    const r = await runProbe([]);
    expect(r.stdout).not.toContain('\u001b]');
    expect(r.stdout).toContain('\\x1b]0;owned\\x07');
  });

  it('an unknown flag is bad input', async () => {
    const r = await runProbe(['--no-such-flag']);
    expect(r.code).toBe(2);
  });

  it('--context NAME picks the engine, before DOCKER_HOST and DOCKER_CONTEXT (as the docker CLI)', async () => {
    const config = mkdtempSync(join(tmpdir(), 'overlab-context-'));
    const meta = join(config, 'contexts', 'meta', createHash('sha256').update('far').digest('hex'));
    mkdirSync(meta, { recursive: true });
    writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: 'far', Endpoints: { docker: { Host: 'unix:///run/far/docker.sock' } } }));
    behaviour = (command) => command.engineEndpoint;
    const env = { DOCKER_CONFIG: config, DOCKER_HOST: 'unix:///run/near.sock', DOCKER_CONTEXT: 'default' };
    expect((await runProbe(['--context', 'far', '--json'], env)).stdout).toContain('"result": "/run/far/docker.sock"');
    expect((await runProbe(['--json'], env)).stdout).toContain('"result": "/run/near.sock"');
    behaviour = (command) => command.askEngine();
    const missing = await runProbe(['--context', 'nowhere'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nowhere');
    rmSync(config, { recursive: true, force: true });
  });
});
