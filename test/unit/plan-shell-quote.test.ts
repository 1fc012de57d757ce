// shellQuote is the one function that writes a value into shell text (--dry-run, messages).
// Proven with the real shells: every value comes back byte for byte and none ever runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellCommand, shellQuote } from '../../src/plan/shell-quote.js';

const dir = mkdtempSync(join(tmpdir(), 'overlab-quote-'));
const canary = join(dir, 'canary');
const HOSTILE = [
  `$(touch ${canary})`, `\`touch ${canary}\``, `;touch ${canary}`, `' ; touch ${canary} ; '`, `"; touch ${canary}; "`,
  `a\ntouch ${canary}`, `a\rb`, `\\`, `'`, `''`, `"`, `$HOME`, `\${HOME}`, `*`, `?`, `[a]`, `~`, `~root`, `{a,b}`, `!`, `!!`,
  `#x`, `a#b`, `-c`, `--`, `a=b`, `&`, `|`, `<x`, `>x`, `%1`, ' ', '\t', '', 'ｈost1', '..', '../etc', 'é', '\x01\x7f',
];

function roundTrip(shell: string, values: string[]): string[] {
  const text = `printf '%s\\0' ${values.map(shellQuote).join(' ')}`;
  const r = spawnSync(shell, ['-c', text], { encoding: 'utf8', cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  for (const shell of ['sh', 'bash', 'dash'].filter((s) => spawnSync('sh', ['-c', `command -v ${s}`]).status === 0)) {
    it(`gives every value back byte for byte through ${shell}, running none`, () => {
      expect(roundTrip(shell, HOSTILE)).toEqual(HOSTILE);
      expect(existsSync(canary)).toBe(false);
    });
  }

  it('leaves plain words bare, so a dry run reads like what a student types', () => {
    expect(shellCommand(['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0'])).toBe('ip addr add 10.0.0.1/24 dev eth0');
    expect(shellCommand(['nsenter', '--net=/run/x.netns', 'ip', 'link'])).toBe('nsenter --net=/run/x.netns ip link');
    expect(shellQuote('02:42:ac:10:01:02')).toBe('02:42:ac:10:01:02');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('!')).toBe(`'!'`);
  });

  it('never lets a first word with "=" become a variable assignment', () => {
    const r = spawnSync('sh', ['-c', shellCommand(['A=1', 'true'])], { encoding: 'utf8' });
    expect(r.status).toBe(127); // "A=1: not found": it was a command name, not an assignment
  });
});
