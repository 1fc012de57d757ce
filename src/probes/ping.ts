// The ping probe: exit status and counters from iputils ping, run where the check says.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { inEndpoint, type Endpoint } from './endpoint.js';
import { bounded } from './process-argv.js';
import { isValidIpv4 } from '../spec/ipv4-cidr.js';
import { inputError } from '../core/errors.js';

export interface PingResult {
  from: string;
  to: string;
  transmitted: number;
  received: number;
  rttAvgMs?: number;
  exitCode: number;
  /** What ping said when it could not even send (e.g. "Network is unreachable"). */
  error?: string;
}

/** Parse ping's closing statistics (run with LC_ALL=C so the words are stable). */
export function parsePingStatistics(output: string): { transmitted: number; received: number; rttAvgMs?: number } {
  const counters = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  return {
    transmitted: counters ? Number(counters[1]) : 0,
    received: counters ? Number(counters[2]) : 0,
    ...(rtt ? { rttAvgMs: Number(rtt[1]) } : {}),
  };
}

export interface PingOptions {
  count: number;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

const DEFAULT_INTERVAL_SECONDS = 0.2;
const DEFAULT_REPLY_TIMEOUT_SECONDS = 1;
/** Room for the exec and ping's own start on a busy machine. */
const DEADLINE_MARGIN_SECONDS = 3;

/** How long a ping runs at most: every interval, the last reply's wait, and a margin. Inside the
 * container it is stopped then, whatever happens to overlab (a probe never outlives its CLI by
 * more than this). */
export function pingDeadlineSeconds(options: Pick<PingOptions, 'count' | 'intervalSeconds' | 'timeoutSeconds'>): number {
  const interval = options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
  const wait = options.timeoutSeconds ?? DEFAULT_REPLY_TIMEOUT_SECONDS;
  return Math.ceil(Math.max(0, options.count - 1) * interval + wait + DEADLINE_MARGIN_SECONDS);
}

export function pingArgv(target: string, options: PingOptions): string[] {
  if (!isValidIpv4(target)) throw inputError(`ping needs an IPv4 address to target, not ${JSON.stringify(target)}`);
  return [
    'env', 'LC_ALL=C', 'ping', '-n',
    '-c', String(options.count),
    '-i', String(options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS),
    '-W', String(options.timeoutSeconds ?? DEFAULT_REPLY_TIMEOUT_SECONDS),
    target,
  ];
}

export async function ping(runtime: ContainerRuntime, from: Endpoint, target: string, options: PingOptions): Promise<PingResult> {
  const result = await runtime.exec(
    from.container,
    bounded(inEndpoint(from, pingArgv(target, options)), pingDeadlineSeconds(options)),
    options.signal ? { signal: options.signal } : {},
  );
  const stats = parsePingStatistics(result.stdout);
  const error = result.stderr.trim().split('\n').filter(Boolean).at(-1);
  return {
    from: from.label,
    to: target,
    ...stats,
    exitCode: result.exitCode,
    ...(error ? { error } : {}),
  };
}
