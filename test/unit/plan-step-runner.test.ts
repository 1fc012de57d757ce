// The step runner is run for real here (the same bash text that runs in every lab container),
// with hostile values: none may ever be parsed as shell code.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeSteps, failedCommand, RUNNER_ARGV, RUNNER_BROKEN, runnerErrors, toRunnerSteps, type RunnerStep } from '../../src/plan/step-runner.js';
import { OverlabError } from '../../src/base/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'overlab-runner-'));
const canary = join(dir, 'canary');

/** Values a spec, a flag or the network could carry, each trying to run `touch <canary>`. */
const HOSTILE = [
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `;touch ${canary}`,
  `a && touch ${canary}`,
  `| touch ${canary}`,
  `' ; touch ${canary} ; '`,
  `" ; touch ${canary} ; "`,
  `a\ntouch ${canary}`,
  `-c`,
  `--help`,
  `$IFS`,
  `\${PATH}`,
  `*`,
  `~`,
  `#comment`,
  `\\`,
  '',
  `ｈost1`, // full-width look-alike
  `../../etc/passwd`,
];

function run(stdin: string | Buffer) {
  const [cmd, ...args] = RUNNER_ARGV;
  return spawnSync(cmd!, args, { input: stdin, encoding: 'utf8', cwd: dir });
}

describe('the step runner (real bash)', () => {
  it('passes every hostile value to the command as one argument, byte for byte', () => {
    const steps = toRunnerSteps([['printf', '%s\\0', ...HOSTILE]]);
    const r = run(encodeSteps(steps));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
    expect(existsSync(canary)).toBe(false);
  });

  it('feeds a batch its input on stdin, unread by any shell', () => {
    const input = HOSTILE.join('\n');
    const steps: RunnerStep[] = [{ argv: ['cat'], input, commands: [['cat']] }];
    const r = run(encodeSteps(steps));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${input}\n`);
    expect(existsSync(canary)).toBe(false);
  });

  it('never runs a builtin, a function or an option of exec, whatever the program name', () => {
    for (const program of ['eval', '-c', 'exec', `touch ${canary}`, '$(true)']) {
      const r = run(encodeSteps([{ argv: [program, `touch ${canary}`], commands: [[program]] }]));
      expect(r.status).toBe(127);
    }
    expect(existsSync(canary)).toBe(false);
  });

  it('runs steps in order, stops at the first failure with its status and names it', () => {
    const steps = toRunnerSteps([['echo', 'one'], ['sh', '-c', 'exit 7'], ['echo', 'never']]);
    const r = run(encodeSteps(steps));
    expect(r.status).toBe(7);
    expect(r.stdout).toBe('one\n');
    expect(failedCommand(steps, r.stderr)).toEqual(['sh', '-c', 'exit 7']);
  });

  it('refuses damaged records rather than guessing', () => {
    const good = encodeSteps(toRunnerSteps([['echo', 'x']]));
    expect(good).toBe('overlab-steps/1\0run\x002\0echo\0x\0');
    expect(run(good).status).toBe(0);
    for (const bad of [
      '',
      'not-the-format\0',
      good.replace('\x002\0', '\0a[$(touch x)]\0'), // a length that is not digits
      good.replace('\x002\0', '\x0002\0'), // nor a plain number
      good.replace('run', 'eval'),
      good.replace('\x002\0', '\x009\0'), // longer than the stream
      good + 'feed\x001\0cat\0', // a feed without its input
    ]) {
      const r = run(bad);
      expect(r.status, JSON.stringify(bad)).toBe(RUNNER_BROKEN);
    }
    expect(existsSync(canary)).toBe(false);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});

describe('batching', () => {
  const commands = [
    ['ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0'],
    ['ip', '-n', 'p1', 'link', 'set', 'lo', 'up'],
    ['ip', '-n', 'p1', 'route', 'add', 'default', 'via', '10.0.0.1'],
    ['iptables', '-t', 'nat', '-F'],
    ['ip', 'route', 'add', '10.1.0.0/24', 'via', '10.0.0.2'],
    ['bridge', 'fdb', 'replace', '02:42:0a:00:00:01', 'dev', 'flannel.1', 'dst', '10.0.0.3', 'self', 'permanent'],
    ['bridge', 'fdb', 'replace', '02:42:0a:00:00:02', 'dev', 'flannel.1', 'dst', '10.0.0.4', 'self', 'permanent'],
    ['ip', '-j', 'route'],
    ['nsenter', '--net=/run/overlab/underlay.netns', 'ip', 'link', 'set', 'dev', 'h1', 'master', 'underlay', 'up'],
  ];
  const steps = toRunnerSteps(commands);

  it('groups consecutive ip/bridge commands per namespace into one -batch, the rest as is', () => {
    expect(steps.map((s) => s.argv)).toEqual([
      ['ip', '-batch', '-'],
      ['ip', '-n', 'p1', '-batch', '-'],
      ['iptables', '-t', 'nat', '-F'],
      ['ip', 'route', 'add', '10.1.0.0/24', 'via', '10.0.0.2'],
      ['bridge', '-batch', '-'],
      ['ip', '-j', 'route'],
      ['nsenter', '--net=/run/overlab/underlay.netns', 'ip', 'link', 'set', 'dev', 'h1', 'master', 'underlay', 'up'],
    ]);
    expect(steps[0]!.input).toBe('link set lo up\naddr add 10.0.0.1/24 dev eth0\n');
    expect(steps[1]!.input).toBe('link set lo up\nroute add default via 10.0.0.1\n');
    expect(steps.flatMap((s) => s.commands)).toEqual(commands);
  });

  it('names the failing command inside a batch', () => {
    const stderr = '@@overlab-step 0\n@@overlab-step 1\nRTNETLINK answers: File exists\nCommand failed -:2\n';
    expect(failedCommand(steps, stderr)).toEqual(commands[3]);
    expect(failedCommand(steps, '@@overlab-step 2\niptables: No chain\n')).toEqual(commands[4]);
    expect(failedCommand(steps, 'no marks')).toBeUndefined();
    expect(runnerErrors(stderr)).toEqual(['RTNETLINK answers: File exists']);
  });

  it('refuses to write a token iproute2 would read differently onto a batch line', () => {
    for (const token of ['a b', 'a#b', '"a"', "'a'", 'a\\', '-x', '', 'a\nb', '$(id)', 'a;b']) {
      const batch = [['ip', 'link', 'set', 'lo', 'up'], ['ip', 'link', 'set', token, 'up']];
      expect(() => toRunnerSteps(batch), JSON.stringify(token)).toThrow(OverlabError);
      expect(() => toRunnerSteps(batch)).toThrow(/bug in overlab/);
    }
    // The same value as a lone command is an argv element: no tokenizer reads it.
    expect(toRunnerSteps([['ip', 'link', 'set', 'a b', 'up']])[0]!.input).toBeUndefined();
  });

  it('runs `ip netns exec` on its own: the program it starts has options a batch line cannot carry', () => {
    const commands = [
      ['ip', 'netns', 'add', 'n1'],
      ['ip', 'netns', 'exec', 'n1', 'iptables', '-I', 'OUTPUT', '-j', 'DROP'],
      ['ip', 'netns', 'del', 'n1'],
    ];
    expect(toRunnerSteps(commands).map((s) => s.argv)).toEqual(commands);
  });

  it('refuses a NUL byte, which no argv can carry', () => {
    expect(() => encodeSteps([{ argv: ['echo', 'a\0b'], commands: [] }])).toThrow(/NUL/);
  });
});
