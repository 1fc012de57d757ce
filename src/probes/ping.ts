// The ping probe: exit status and counters from iputils ping, run where the check says.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { inEndpoint, type Endpoint } from './endpoint.js';
import { bounded } from '../plan/process-argv.js';
import { isValidIpv4 } from '../shared/ipv4.js';
import { inputError } from '../base/errors.js';
import type { PingExpectation } from '../lab-spec/lab-spec.js';

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
  /** How long ping waits for a reply after its last probe (iputils -W). */
  timeoutSeconds?: number;
  /** What the check expects: decides how long "no reply" takes to be sure of (see replyWaitSeconds). */
  expect?: PingExpectation;
  signal?: AbortSignal;
}

/** Probes follow each other quickly: a lab's round trips are well under a millisecond to a few
 * milliseconds, and the kernel queues a probe while it resolves the next hop's MAC. */
const DEFAULT_INTERVAL_SECONDS = 0.05;
/** Waiting for a reply that should come: generous, since it only costs time when the check fails. */
const REACHABLE_REPLY_WAIT_SECONDS = 1;
/** Deciding "unreachable": every probe sent, then this long for a late reply. Round trips inside
 * a lab on one machine stay in milliseconds even under load (bench/verify.mjs prints the largest
 * seen), so this is still a hundred times the slowest. An ICMP error (net or host unreachable)
 * ends ping at once: iputils stops when every probe has a reply or an error. */
export const UNREACHABLE_REPLY_WAIT_SECONDS = 0.5;
/** Room for the exec and ping's own start on a busy machine. */
const DEADLINE_MARGIN_SECONDS = 3;

/** How long ping waits after its last probe for a reply. */
export function replyWaitSeconds(options: Pick<PingOptions, 'timeoutSeconds' | 'expect'>): number {
  return options.timeoutSeconds ?? (options.expect === 'unreachable' ? UNREACHABLE_REPLY_WAIT_SECONDS : REACHABLE_REPLY_WAIT_SECONDS);
}

/** How long a ping runs at most: every interval, the last reply's wait, and a margin. Inside the
 * container it is stopped then, whatever happens to overlab (a probe never outlives its CLI by
 * more than this). */
export function pingDeadlineSeconds(options: Pick<PingOptions, 'count' | 'intervalSeconds' | 'timeoutSeconds' | 'expect'>): number {
  const interval = options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
  return Math.ceil(Math.max(0, options.count - 1) * interval + replyWaitSeconds(options) + DEADLINE_MARGIN_SECONDS);
}

export function pingArgv(target: string, options: PingOptions): string[] {
  if (!isValidIpv4(target)) throw inputError(`ping needs an IPv4 address to target, not ${JSON.stringify(target)}`);
  return [
    'env', 'LC_ALL=C', 'ping', '-n',
    '-c', String(options.count),
    '-i', String(options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS),
    '-W', String(replyWaitSeconds(options)),
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
