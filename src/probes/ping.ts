// The ping probe: exit status and counters from iputils ping, run where the check says.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { inEndpoint, type Endpoint } from './endpoint.js';

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

export function pingArgv(target: string, options: PingOptions): string[] {
  return [
    'env', 'LC_ALL=C', 'ping', '-n',
    '-c', String(options.count),
    '-i', String(options.intervalSeconds ?? 0.2),
    '-W', String(options.timeoutSeconds ?? 1),
    target,
  ];
}

export async function ping(runtime: ContainerRuntime, from: Endpoint, target: string, options: PingOptions): Promise<PingResult> {
  const result = await runtime.exec(
    from.container,
    inEndpoint(from, pingArgv(target, options)),
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
