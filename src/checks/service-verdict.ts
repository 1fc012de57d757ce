// The verdict of a `service` check, pure: N requests went to a Service (its ClusterIP, or a
// NodePort on a host); every one must have been answered by one of the endpoints the node's
// rules hold, every endpoint must have answered, and the spread must be what the rules promise
// (the binomial range of service-spread.ts) — or, for a Service without endpoints, every request
// must have been refused at once (REJECT), not left to time out.
import type { AskResult } from '../shared/pod-reply.js';
import type { Frontend, ProgrammedEndpoint } from '../trace/programmed-services.js';
import { judgeSpread, SPREAD_ALPHA, type SpreadVerdict } from './service-spread.js';

export interface ServiceObservation {
  /** What the requests went to: "10.96.0.10:80" (ClusterIP) or "192.168.50.3:30080" (NodePort). */
  target: string;
  protocol: 'tcp' | 'udp';
  /** The node whose rules translate the requests, and how they program (iptables or nftables). */
  node: string;
  mode: 'iptables' | 'nftables';
  /** What that node's rules hold for the target (undefined: nothing captures it). */
  frontend?: Frontend;
  results: AskResult[];
  /** Packets each DNAT rule counted during the requests (iptables mode), by endpoint chain. */
  counted?: Record<string, number>;
  /** conntrack's flows to the target after the requests, a few of them, described. */
  flows: string[];
  /** Requests asked for (fewer results: the probe ran out of time). */
  requested: number;
  /** The lab's pods by address ("10.244.1.2" → "host1/web1"), to name an endpoint that never answered. */
  pods?: Record<string, string>;
  /** The Service's endpoints as the lab says ("10.244.1.2:8080"): what the rules should hold. */
  expected?: string[];
}

export interface ServiceVerdictResult {
  status: 'pass' | 'fail';
  seen: string;
  reason?: string;
  spread?: SpreadVerdict;
}

const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

function failureSummary(results: AskResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) if (r.failure) counts.set(r.failure, (counts.get(r.failure) ?? 0) + 1);
  return [...counts].map(([f, n]) => `${n} ${f}`).join(', ');
}

/** "host1/web1 (10.244.1.2:8080)": an endpoint by the pod that answered from it (or the lab's pod
 * with its address), else its address alone — nobody has it (a stale rule). */
function endpointName(e: ProgrammedEndpoint, o: ServiceObservation): string {
  const [ip] = e.destination.split(':');
  const reply = o.results.find((r) => r.reply && r.reply.addr === ip)?.reply;
  const pod = reply ? `${reply.host}/${reply.pod}` : o.pods?.[ip!];
  return pod ? `${pod} (${e.destination})` : `${e.destination} (no pod has ${ip})`;
}

const alphaText = (a: number) => (a >= 0.001 ? String(a) : a.toExponential(0).replace('e-', 'e-'));

export function judgeService(o: ServiceObservation, expect: 'balanced' | 'refused'): ServiceVerdictResult {
  const n = o.results.length;
  const short = n < o.requested ? ` (only ${n} of ${o.requested} requests were sent before the probe's time ran out)` : '';
  const front = o.frontend;
  if (expect === 'refused') {
    const refused = o.results.filter((r) => r.failure === 'refused');
    const rule = front?.kind === 'refused' ? `; ${o.node} holds ${front.refused.verdict} for it: ${front.refused.rule}` : '';
    const seen = `${n} requests to ${o.target}: ${refused.length} refused${n > refused.length ? `, ${n - refused.length} ${failureSummary(o.results.filter((r) => r.failure !== 'refused')) || 'answered'}` : ''}${rule}`;
    if (n === 0) return { status: 'fail', seen, reason: `no request was sent${short}` };
    const answered = o.results.filter((r) => r.reply);
    if (answered.length) {
      return { status: 'fail', seen, reason: `${answered.length} of ${n} requests were answered (by ${[...new Set(answered.map((r) => `${r.reply!.host}/${r.reply!.pod}`))].join(', ')}): the Service has endpoints` };
    }
    const timedOut = o.results.filter((r) => r.failure === 'timeout');
    if (timedOut.length) {
      return { status: 'fail', seen, reason: `${timedOut.length} of ${n} requests timed out: a Service without endpoints must be refused (kube-proxy's REJECT, an ICMP port unreachable), not left to time out${front?.kind === 'refused' ? '' : ` — ${o.node}'s rules hold no REJECT for ${o.target}`}` };
    }
    if (refused.length < n) return { status: 'fail', seen, reason: `${n - refused.length} of ${n} requests failed otherwise: ${failureSummary(o.results.filter((r) => r.failure !== 'refused'))}` };
    return { status: 'pass', seen };
  }

  if (front?.kind !== 'service') {
    const what = front?.kind === 'refused' ? `${o.node}'s rules refuse ${o.target} (${front.refused.rule}): the Service has no endpoints there` : `${o.node}'s ${o.mode} rules hold no Service at ${o.target}`;
    return { status: 'fail', seen: `${n} requests to ${o.target}: ${failureSummary(o.results) || 'none answered'}`, reason: what };
  }
  const endpoints = front.service.endpoints;
  const counts = endpoints.map((e) => o.results.filter((r) => r.reply && `${r.reply.addr}:${r.reply.port}` === e.destination).length);
  const strangers = o.results.filter((r) => r.reply && !endpoints.some((e) => e.destination === `${r.reply!.addr}:${r.reply!.port}`));
  const failed = o.results.filter((r) => r.failure);
  const spread = judgeSpread(counts, endpoints.map((e) => e.probability));
  const parts = endpoints.map((e, i) => `${endpointName(e, o)} ${counts[i]}`);
  const ranges = [...new Set(spread.endpoints.map((e) => `${e.range.low}..${e.range.high} for p=${pct(e.range.probability)}`))].join(', ');
  const counted = o.counted ? `; DNAT counters +${Object.values(o.counted).reduce((a, b) => a + b, 0)}` : '';
  const seen = `${n} requests to ${o.target} (${o.node}, ${o.mode}): ${parts.join(', ')}${failed.length ? `, ${failureSummary(failed)}` : ''}${strangers.length ? `, ${strangers.length} from elsewhere` : ''} (each ${ranges}, α=${alphaText(SPREAD_ALPHA)})${counted}`;
  if (endpoints.length === 0) return { status: 'fail', seen, reason: `${o.node}'s rules send ${o.target} to no endpoint` };
  if (n === 0) return { status: 'fail', seen, reason: `no request was sent${short}` };
  if (failed.length) {
    const silent = endpoints.filter((_, i) => counts[i] === 0).map((e) => endpointName(e, o));
    return {
      status: 'fail',
      seen,
      reason: `${failed.length} of ${n} requests were not answered (${failureSummary(failed)})${silent.length ? `; never answered: ${silent.join(', ')}` : ''}${short}`,
      spread,
    };
  }
  if (strangers.length) {
    const who = [...new Set(strangers.map((r) => `${r.reply!.host}/${r.reply!.pod} (${r.reply!.addr}:${r.reply!.port})`))].join(', ');
    return { status: 'fail', seen, reason: `${strangers.length} answers came from outside the Service's endpoints: ${who}`, spread };
  }
  // the rules answered as they promise; but are they the Service's endpoints?
  if (o.expected) {
    const missing = o.expected.filter((d) => !endpoints.some((e) => e.destination === d));
    const extra = endpoints.filter((e) => !o.expected!.includes(e.destination));
    const named = (d: string) => `${o.pods?.[d.split(':')[0]!] ?? 'no pod'} (${d})`;
    if (missing.length || extra.length) {
      const parts = [...(missing.length ? [`missing ${missing.map(named).join(', ')}`] : []), ...(extra.length ? [`holding ${extra.map((e) => endpointName(e, o)).join(', ')} besides`] : [])];
      return { status: 'fail', seen, reason: `${o.node}'s rules hold ${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'} of the Service's ${o.expected.length}: ${parts.join('; ')} — the rules are not the Service's`, spread };
    }
  }
  const silent = endpoints.filter((_, i) => counts[i] === 0);
  if (silent.length) {
    return { status: 'fail', seen, reason: `never answered: ${silent.map((e) => endpointName(e, o)).join(', ')} — every endpoint must answer some of ${n} requests`, spread };
  }
  if (!spread.ok) {
    const off = spread.endpoints.map((e, i) => ({ e, ep: endpoints[i]! })).filter(({ e }) => !e.ok);
    return {
      status: 'fail',
      seen,
      reason: `the spread is not what the rules promise: ${off.map(({ e, ep }) => `${endpointName(ep, o)} answered ${e.count} times, outside ${e.range.low}..${e.range.high}`).join('; ')}`,
      spread,
    };
  }
  return { status: 'pass', seen: short ? `${seen}${short}` : seen, spread };
}
