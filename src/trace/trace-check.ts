// A verify check kind in one line — `trace: {from, to, expect: delivered|dropped, via: [...],
// dropAt: router}` — evaluated against a trace's result. Pure; the runner calls traceLab().
import type { TraceResult } from './trace-result.js';
import { outcomeLine } from './trace-text.js';

export interface TraceExpectation {
  from: string;
  to: string;
  expect: 'delivered' | 'dropped';
  /** Interfaces the request must cross, in this order ("host1:flannel.1", "host2/pod1:eth0"). */
  via?: string[];
  /** Where it must stop: a node ("router") or an interface ("host1:flannel.1"). */
  dropAt?: string;
}

export interface TraceVerdict {
  status: 'pass' | 'fail';
  seen: string;
  reason?: string;
}

const hopName = (h: { node: string; iface: string }) => `${h.node}:${h.iface}`;

export function evaluateTrace(result: TraceResult, e: TraceExpectation): TraceVerdict {
  const request = result.hops.filter((h) => h.leg === 'request');
  const seen = `${outcomeLine(result)}; via ${request.map(hopName).join(' → ') || 'nothing'}`;
  const fail = (reason: string): TraceVerdict => ({ status: 'fail', seen, reason });
  if (e.expect === 'delivered' && !result.delivered) return fail(`expected delivery, but ${outcomeLine(result)}`);
  if (e.expect === 'dropped' && result.delivered) return fail(`expected a drop, but it was delivered in ${request.length} hops`);
  let from = 0;
  for (const wanted of e.via ?? []) {
    const at = request.findIndex((h, i) => i >= from && hopName(h) === wanted);
    if (at < 0) {
      const anywhere = request.some((h) => hopName(h) === wanted);
      return fail(anywhere ? `crossed ${wanted}, but not after ${e.via![e.via!.indexOf(wanted) - 1]}` : `never crossed ${wanted}`);
    }
    from = at + 1;
  }
  if (e.dropAt !== undefined) {
    if (!result.drop) return fail(`expected a drop at ${e.dropAt}, but it was delivered`);
    const at = e.dropAt.includes(':') ? hopName(result.drop) : result.drop.node;
    if (at !== e.dropAt) return fail(`expected the drop at ${e.dropAt}, but it was at ${hopName(result.drop)} (${result.drop.reason})`);
  }
  return { status: 'pass', seen };
}
