import { describe, expect, it } from 'vitest';
import {
  broadcastOf,
  cidrContains,
  cidrOf,
  cidrsOverlap,
  formatCidr,
  intToIp,
  ipToInt,
  isValidCidr,
  isValidIpv4,
  isValidMac,
  normalizeCidr,
  parseCidr,
  parseCidrParts,
  parseIpv4,
  prefixMask,
  prefixSize,
  subnetCount,
} from '../../src/shared/ipv4.js';

describe('isValidIpv4 / parseIpv4', () => {
  it.each(['0.0.0.0', '1.2.3.4', '10.0.0.1', '172.16.1.254', '192.168.50.10', '255.255.255.255'])('accepts %s', (s) => {
    expect(isValidIpv4(s)).toBe(true);
  });
  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.-1',
    '01.2.3.4', // leading zero: ambiguous (octal in some tools)
    '1.2.3.04',
    '1..3.4',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4/32',
    'a.b.c.d',
    '1.2.3.4.',
    '0x1.2.3.4',
    '1e2.1.1.1',
  ])('rejects %j', (s) => {
    expect(isValidIpv4(s)).toBe(false);
    expect(parseIpv4(s)).toBeUndefined();
  });
  it('rejects non-strings without throwing', () => {
    expect(isValidIpv4(42 as unknown as string)).toBe(false);
  });
});

describe('ipToInt / intToIp', () => {
  it('converts both ways, unsigned', () => {
    expect(ipToInt('0.0.0.0')).toBe(0);
    expect(ipToInt('0.0.0.1')).toBe(1);
    expect(ipToInt('1.0.0.0')).toBe(16777216);
    expect(ipToInt('192.168.50.10')).toBe(3232248330);
    expect(ipToInt('255.255.255.255')).toBe(4294967295);
    expect(intToIp(0)).toBe('0.0.0.0');
    expect(intToIp(3232248330)).toBe('192.168.50.10');
    expect(intToIp(0xffffffff)).toBe('255.255.255.255');
    expect(intToIp(0x80000000)).toBe('128.0.0.0');
  });
  it('round-trips', () => {
    for (const ip of ['10.1.2.3', '128.0.0.1', '172.16.255.0', '224.0.0.251']) expect(intToIp(ipToInt(ip))).toBe(ip);
  });
  it('throws on bad input', () => {
    expect(() => ipToInt('1.2.3')).toThrow(/not an IPv4 address/);
    expect(() => intToIp(-1)).toThrow();
    expect(() => intToIp(2 ** 32)).toThrow();
    expect(() => intToIp(1.5)).toThrow();
  });
});

describe('isValidMac', () => {
  it.each(['02:42:ac:10:01:02', 'AA:BB:CC:DD:EE:FF', 'ff:ff:ff:ff:ff:ff'])('accepts %s', (s) => expect(isValidMac(s)).toBe(true));
  it.each(['02:42:ac:10:01', '02-42-ac-10-01-02', '0242.ac10.0102', '02:42:ac:10:01:0g', '2:42:ac:10:01:02', '02:42:ac:10:01:02:03', ''])(
    'rejects %j',
    (s) => expect(isValidMac(s)).toBe(false),
  );
});

describe('parseCidr', () => {
  it('parses networks', () => {
    expect(parseCidr('172.16.0.0/16')).toEqual({ network: ipToInt('172.16.0.0'), prefix: 16 });
    expect(parseCidr('0.0.0.0/0')).toEqual({ network: 0, prefix: 0 });
    expect(parseCidr('10.1.2.3/32')).toEqual({ network: ipToInt('10.1.2.3'), prefix: 32 });
    expect(parseCidr('192.168.50.0/24')).toEqual({ network: 3232248320, prefix: 24 });
    expect(parseCidr('128.0.0.0/1')).toEqual({ network: 0x80000000, prefix: 1 });
  });
  it('rejects host bits set', () => {
    expect(parseCidr('172.16.1.5/16')).toBeUndefined();
    expect(parseCidr('10.0.0.1/31')).toBeUndefined();
    expect(parseCidr('128.0.0.0/0')).toBeUndefined();
    expect(isValidCidr('172.16.1.5/16')).toBe(false);
  });
  it.each(['172.16.0.0', '172.16.0.0/', '172.16.0.0/33', '172.16.0.0/-1', '172.16.0.0/024', '172.16.0.0/16/1', '/16', '300.0.0.0/8', '172.16.0.0/ 16'])(
    'rejects bad syntax %j',
    (s) => {
      expect(parseCidr(s)).toBeUndefined();
      expect(parseCidrParts(s)).toBeUndefined();
    },
  );
  it('parseCidrParts keeps host bits; normalizeCidr clears them', () => {
    expect(parseCidrParts('172.16.1.5/16')).toEqual({ ip: ipToInt('172.16.1.5'), prefix: 16 });
    expect(normalizeCidr('172.16.1.5/16')).toBe('172.16.0.0/16');
    expect(normalizeCidr('nope')).toBeUndefined();
  });
});

describe('masks and sizes', () => {
  it('prefixMask', () => {
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(1)).toBe(0x80000000);
    expect(prefixMask(24)).toBe(0xffffff00);
    expect(prefixMask(32)).toBe(0xffffffff);
    expect(() => prefixMask(33)).toThrow();
  });
  it('prefixSize, broadcastOf, cidrOf, formatCidr, subnetCount', () => {
    expect(prefixSize(24)).toBe(256);
    expect(prefixSize(0)).toBe(2 ** 32);
    expect(intToIp(broadcastOf('172.16.1.0/24'))).toBe('172.16.1.255');
    expect(intToIp(broadcastOf('0.0.0.0/0'))).toBe('255.255.255.255');
    expect(formatCidr(cidrOf('172.16.7.20', 24))).toBe('172.16.7.0/24');
    expect(formatCidr(cidrOf(ipToInt('255.255.255.255'), 8))).toBe('255.0.0.0/8');
    expect(subnetCount(16, 24)).toBe(256);
    expect(subnetCount(24, 24)).toBe(1);
    expect(subnetCount(24, 16)).toBe(0);
  });
});

describe('cidrContains', () => {
  it('addresses', () => {
    expect(cidrContains('172.16.0.0/16', '172.16.1.5')).toBe(true);
    expect(cidrContains('172.16.0.0/16', '172.16.255.255')).toBe(true);
    expect(cidrContains('172.16.0.0/16', '172.17.0.0')).toBe(false);
    expect(cidrContains('172.16.0.0/16', '172.15.255.255')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(cidrContains('10.1.2.3/32', '10.1.2.3')).toBe(true);
    expect(cidrContains('10.1.2.3/32', '10.1.2.4')).toBe(false);
    expect(cidrContains('128.0.0.0/1', '255.1.1.1')).toBe(true);
    expect(cidrContains('128.0.0.0/1', '127.1.1.1')).toBe(false);
    expect(cidrContains('172.16.0.0/16', ipToInt('172.16.9.9'))).toBe(true);
  });
  it('networks', () => {
    expect(cidrContains('172.16.0.0/16', '172.16.1.0/24')).toBe(true);
    expect(cidrContains('172.16.0.0/16', '172.16.0.0/16')).toBe(true);
    expect(cidrContains('172.16.1.0/24', '172.16.0.0/16')).toBe(false);
    expect(cidrContains('172.16.0.0/16', '172.17.1.0/24')).toBe(false);
    expect(cidrContains({ network: ipToInt('10.0.0.0'), prefix: 8 }, { network: ipToInt('10.9.0.0'), prefix: 16 })).toBe(true);
  });
  it('throws on malformed input', () => {
    expect(() => cidrContains('172.16.1.5/16', '172.16.1.5')).toThrow();
    expect(() => cidrContains('172.16.0.0/16', '172.16.1')).toThrow();
  });
});

describe('cidrsOverlap', () => {
  it.each([
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.0.0.0/8', true],
    ['10.1.0.0/16', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.2.0.0/16', false],
    ['172.16.0.0/24', '172.16.1.0/24', false],
    ['172.16.0.0/23', '172.16.1.0/24', true],
    ['0.0.0.0/0', '192.168.0.0/16', true],
    ['192.168.50.0/24', '192.168.50.128/25', true],
    ['192.168.50.0/25', '192.168.50.128/25', false],
    ['255.255.255.255/32', '255.255.255.0/24', true],
  ])('%s ∩ %s → %s', (a, b, want) => {
    expect(cidrsOverlap(a, b)).toBe(want);
    expect(cidrsOverlap(b, a)).toBe(want);
  });
});
