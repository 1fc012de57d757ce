import { describe, expect, it } from 'vitest';
import { runPlan } from '../../src/deploy/run-steps.js';
import { command, comment } from '../../src/plan/node-plan.js';
import { RUNNER_ARGV } from '../../src/plan/step-runner.js';
import { OverlabError } from '../../src/base/errors.js';
import { FakeRuntime } from '../support/fake-runtime.js';

const plan = {
  node: 'host1',
  container: 'overlab-demo-host1',
  lines: [
    comment('underlay'),
    command('ip', 'link', 'set', 'dev', 'lo', 'up'),
    command('ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0'),
    command('iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.1.0.0/16', '!', '-d', '10.1.0.0/16', '-j', 'MASQUERADE'),
  ],
};

/** The engine with the one running container the plan is for. */
function withHost(): FakeRuntime {
  const runtime = new FakeRuntime();
  runtime.addContainer(plan.container, {});
  return runtime;
}

describe('runPlan', () => {
  it('runs the whole plan with one exec of the constant runner, the commands on its stdin', async () => {
    const runtime = withHost();
    await runPlan(runtime, plan);
    expect(runtime.calls.map((c) => c.method)).toEqual(['exec']);
    const [container, argv, stdin] = runtime.calls[0]!.args as [string, string[], string];
    expect(container).toBe('overlab-demo-host1');
    expect(argv).toEqual([...RUNNER_ARGV]);
    expect(stdin.split('\0')).toContain('link set dev lo up\naddr add 10.0.0.1/24 dev eth0\n');
  });

  it('names the failed command as a student would type it, inside a batch too', async () => {
    let answer = { stdout: '', stderr: '@@overlab-step 0\nError: any valid prefix is expected rather than "x".\nCommand failed -:2\n', exitCode: 1 };
    const runtime = withHost().onExec(() => answer);
    const error = await runPlan(runtime, plan).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverlabError);
    expect((error as OverlabError).kind).toBe('environment');
    expect((error as Error).message).toBe('wiring host1 failed at `ip addr add 10.0.0.1/24 dev eth0`: Error: any valid prefix is expected rather than "x".');

    answer = { stdout: '', stderr: '@@overlab-step 0\n@@overlab-step 1\niptables: No chain/target/match by that name.\n', exitCode: 1 };
    await expect(runPlan(runtime, plan)).rejects.toThrow("wiring host1 failed at `iptables -t nat -A POSTROUTING -s 10.1.0.0/16 '!' -d 10.1.0.0/16 -j MASQUERADE`: iptables: No chain");
  });
});
