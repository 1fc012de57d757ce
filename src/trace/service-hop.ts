// The hop where a Service's address became a pod's, told as a trace tells it: which Service,
// which node's rules, how they choose ("one of 3 endpoints, probability 0.3333 each"), which
// chain rewrote the destination, why the flow is masqueraded — and, for a live trace, what the
// kernel showed: the rule-level trace of the translating node (`nft monitor trace`), the DNAT
// rule's counter, conntrack's entry for the probe's flow. Pure.
import { grownRules, parseIptablesSave } from './iptables-rules.js';
import type { ContainerState } from './kernel-snapshot.js';
import type { NatEntry } from './predict-path.js';
import type { ServiceStep } from './service-translation.js';
import type { TraceHop, TraceService } from './trace-result.js';
import type { ChangeFact } from './change-facts.js';
import type { TraceWorld } from './trace-world.js';
import { nsKey } from './trace-world.js';
import { dnatDestination, dnatEvent, dropEvent, parseTrace, type TraceJourney } from './nft-trace.js';
import { describeFlow, parseConntrack, type ConntrackEntry } from './conntrack-entries.js';

const at = (ip: string, port?: number) => (port === undefined ? ip : `${ip}:${port}`);

/** "0.3333" — the share each endpoint gets, as a person reads it. */
export function share(p: number): string {
  return p.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}

function ownerOf(world: TraceWorld, destination: string): string | undefined {
  const ip = destination.split(':')[0]!;
  const name = world.ipName(ip);
  return name === ip ? undefined : name;
}

/** What the rules say, from the walk's step (and its NAT entry for the frontend). */
export function serviceHop(world: TraceWorld, step: ServiceStep, nat: NatEntry | undefined, asked: { dst: string; dport?: number; proto: string }, live?: { chosen?: string }): TraceService {
  if (step.kind === 'refused') {
    const r = step.refused;
    return {
      name: r.name ?? at(asked.dst, asked.dport),
      frontend: r.address === undefined ? `NodePort ${r.port}/${r.protocol}` : `${r.address}:${r.port}/${r.protocol}`,
      node: step.ns,
      mode: step.mode,
      endpoints: [],
      refused: r.rule,
      evidence: [`${step.ns}: ${r.rule}`],
    };
  }
  const s = step.service;
  const original = nat?.original ?? { src: '?', dst: asked.dst, ...(asked.dport !== undefined ? { dport: asked.dport } : {}) };
  const frontend = step.via === 'nodePort' ? `NodePort ${original.dport}/${s.protocol} on ${original.dst}` : `${at(original.dst, original.dport)}/${s.protocol}`;
  const first = step.mode === 'iptables' ? (step.via === 'nodePort' ? 'KUBE-NODEPORTS' : 'KUBE-SERVICES') : step.via === 'nodePort' ? 'service-nodeports' : 'service-ips';
  const endpoints = s.endpoints.map((e) => ({ destination: e.destination, ...(ownerOf(world, e.destination) ? { owner: ownerOf(world, e.destination)! } : {}), chain: e.chain, probability: e.probability }));
  const equal = endpoints.every((e) => Math.abs(e.probability - endpoints[0]!.probability) < 1e-6);
  const choice = endpoints.length === 1 ? 'its one endpoint' : equal ? `one of ${endpoints.length} endpoints, probability ${share(endpoints[0]!.probability)} each` : `one of ${endpoints.length} endpoints (${endpoints.map((e) => share(e.probability)).join(', ')})`;
  // live: the endpoint the kernel chose (unknown if nothing showed it); static: the walk's
  const chosen = live ? s.endpoints.find((e) => e.destination === live.chosen) : step.endpoint;
  const evidence = [
    `${step.ns}: ${first} → ${s.chain} (${s.name ?? frontend}: ${choice})${chosen ? ` → ${chosen.chain} → DNAT to ${chosen.destination}` : ''}`,
    ...(step.why ? [`${step.ns}: marked for masquerade (${step.mode === 'iptables' ? 'KUBE-MARK-MASQ' : 'mark-for-masquerade'}): ${step.why}${step.masquerade ? '' : ` — but ${step.ns}'s KUBE-POSTROUTING has no MASQUERADE rule: the mark changes nothing, the source stays`}`] : []),
  ];
  return {
    name: s.name ?? frontend,
    frontend,
    node: step.ns,
    mode: step.mode,
    endpoints,
    ...(chosen ? { chosen: chosen.destination } : {}),
    ...(step.why && step.masquerade ? { masquerade: step.why } : {}),
    evidence,
  };
}

/** What the kernel showed while the probe went through: its raw outputs. */
export interface ServiceWitness {
  /** `nft -a monitor` output of the translating node while the probe went through. */
  nftTrace?: string;
  /** `conntrack -L` of the translating node after the probe. */
  conntrack?: string;
  /** Why the rule-level trace could not run, when it could not. */
  error?: string;
}

/** The journey of the probe's first packet in the node's rule-level trace. */
function probeJourney(journeys: TraceJourney[], flow: { src: string; sport?: number; proto: string }): TraceJourney | undefined {
  return journeys.find((j) => j.first.saddr === flow.src && j.first.protocol === flow.proto && (flow.sport === undefined || j.first.sport === flow.sport));
}

/** The conntrack entry of the probe's flow (the request as the node first saw it). */
export function probeFlow(entries: ConntrackEntry[], flow: { src: string; sport?: number; proto: string }): ConntrackEntry | undefined {
  return entries.find((e) => e.protocol === flow.proto && e.original.src === flow.src && (flow.sport === undefined || e.original.sport === flow.sport));
}

/** Evidence lines for the translating node, from a live trace. */
export function liveServiceEvidence(service: TraceService, witness: ServiceWitness, flow: { src: string; sport?: number; proto: string }, before: ContainerState[], after: ContainerState[]): { evidence: string[]; chosen?: string } {
  const lines: string[] = [];
  let chosen: string | undefined;
  const node = service.node;
  if (witness.nftTrace !== undefined) {
    const journey = probeJourney(parseTrace(witness.nftTrace), flow);
    if (journey) {
      const dnat = dnatEvent(journey);
      const refused = dropEvent(journey);
      // the Service's way: the nat chains that chose and rewrote, and any refusal
      const natChain = (e: { table: string; chain: string }) => e.table === 'nat' || (e.table === 'kube-proxy' && !e.chain.startsWith('filter-'));
      const decisive = (e: { rule?: string; verdict?: string }) => /\b(dnat|reject|drop)\b/.test(e.rule ?? '') || e.verdict === 'drop';
      const rules = journey.events.filter((e) => e.kind === 'rule' && e.verdict !== 'continue' && ((natChain(e) && /^(jump|goto|accept)\b/.test(e.verdict ?? '')) || decisive(e)));
      for (const e of rules) {
        const rule = (e.rule ?? '').replace(/\bcounter packets \d+ bytes \d+ ?/g, '').trim();
        lines.push(`${node}: nft trace: ${e.family} ${e.table} ${e.chain}: ${rule}${e.handle !== undefined ? ` # handle ${e.handle}` : ''}${e.verdict ? ` (verdict ${e.verdict})` : ''}`);
      }
      if (dnat) chosen = dnatDestination(dnat);
      if (!dnat && !refused && rules.length === 0) lines.push(`${node}: nft trace: the probe met no Service rule`);
    } else lines.push(`${node}: nft trace: the probe's packet was not seen by ${node}'s hooks`);
  } else if (witness.error) lines.push(`${node}: no rule-level trace: ${witness.error}`);
  // iptables mode: the DNAT rule (or the REJECT) counts the new flow
  const b = before.find((c) => nsKey(c.node, undefined) === node)?.namespaces.find((n) => n.netns === undefined);
  const a = after.find((c) => nsKey(c.node, undefined) === node)?.namespaces.find((n) => n.netns === undefined);
  if (a && b && service.mode === 'iptables') {
    for (const g of grownRules(parseIptablesSave(b.iptables), parseIptablesSave(a.iptables))) {
      if ((g.rule.target === 'DNAT' && g.rule.chain.startsWith('KUBE-SEP-')) || (g.rule.target === 'REJECT' && g.rule.chain === 'KUBE-SERVICES') || g.rule.target === 'KUBE-MARK-MASQ') {
        lines.push(`${node}: counter ${g.before} → ${g.after}: ${g.rule.text}`);
        if (!chosen && g.rule.target === 'DNAT') chosen = /--to-destination (\S+)/.exec(g.rule.text)?.[1];
      }
    }
  }
  if (witness.conntrack !== undefined) {
    const entry = probeFlow(parseConntrack(witness.conntrack), flow);
    if (entry) lines.push(`${node}: conntrack: ${describeFlow(entry)}${entry.state ? ` (${entry.state})` : ''}`);
    else if (!service.refused) lines.push(`${node}: conntrack holds no entry for ${flow.proto} ${at(flow.src, flow.sport)}`);
  }
  return { evidence: lines, ...(chosen ? { chosen } : {}) };
}

/** The words of the hops where the Service acted: the DNAT names its chain and the choice; on
 * the way back, the source becoming the Service's address again is conntrack's un-DNAT. */
export function annotateServiceHops(hops: TraceHop[], facts: ChangeFact[][], service: TraceService): void {
  const endpoint = service.endpoints.find((e) => e.destination === service.chosen);
  const choice = service.endpoints.length > 1 ? `, one of ${service.endpoints.length} endpoints` : '';
  const frontAddress = service.frontend.startsWith('NodePort') ? undefined : service.frontend.split('/')[0];
  hops.forEach((hop, i) => {
    if (!hop.change) return;
    for (const f of facts[i] ?? []) {
      if (hop.leg === 'request' && f.kind === 'dnat') {
        const by = endpoint ? ` by ${endpoint.chain}` : '';
        hop.change = hop.change.replace(`destination rewritten: ${f.from} → ${f.to}`, `destination rewritten: ${f.from} → ${f.to}${by} (Service ${service.name}${choice}, ${service.node}'s ${service.mode} rules)`);
      }
      if (hop.leg === 'reply' && f.kind === 'snat' && (frontAddress === undefined || f.to === frontAddress || f.to.startsWith(`${frontAddress.split(':')[0]}`))) {
        hop.change = hop.change.replace(`masqueraded: source ${f.from} → ${f.to}`, `un-DNAT: conntrack gave the answer the Service's address back (source ${f.from} → ${f.to})`);
      }
      if (hop.leg === 'reply' && f.kind === 'dnat') {
        hop.change = hop.change.replace(`destination rewritten: ${f.from} → ${f.to}`, `un-masqueraded: conntrack sent the answer to the client again (destination ${f.from} → ${f.to})`);
      }
    }
  });
}
