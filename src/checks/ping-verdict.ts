// Pure: a ping result against what the check expected.
import type { PingExpectation } from '../lab-spec/lab-spec.js';
import type { PingResult } from '../probes/ping.js';

export interface PingVerdict {
  status: 'pass' | 'fail';
  seen: string;
  reason?: string;
}

export function describePing(result: PingResult): string {
  const rtt = result.rttAvgMs !== undefined ? `, avg ${result.rttAvgMs.toFixed(3)} ms` : '';
  const error = result.transmitted === 0 && result.error ? ` (${result.error})` : '';
  return `${result.from} → ${result.to}: ${result.received}/${result.transmitted} replies${rtt}${error}`;
}

export function evaluatePing(result: PingResult, expect: PingExpectation): PingVerdict {
  const seen = describePing(result);
  const reachable = result.received > 0;
  if (expect === 'reachable' && !reachable) {
    return { status: 'fail', seen, reason: `expected replies from ${result.to}, got none${result.error ? `: ${result.error}` : ''}` };
  }
  if (expect === 'unreachable' && reachable) {
    return { status: 'fail', seen, reason: `expected ${result.to} to be unreachable, but ${result.received} replies came back` };
  }
  if (expect === 'reachable' && result.received < result.transmitted) {
    return { status: 'pass', seen: `${seen} (some loss)` };
  }
  return { status: 'pass', seen };
}
