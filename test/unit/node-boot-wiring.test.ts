// A node's wiring at its first boot (src/plan/node-boot-wiring.ts): the prelude run by bash with
// the step runner, its paths moved under a directory of the test's own.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BOOT_WIRED_LINE, BOOT_WIRED_MARK, bootWiringInput, bootWiringOutcome, NODE_WIRING_PRELUDE, WIRING_WAIT_ARGV, wiringBootCommand } from '../../src/plan/node-boot-wiring.js';
import { bootWiring } from '../../src/deploy/run-steps.js';
import { engineError } from '../../src/runtime/engine-errors.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { encodeSteps, failedCommand, toRunnerSteps } from '../../src/plan/step-runner.js';
import { NETNS_SHARE } from '../../src/plan/node-plans.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { twoHostSpec } from './lab-fixture.js';

/** The prelude's first-boot wiring with `commands`, twice (a boot, then a restart). */
function boot(root: string, commands: string[][]) {
  const prelude = NODE_WIRING_PRELUDE.replaceAll(NETNS_SHARE, `${root}/netns-share`).replaceAll('/etc/overlab', `${root}/etc`).replaceAll('/run/overlab', `${root}/run`);
  writeFileSync(`${root}/netns-share`, '#!/bin/bash\nexit 2\n');
  chmodSync(`${root}/netns-share`, 0o755);
  const argv = wiringBootCommand(toRunnerSteps(commands));
  return () => spawnSync('bash', ['--noprofile', '--norc', '-c', prelude, ...argv.slice(5)], { encoding: 'utf8' });
}

describe('a node wired at its first boot', () => {
  it('carries its plan as the step runner reads it, and only a wiring boot does', () => {
    const steps = toRunnerSteps([['ip', 'link', 'set', 'dev', 'lo', 'up'], ['iptables', '-t', 'nat', '-L']]);
    expect(bootWiringInput(wiringBootCommand(steps))).toBe(encodeSteps(steps));
    const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
    const specs = containerSpecs(lab);
    expect(specs.filter((s) => bootWiringInput(s.command) !== undefined).map((s) => s.name)).toEqual(specs.filter((s) => s.name !== lab.underlay.switchContainer).map((s) => s.name));
  });

  it('runs its plan once, says so on its output, and a restart leaves the wiring to repair', () => {
    const root = mkdtempSync('/tmp/overlab-boot-wiring-');
    const again = boot(root, [['touch', `${root}/wired-1`], ['bash', '-c', `echo x >>${root}/count`]]);
    const first = again();
    expect(first.status).toBe(0);
    expect(first.stderr).toBe(`${BOOT_WIRED_LINE}\n`);
    expect(bootWiringOutcome(first.stderr)).toEqual({ exitCode: 0, stderr: '' });
    expect(existsSync(`${root}/wired-1`)).toBe(true);
    expect(existsSync(`${root}/etc/${BOOT_WIRED_MARK.split('/').pop()}`)).toBe(true);
    const second = again();
    expect(second.stderr).toBe('');
    expect(readFileSync(`${root}/count`, 'utf8')).toBe('x\n');
  });

  it('a failed plan: the runner\'s marks and errors, then the status, which name the failed command', () => {
    const root = mkdtempSync('/tmp/overlab-boot-wiring-');
    const commands = [['true'], ['bash', '-c', 'echo "RTNETLINK answers: File exists" >&2; exit 2'], ['touch', `${root}/never`]];
    const r = boot(root, commands)();
    const outcome = bootWiringOutcome(r.stderr)!;
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toContain('RTNETLINK answers: File exists');
    expect(failedCommand(toRunnerSteps(commands), outcome.stderr)).toEqual(commands[1]);
    expect(existsSync(`${root}/never`)).toBe(false);
    // What an engine whose logs cannot be read is asked instead: the same status and errors.
    const wait = spawnSync(WIRING_WAIT_ARGV[0]!, WIRING_WAIT_ARGV.slice(1).map((a) => a.replaceAll('/run/overlab', `${root}/run`)), { encoding: 'utf8' });
    expect(wait.status).toBe(2);
    expect(failedCommand(toRunnerSteps(commands), wait.stderr)).toEqual(commands[1]);
  });

  it('an engine whose log cannot be read: up waits in the node for the outcome instead', async () => {
    const runtime = new (class extends FakeRuntime {
      override followOutput(): Promise<boolean> {
        return Promise.reject(engineError('bad-request', { engine: 'fake', operation: 'read the output of', status: 501 }));
      }
    })().onExec(({ command }) => (command.join(' ') === WIRING_WAIT_ARGV.join(' ') ? { exitCode: 2, stderr: '@@overlab-step 1\nRTNETLINK answers: File exists\n' } : undefined));
    runtime.addContainer('overlab-x-host1', {});
    const plan = { node: 'host1', container: 'overlab-x-host1', steps: toRunnerSteps([['true'], ['ip', 'link', 'add', 'name', 'br0', 'type', 'bridge']]) };
    await expect(bootWiring(runtime, plan, new AbortController().signal)).rejects.toThrow('wiring host1 failed at `ip link add name br0 type bridge`: RTNETLINK answers: File exists');
  });

  it('an output that has not said how it went yet has no outcome', () => {
    expect(bootWiringOutcome('')).toBeUndefined();
    expect(bootWiringOutcome('@@overlab-step 0\n')).toBeUndefined();
    expect(bootWiringOutcome(BOOT_WIRED_LINE)).toBeUndefined(); // not a whole line yet
  });
});
