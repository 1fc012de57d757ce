// The one marked probe a live trace sends: an ICMP echo whose payload repeats a random pattern
// (ping -p), a UDP datagram carrying a random text, or a TCP SYN from a random source port — so
// every copy of it, wrapped or not, masqueraded or not, can be told from any other packet.
import { randomBytes, randomInt } from 'node:crypto';
import { inputError } from '../base/errors.js';
import { bounded } from '../plan/process-argv.js';
import type { TraceOptions } from './trace-result.js';

export const IPV4_HEADER = 20;
export const ICMP_ECHO_HEADER = 8;
export const UDP_HEADER = 8;
const DEFAULT_ICMP_LENGTH = 84; // ping's default 56 data bytes
const MIN_ICMP_LENGTH = IPV4_HEADER + ICMP_ECHO_HEADER + 16 + 16; // timestamp + one pattern
const MAX_LENGTH = 65_000;
/** How long a probe waits for an answer before giving up; a dropped probe costs this much. */
export const PROBE_WAIT_SECONDS = 1;
/** A TCP probe gives up just before the kernel would retransmit its SYN. */
const TCP_CONNECT_TIMEOUT = 0.9;

export interface Probe {
  proto: TraceOptions['proto'];
  /** Bytes found in every copy of the probe (and in errors quoting it); TCP has none. */
  marker?: Uint8Array;
  srcPort?: number;
  dstPort?: number;
  /** IPv4 total length of the probe. */
  length: number;
  argv: string[];
  stdin?: string;
}

export function validateSize(options: Pick<TraceOptions, 'proto' | 'size'>): void {
  if (options.size === undefined) return;
  if (options.proto === 'tcp') throw inputError('--size does not apply to --proto tcp (a SYN carries no data)', 'drop --size, or use --proto icmp or udp');
  const min = options.proto === 'icmp' ? MIN_ICMP_LENGTH : IPV4_HEADER + UDP_HEADER + 24;
  if (!Number.isInteger(options.size) || options.size < min || options.size > MAX_LENGTH) {
    throw inputError(`--size ${options.size} is out of range`, `give the probe's IPv4 length in bytes, ${min} to ${MAX_LENGTH}`);
  }
}

/** The probe for a target; `random` is injectable for tests. */
export function buildProbe(target: string, options: TraceOptions, random: { bytes: (n: number) => Buffer; int: (min: number, max: number) => number } = { bytes: randomBytes, int: randomInt }): Probe {
  validateSize(options);
  if (options.proto === 'icmp') {
    const marker = random.bytes(16);
    const length = options.size ?? DEFAULT_ICMP_LENGTH;
    const argv = [
      'env', 'LC_ALL=C', 'ping', '-n', '-c', '1', '-W', String(PROBE_WAIT_SECONDS),
      '-M', 'do', // Don't Fragment: a packet too big for a link is refused there, and says so
      '-p', marker.toString('hex'),
      '-s', String(length - IPV4_HEADER - ICMP_ECHO_HEADER),
      target,
    ];
    return { proto: 'icmp', marker, length, argv: bounded(argv, PROBE_WAIT_SECONDS + 2) };
  }
  const srcPort = random.int(40_000, 60_000);
  if (options.proto === 'udp') {
    const token = `overlab-trace-${random.bytes(8).toString('hex')}`;
    const length = options.size ?? IPV4_HEADER + UDP_HEADER + token.length;
    const payload = token.padEnd(length - IPV4_HEADER - UDP_HEADER, '.');
    const argv = ['socat', '-T', String(PROBE_WAIT_SECONDS), '-t', String(PROBE_WAIT_SECONDS), 'STDIO', `UDP:${target}:${options.port},sourceport=${srcPort}`];
    return { proto: 'udp', marker: new Uint8Array(Buffer.from(token, 'ascii')), srcPort, dstPort: options.port, length, argv: bounded(argv, PROBE_WAIT_SECONDS + 2), stdin: payload };
  }
  // One SYN only: the kernel sends the SYN again after 1 s (its initial retransmission timeout),
  // and through a Service a SYN that died before conntrack confirmed its flow gets a new endpoint.
  const argv = ['socat', '-T', String(PROBE_WAIT_SECONDS), 'STDIO', `TCP:${target}:${options.port},sourceport=${srcPort},connect-timeout=${TCP_CONNECT_TIMEOUT}`];
  return { proto: 'tcp', srcPort, dstPort: options.port, length: IPV4_HEADER + 40, argv: bounded(argv, PROBE_WAIT_SECONDS + 2), stdin: '' };
}

/** What the probe's tool said when it could not send at all ("message too long, mtu=1450"). */
export function localProbeError(stderr: string, exitCode?: number): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^PATTERN|^PING|^pid \d+$/.test(l));
  const error = lines.find((l) => /error|unreachable|too long|refused|not permitted|cannot|invalid/i.test(l));
  if (error) return error;
  // nothing recognisable: say what it did say, so a probe that never left is never a mystery
  if (lines.length) return `${lines.slice(-2).join(' / ')}${exitCode !== undefined ? ` (exit ${exitCode})` : ''}`;
  return exitCode !== undefined && exitCode !== 0 && exitCode !== 1 ? `it exited ${exitCode} without a word` : undefined;
}
