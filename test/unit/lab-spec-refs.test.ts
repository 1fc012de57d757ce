import { describe, expect, it } from 'vitest';
import { formatRef, isValidIfaceName, parseRef, refProblem } from '../../src/lab-spec/refs.js';

describe('parseRef', () => {
  it.each([
    ['host1', { kind: 'host', host: 'host1' }],
    ['host1/pod1', { kind: 'pod', host: 'host1', pod: 'pod1' }],
    ['host1:eth0', { kind: 'iface', host: 'host1', iface: 'eth0' }],
    ['host1:docker0', { kind: 'iface', host: 'host1', iface: 'docker0' }],
    ['host1/pod1:eth0', { kind: 'iface', host: 'host1', pod: 'pod1', iface: 'eth0' }],
    ['host1:eth0.100', { kind: 'iface', host: 'host1', iface: 'eth0.100' }],
    ['h-1:flannel.1', { kind: 'iface', host: 'h-1', iface: 'flannel.1' }],
    ['10.1.2.3', { kind: 'ip', ip: '10.1.2.3' }],
    ['02:42:AC:10:01:02', { kind: 'mac', mac: '02:42:ac:10:01:02' }],
    ['ab:cd', { kind: 'iface', host: 'ab', iface: 'cd' }],
  ])('%s', (s, want) => {
    expect(parseRef(s)).toEqual(want);
    expect(refProblem(s)).toBeUndefined();
  });

  it('tells external nodes from hosts when given their names', () => {
    expect(parseRef('outside', ['outside', 'router'])).toEqual({ kind: 'node', node: 'outside' });
    expect(parseRef('host1', new Set(['outside']))).toEqual({ kind: 'host', host: 'host1' });
    expect(parseRef('outside')).toEqual({ kind: 'host', host: 'outside' });
    // interfaces of external nodes keep the name in `host`
    expect(parseRef('outside:eth0', ['outside'])).toEqual({ kind: 'iface', host: 'outside', iface: 'eth0' });
  });

  it.each([
    ['', 'the reference is empty'],
    ['Host1', '"Host1" has upper-case letters; names are lower-case'],
    ['host1/', '"host1/" has an empty pod name'],
    ['host1:', '"host1:" has an empty interface name'],
    ['host1:..', '".." is not a valid interface name (letters, digits, "_", "." and "-", not starting with "-", not "." or "..", at most 15 bytes)'],
    ['host1:a-very-long-interface', 'interface name "a-very-long-interface" is 21 characters; Linux interface names are at most 15'],
    ['host1/pod1/x', '"pod1/x" in "host1/pod1/x" is not a valid name'],
    ['1host', '"1host" is not a valid reference'],
    ['10.1.2', '"10.1.2" is not a valid IPv4 address'],
    ['10.1.2.300', '"10.1.2.300" is not a valid IPv4 address'],
    ['02:42:ac:10:01', '"02:42:ac:10:01" is not a valid MAC address (six pairs of hex digits, like 02:42:ac:10:01:02)'],
    ['host 1', '"host 1" is not a valid reference'],
  ])('rejects %j', (s, problem) => {
    expect(parseRef(s)).toBeUndefined();
    expect(refProblem(s)).toBe(problem);
  });

  it('formatRef is the inverse of parseRef', () => {
    for (const s of ['host1', 'host1/pod1', 'host1:eth0', 'host1/pod1:eth0', '10.0.0.1', '02:42:ac:10:01:02']) {
      const r = parseRef(s);
      expect(r).toBeDefined();
      expect(formatRef(r!)).toBe(s);
    }
    expect(formatRef({ kind: 'node', node: 'outside' })).toBe('outside');
  });

  it('isValidIfaceName follows the kernel rules', () => {
    expect(isValidIfaceName('eth0')).toBe(true);
    expect(isValidIfaceName('a'.repeat(15))).toBe(true);
    expect(isValidIfaceName('a'.repeat(16))).toBe(false);
    expect(isValidIfaceName('.')).toBe(false);
    expect(isValidIfaceName('..')).toBe(false);
    expect(isValidIfaceName('...')).toBe(true);
    expect(isValidIfaceName('a/b')).toBe(false);
    expect(isValidIfaceName('a:b')).toBe(false);
    expect(isValidIfaceName('a b')).toBe(false);
    expect(isValidIfaceName('')).toBe(false);
    expect(isValidIfaceName('ééééééééé')).toBe(false); // 18 bytes in UTF-8
  });
});
