// The pod tools' command lines, parsed strictly: every value is checked here before a socket is
// opened, so a bad argument ends the tool with a sentence (exit 2), never half-way. Pure.
import type { ServeProtocol } from '../shared/pod-reply.js';

export class UsageError extends Error {}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function port(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new UsageError(`${what} must be a port 1-65535, not "${text}"`);
  return Number(text);
}

function protocol(text: string): ServeProtocol {
  if (text !== 'tcp' && text !== 'udp') throw new UsageError(`protocol must be tcp or udp, not "${text}"`);
  return text;
}

function options(argv: string[], known: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    if (!known.includes(flag)) throw new UsageError(`unknown option "${flag}" (known: ${known.join(', ')})`);
    const value = argv[i + 1];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    out.set(flag, [...(out.get(flag) ?? []), value]);
  }
  return out;
}

const one = (opts: Map<string, string[]>, flag: string): string | undefined => {
  const values = opts.get(flag);
  if (values && values.length > 1) throw new UsageError(`${flag} given twice`);
  return values?.[0];
};

export interface ServeArgs {
  pod: string;
  host: string;
  listen: { protocol: ServeProtocol; port: number }[];
}

/** serve --pod web1 --host host1 --listen tcp:8080 [--listen udp:5353 …] */
export function parseServeArgs(argv: string[]): ServeArgs {
  const opts = options(argv, ['--pod', '--host', '--listen']);
  const pod = one(opts, '--pod');
  const host = one(opts, '--host');
  if (!pod || !NAME.test(pod)) throw new UsageError('--pod must be a pod name (lower-case letters, digits, "-")');
  if (!host || !NAME.test(host)) throw new UsageError('--host must be a host name (lower-case letters, digits, "-")');
  const listen = (opts.get('--listen') ?? []).map((spec) => {
    const m = /^([a-z]+):(\d+)$/.exec(spec);
    if (!m) throw new UsageError(`--listen takes protocol:port (tcp:8080), not "${spec}"`);
    return { protocol: protocol(m[1]!), port: port(m[2]!, '--listen') };
  });
  if (!listen.length) throw new UsageError('--listen is needed at least once');
  const seen = new Set(listen.map((l) => `${l.protocol}:${l.port}`));
  if (seen.size !== listen.length) throw new UsageError('the same --listen twice');
  return { pod, host, listen };
}

export interface AskArgs {
  address: string;
  port: number;
  protocol: ServeProtocol;
  count: number;
  timeoutMs: number;
  /** Stop sending after this long in all (the rest are not sent). */
  budgetMs: number;
}

/** ask --to 10.96.0.10:80 --protocol tcp [--count 1] [--timeout-ms 1000] [--budget-ms 20000] */
export function parseAskArgs(argv: string[]): AskArgs {
  const opts = options(argv, ['--to', '--protocol', '--count', '--timeout-ms', '--budget-ms']);
  const to = one(opts, '--to');
  const m = to ? /^([\d.]+):(\d+)$/.exec(to) : null;
  if (!m || !IPV4.test(m[1]!)) throw new UsageError('--to takes an IPv4 address and port (10.96.0.10:80)');
  const integer = (flag: string, fallback: number, min: number, max: number) => {
    const text = one(opts, flag);
    if (text === undefined) return fallback;
    if (!/^\d{1,7}$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${flag} must be a whole number ${min}-${max}, not "${text}"`);
    return Number(text);
  };
  return {
    address: m[1]!,
    port: port(m[2]!, '--to'),
    protocol: protocol(one(opts, '--protocol') ?? 'tcp'),
    count: integer('--count', 1, 1, 100_000),
    timeoutMs: integer('--timeout-ms', 1000, 10, 60_000),
    budgetMs: integer('--budget-ms', 60_000, 10, 3_600_000),
  };
}
