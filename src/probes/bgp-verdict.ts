// The `bgp` check's judgement, pure: one BGP node's sessions (as `birdc show protocols all` says)
// and its kernel routes (`ip -j route`) against what the lab's plan says they must be — every
// named session Established, every other host's block routed `proto bird` via the right next hop
// (the owner itself on a shared segment, else the router towards it), and a blackhole for each
// block of its own.
import { bgpState, sessionError, type BirdProtocol } from './birdc-output.js';

export interface ExpectedSession {
  protocol: string;
  peer: string;
  address: string;
}

export interface ExpectedRoute {
  block: string;
  /** The host whose block it is. */
  owner: string;
  via: string;
  dev: string;
  /** Who `via` is (the owner, or the router towards it), for the reason. */
  viaNode: string;
}

export interface BgpExpectation {
  node: string;
  sessions: ExpectedSession[];
  routes: ExpectedRoute[];
  blackholes: string[];
}

export interface KernelRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
}

export interface BgpObservation {
  /** birdc answered; else what it said (BIRD not running). */
  birdc: { ok: true } | { ok: false; error: string };
  protocols: BirdProtocol[];
  routes: KernelRoute[];
}

export interface BgpJudgement {
  status: 'pass' | 'fail';
  seen: string;
  reason?: string;
  problems: string[];
}

/** Pure: `ip -j route` output, each route's fields that matter here. Untrusted: bad shapes skipped. */
export function parseKernelRoutes(stdout: string): KernelRoute[] {
  let j: unknown;
  try {
    j = JSON.parse(stdout || '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(j)) return [];
  const out: KernelRoute[] = [];
  for (const r of j as Record<string, unknown>[]) {
    if (typeof r !== 'object' || r === null || typeof r.dst !== 'string') continue;
    const str = (k: string) => (typeof r[k] === 'string' ? { [k]: r[k] as string } : {});
    out.push({ dst: r.dst, ...str('type'), ...str('gateway'), ...str('dev'), ...str('protocol') });
  }
  return out;
}

export function judgeBgp(e: BgpExpectation, o: BgpObservation): BgpJudgement {
  const problems: string[] = [];
  if (!o.birdc.ok) problems.push(`BIRD is not running on ${e.node} (birdc: ${o.birdc.error})`);
  let established = 0;
  if (o.birdc.ok) {
    for (const s of e.sessions) {
      const p = o.protocols.find((x) => x.name === s.protocol);
      if (!p) {
        problems.push(`${e.node} has no session ${s.protocol} with ${s.peer} (${s.address}) in its BIRD config`);
        continue;
      }
      const state = bgpState(p);
      if (state === 'Established') established++;
      else {
        const why = sessionError(p);
        problems.push(`session ${s.protocol} with ${s.peer} (${s.address}) is ${state === 'Down' ? 'disabled (down)' : state}${why ? `: ${why}` : ''}`);
      }
    }
  }
  let routed = 0;
  for (const want of e.routes) {
    const have = o.routes.filter((r) => r.dst === want.block && (r.type ?? 'unicast') === 'unicast');
    const bird = have.find((r) => r.protocol === 'bird');
    if (!bird) {
      const other = have[0];
      problems.push(
        other
          ? `${want.owner}'s block ${want.block} is routed by ${other.protocol ?? 'boot'} (via ${other.gateway ?? other.dev}), not learned by BIRD`
          : `no route to ${want.owner}'s block ${want.block}: BIRD did not learn it`,
      );
      continue;
    }
    if (bird.gateway !== want.via || bird.dev !== want.dev) {
      problems.push(`${want.owner}'s block ${want.block} goes via ${bird.gateway ?? '(no gateway)'} dev ${bird.dev}, expected via ${want.via} dev ${want.dev} (${want.viaNode})`);
      continue;
    }
    routed++;
  }
  let holes = 0;
  for (const block of e.blackholes) {
    if (o.routes.some((r) => r.dst === block && r.type === 'blackhole' && r.protocol === 'bird')) holes++;
    else problems.push(`no blackhole for ${e.node}'s own block ${block} (proto bird)`);
  }
  const parts = [
    ...(e.sessions.length ? [`${established}/${e.sessions.length} sessions Established`] : []),
    ...(e.routes.length ? [`${routed}/${e.routes.length} blocks routed by BIRD`] : []),
    ...(e.blackholes.length ? [`${holes}/${e.blackholes.length} blackholes`] : []),
  ];
  const seen = `${e.node}: ${o.birdc.ok ? parts.join(', ') || 'nothing to check' : 'BIRD not running'}`;
  return problems.length ? { status: 'fail', seen, reason: problems.slice(0, 3).join('; ') + (problems.length > 3 ? ` (+${problems.length - 3} more)` : ''), problems } : { status: 'pass', seen, problems };
}
