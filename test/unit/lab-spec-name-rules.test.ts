import { describe, expect, it } from 'vitest';
import { isValidName, nameProblem, NAME_RULES, type NameKind } from '../../src/lab-spec/name-rules.js';

const HOSTILE = [
  'b$(id>&2)',
  'a;reboot',
  'a`id`',
  'a|b',
  'a&b',
  "a'b",
  'a"b',
  'a\nb',
  'a b',
  '-rf',
  '--json',
  '.',
  '..',
  '../etc',
  'a/b',
  'a:b',
  'hоst1', // Cyrillic "о"
  'ｈost1', // full-width "ｈ"
  'a\u0000b',
  'a\u001b[31m',
  '',
];

describe('name rules', () => {
  for (const kind of Object.keys(NAME_RULES) as NameKind[]) {
    it(`${kind}: refuses every hostile value with a sentence`, () => {
      for (const value of HOSTILE) {
        expect(isValidName(kind, value), `${kind} ${JSON.stringify(value)}`).toBe(false);
        expect(nameProblem(kind, value)).toMatch(/\S/);
      }
    });
    it(`${kind}: accepts its example and refuses one byte over the limit`, () => {
      const rule = NAME_RULES[kind];
      expect(nameProblem(kind, rule.example)).toBeUndefined();
      expect(isValidName(kind, 'a'.repeat(rule.maxBytes))).toBe(true);
      expect(nameProblem(kind, 'a'.repeat(rule.maxBytes + 1))).toMatch(/at most/);
    });
  }

  it('interfaces may have upper case, dots and underscores, but never a leading "-"', () => {
    for (const ok of ['eth0', 'flannel.1', 'cni0', 'veth_A-1', 'Eth0', '.hidden']) expect(isValidName('iface', ok), ok).toBe(true);
    for (const bad of ['-eth0', 'eth 0', 'eth0;', 'a'.repeat(16)]) expect(isValidName('iface', bad), bad).toBe(false);
  });

  it('lower-case names refuse upper case and a leading digit', () => {
    expect(nameProblem('node', 'Host1')).toMatch(/lower-case/);
    expect(nameProblem('pod', '1pod')).toMatch(/starting with a letter/);
  });

  it('says "only ASCII" for a look-alike', () => {
    expect(nameProblem('node', 'hоst1')).toMatch(/only ASCII/);
  });
});
