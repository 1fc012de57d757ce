// The completion scripts in the real shells (bash, zsh, fish), each asking the built CLI at
// "Tab": a command from its start, a flag's values, a bundled lab, an argument's options. What
// labs are up is the pure part's business (test/unit/cli-completion.test.ts); this is the glue.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './harness.js';

let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp('/tmp/overlab-completion-');
  // `overlab` on PATH, as an installed one would be.
  await writeFile(`${dir}/overlab`, `#!/bin/sh\nexec node ${CLI} "$@"\n`);
  await chmod(`${dir}/overlab`, 0o755);
  env = { PATH: `${dir}:${process.env.PATH}`, HOME: dir, NO_COLOR: '1' };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The words each shell offers for a command line whose last word is being completed. */
const CASES: [line: string[], expected: string[]][] = [
  [['tr'], ['trace']],
  [['trace', '--proto', ''], ['icmp', 'tcp', 'udp']],
  [['up', 'flannel-v'], ['flannel-vxlan']],
  [['completion', ''], ['bash', 'fish', 'zsh']],
];

const SEPARATOR = '----';
/** Each case's candidates, from one run of the shell that printed them separated by SEPARATOR. */
const answers = (stdout: string) =>
  stdout
    .split(new RegExp(`^${SEPARATOR}$`, 'm'))
    .slice(0, CASES.length)
    .map((block) =>
      block
        .split('\n')
        .map((l) => l.split('\t')[0]!.trim())
        .filter(Boolean)
        .sort(),
    );
const shq = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
const expected = CASES.map(([, e]) => e);

// Each shell sources its script once and is then asked every case in turn.
describe('completion in the shells themselves', () => {
  it('bash: `source <(overlab completion bash)`', async () => {
    const script = [
      'source <(overlab completion bash)',
      ...CASES.map(([line]) => `COMP_WORDS=(${['overlab', ...line].map(shq).join(' ')}); COMP_CWORD=${line.length}; _overlab_complete; printf '%s\\n' "\${COMPREPLY[@]}" ${SEPARATOR}`),
    ].join('\n');
    const r = await execa('bash', ['-c', script], { env, reject: false });
    expect(answers(r.stdout), r.stderr).toEqual(expected);
  });

  it('zsh: the compdef function, with compadd and _files standing in for the completion system', async () => {
    const script = [
      'compdef() { :; }',
      'compadd() { [[ $1 == -a ]] && print -rl -- "${(@P)2}"; }',
      '_files() { print -r -- "<files>"; }',
      'source <(overlab completion zsh)',
      ...CASES.map(([line]) => `words=(${['overlab', ...line].map(shq).join(' ')}); CURRENT=${line.length + 1}; _overlab; print -r -- ${SEPARATOR}`),
    ].join('\n');
    const r = await execa('zsh', ['-f', '-c', script], { env, reject: false });
    expect(answers(r.stdout), r.stderr).toEqual(expected);
  });

  it('fish: `overlab completion fish | source`, asked with `complete -C`', async () => {
    const script = ['overlab completion fish | source', ...CASES.map(([line]) => `complete -C ${shq(['overlab', ...line].join(' '))}; echo ${SEPARATOR}`)].join('\n');
    const r = await execa('fish', ['--no-config', '-c', script], { env, reject: false });
    expect(answers(r.stdout), r.stderr).toEqual(expected);
  });
});
