// Value formats of fault arguments, shared by the schema (YAML) and the command line, so both
// accept exactly the same words.
import { inputError } from '../base/errors.js';
import { isValidCidr } from '../shared/ipv4.js';

/** tc's rate words: 500kbit, 1mbit, 2.5gbit, 100kbps (bytes), 8000bit. */
export const RATE_PATTERN = '^[1-9][0-9]{0,9}(?:\\.[0-9]{1,3})?(?:bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$';
/** tc's time words: 100ms, 1.5s, 250us. */
export const DURATION_PATTERN = '^[0-9]{1,6}(?:\\.[0-9]{1,3})?(?:us|ms|s)$';
export const PROTOCOLS = ['udp', 'tcp'] as const;

const RATE_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 };

/** A rate in bits per second. */
export function rateBits(rate: string): number {
  const m = /^([0-9.]+)([a-z]+)$/.exec(rate);
  return m ? Number(m[1]) * (RATE_UNITS[m[2]!] ?? 1) : NaN;
}

export function usage(kind: string, args: string): string {
  return `overlab fault add <lab> ${kind} ${args}`.trimEnd();
}

/** Exactly `names.length` words, or (with `optional`) up to that many after the required ones. */
export function expectArgs(kind: string, synopsis: string, args: readonly string[], count: number, optional = 0): void {
  if (args.length < count || args.length > count + optional) {
    throw inputError(`${kind} takes ${optional ? `${count} to ${count + optional}` : count} argument${count + optional === 1 ? '' : 's'}, got ${args.length}${args.length ? ` (${args.join(' ')})` : ''}`, usage(kind, synopsis));
  }
}

export function intArg(kind: string, what: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) throw inputError(`${kind}: ${what} must be a whole number from ${min} to ${max}, got "${text}"`);
  return Number(text);
}

export function percentArg(kind: string, text: string): number {
  const t = text.endsWith('%') ? text.slice(0, -1) : text;
  const n = Number(t);
  if (!/^[0-9]+(?:\.[0-9]+)?$/.test(t) || !(n >= 0.01 && n <= 100)) throw inputError(`${kind}: the percentage must be between 0.01 and 100, got "${text}"`, 'e.g. 30 or 30%');
  return n;
}

export function patternArg(kind: string, what: string, text: string, pattern: string, example: string): string {
  if (!new RegExp(pattern).test(text)) throw inputError(`${kind}: "${text}" is not a ${what}`, `e.g. ${example}`);
  return text;
}

export function cidrArg(kind: string, text: string): string {
  if (text !== 'default' && !isValidCidr(text)) throw inputError(`${kind}: "${text}" is not a route destination`, 'an IPv4 network in CIDR notation with no host bits set (e.g. 172.16.2.0/24), or default');
  return text;
}
