// The pure heart of a trace: from what the kernels said before and after and what each capture
// saw, the hops in order with what changed at each, the verdict with its evidence, and where the
// live probe and the tables disagree. traceLab() gathers the inputs; unit tests replay real ones.
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { ContainerState } from './kernel-snapshot.js';
import { TraceWorld } from './trace-world.js';
import { predictPath, type ProbeShape, type WalkResult } from './predict-path.js';
import type { RouteDecision } from './route-get.js';
import type { CaptureOutput, CapturePoint } from './capture-session.js';
import { localProbeError, type Probe } from './probe.js';
import { correlate, isAstray, type Sighting } from './correlate.js';
import { buildHops, type TimedObservation } from './hops.js';
import { liveVerdict } from './verdict.js';
import type { ChangeFact } from './change-facts.js';
import type { TraceBranch, TraceDrop, TraceHop, TraceOptions, TraceResult, TraceService } from './trace-result.js';
import { annotateServiceHops, liveServiceEvidence, serviceHop, type ServiceWitness } from './service-hop.js';
import { parseConntrack } from './conntrack-entries.js';
import { probeOf } from './change-facts.js';

/** One captured copy of the probe at a hop: what `--pcap` writes. */
export interface HopPacket {
  hop: TraceHop;
  linkType: number;
  data: Uint8Array;
  length: number;
  tsNs: bigint;
}

export interface TraceAnalysis {
  result: TraceResult;
  /** Per hop, the change facts (for --format minimal). */
  facts: ChangeFact[][];
  packets: HopPacket[];
}

/** What the probe is, as far as the analysis cares (the argv is irrelevant here). */
export type ProbeFacts = Pick<Probe, 'proto' | 'length' | 'marker' | 'srcPort' | 'dstPort'>;

export interface LiveAnalysisInput {
  lab: ResolvedLab;
  from: string;
  to: string;
  fromNs: string;
  dst: string;
  probe: ProbeFacts;
  before: ContainerState[];
  after: ContainerState[];
  outputs: CaptureOutput[];
  points: CapturePoint[];
  kernel: Map<string, RouteDecision>;
  options: Pick<TraceOptions, 'reply'>;
  probeStderr: string;
  probeExitCode?: number;
  /** Through a Service: what the translating node showed (rule-level trace, conntrack). */
  witness?: ServiceWitness;
}

export function probeShape(probe: ProbeFacts): ProbeShape {
  return {
    proto: probe.proto,
    length: probe.length,
    df: true,
    ...(probe.srcPort !== undefined ? { srcPort: probe.srcPort } : {}),
    ...(probe.dstPort !== undefined ? { dstPort: probe.dstPort } : {}),
  };
}

function describeProbe(probe: ProbeFacts, src: string, dst: string): string {
  if (probe.proto === 'icmp') return `icmp echo ${src} → ${dst}, ${probe.length} bytes`;
  return `${probe.proto} ${src}:${probe.srcPort} → ${dst}:${probe.dstPort}, ${probe.length} bytes`;
}

export function walkWithKernel(world: TraceWorld, from: string, dst: string, shape: ProbeShape, kernel: Map<string, RouteDecision>, choice?: number): WalkResult {
  return predictPath({ world, from, dst, probe: shape, kernelRoutes: kernel, ...(choice !== undefined ? { choice } : {}) });
}

/** The answer's walk: from where the request arrived back to its source as last seen; after a
 * Service's translation, with conntrack's entry (which undoes it) and the ports swapped. */
function replyWalk(world: TraceWorld, walk: WalkResult, probe: ProbeFacts, kernel: Map<string, RouteDecision>, from: string, to: string): WalkResult {
  const nat = walk.nat;
  const shape = probeShape(probe);
  if (!nat) return predictPath({ world, from, dst: to, probe: shape, kernelRoutes: kernel });
  const t = nat.translated;
  const swapped = { ...shape, ...(t.dport !== undefined ? { srcPort: t.dport } : {}), ...(t.sport !== undefined ? { dstPort: t.sport } : {}) };
  return predictPath({ world, from, dst: t.src, probe: swapped, kernelRoutes: kernel, conntrack: nat });
}

function dropSummary(walk: { delivered: boolean; drop?: { node: string; iface: string; reason: string } }): string {
  return walk.delivered ? 'delivery' : `a drop at ${walk.drop?.node}:${walk.drop?.iface} (${walk.drop?.reason})`;
}

export function analyseLive(input: LiveAnalysisInput): TraceAnalysis {
  const { lab, from, to, fromNs, dst, probe, kernel, options, points, outputs, probeStderr } = input;
  const before = { containers: input.before };
  const after = { containers: input.after };
  const shape = probeShape(probe);
  const world = new TraceWorld(lab, input.before);
  const afterWorld = new TraceWorld(lab, input.after);
  let staticWalk = walkWithKernel(world, fromNs, dst, shape, kernel);
  let afterWalk = walkWithKernel(afterWorld, fromNs, dst, shape, kernel);
  // Through a Service, the walks follow the endpoint the kernel chose (its rule-level trace or
  // the DNAT counter says which), so live and static compare like with like.
  const asked = { dst, ...(probe.dstPort !== undefined ? { dport: probe.dstPort } : {}), proto: probe.proto };
  const flow = { src: staticWalk.observations[0]?.packet.ipv4?.src ?? '?', ...(probe.srcPort !== undefined ? { sport: probe.srcPort } : {}), proto: probe.proto };
  const first = staticWalk.service;
  const witnessed = first ? liveServiceEvidence(serviceHop(world, first, staticWalk.nat, asked, {}), input.witness ?? {}, flow, input.before, input.after) : undefined;
  const follow = (chosen: string | undefined) => {
    const index = first?.kind === 'dnat' && chosen ? first.service.endpoints.findIndex((e) => e.destination === chosen) : -1;
    if (index > 0) {
      staticWalk = walkWithKernel(world, fromNs, dst, shape, kernel, index);
      afterWalk = walkWithKernel(afterWorld, fromNs, dst, shape, kernel, index);
    }
  };
  follow(witnessed?.chosen);
  const step = staticWalk.service;
  const dnat = step?.kind === 'dnat' ? step : undefined;
  let destNs = dnat ? staticWalk.deliveredIn : world.ownerOfIp(dst)?.ns;

  // Ties in time are broken by where each hop sits on its leg's predicted path.
  const sourceIp = staticWalk.observations[0]?.packet.ipv4?.src;
  const backWalk = destNs && sourceIp ? replyWalk(world, staticWalk, probe, kernel, destNs, sourceIp) : undefined;
  const rank = (walk: WalkResult | undefined, s: Sighting) => {
    const i = walk?.observations.findIndex((o) => o.node === s.node && o.iface === s.iface && o.direction === s.direction) ?? -1;
    if (i >= 0) return i;
    const j = points.findIndex((p) => p.ns === s.node && p.iface === s.iface);
    return 1000 + (j < 0 ? points.length : j);
  };
  const order = (s: Sighting) => rank(s.role === 'reply' ? backWalk : staticWalk, s);
  const ports = {
    vxlanPorts: [...new Set([8472, 4789, ...lab.networks.filter((n) => n.backend === 'vxlan').map((n) => n.port)])],
    flannelUdpPorts: [...new Set([8285, ...lab.networks.filter((n) => n.backend === 'udp').map((n) => n.port)])],
  };
  // Through a Service the destination becomes an endpoint's, and a masquerade may pick a new
  // source port (conntrack says which).
  const endpointDestinations = dnat ? dnat.service.endpoints.map((e) => e.destination) : [];
  const endpointIps = endpointDestinations.map((d) => d.split(':')[0]!);
  const masqueradedPorts = input.witness?.conntrack
    ? parseConntrack(input.witness.conntrack)
        .filter((e) => e.protocol === probe.proto && e.original.sport === probe.srcPort && e.reply.dport !== undefined && e.reply.dport !== probe.srcPort)
        .map((e) => e.reply.dport!)
    : [];
  const natIdentity = dnat
    ? { dstPortsAfterNat: [...new Set(endpointDestinations.map((d) => Number(d.split(':')[1])))], srcPortsAfterNat: masqueradedPorts, targetsAfterNat: endpointIps }
    : {};
  const sightings = correlate(world, outputs, { proto: probe.proto, ...(probe.marker ? { marker: probe.marker } : {}), ...(probe.srcPort ? { srcPort: probe.srcPort } : {}), ...(probe.dstPort ? { dstPort: probe.dstPort } : {}), target: dst, ...natIdentity }, ports, order);
  const astraySightings = sightings.filter((s) => s.role === 'request' && isAstray(world, s));
  const requests = sightings.filter((s) => s.role === 'request' && !astraySightings.includes(s));
  const replies = sightings.filter((s) => s.role === 'reply');
  const errors = sightings.filter((s) => s.role === 'error');
  const listenErrors = outputs.filter((o) => o.error).map((o) => o.error!);
  const localError = requests.length === 0 ? localProbeError(probeStderr, input.probeExitCode) : undefined;
  if (dnat) {
    // the endpoint this probe reached, as the captures saw it
    const endpointNs = endpointIps.map((ip) => world.ownerOfIp(ip)?.ns);
    destNs = requests.find((s) => s.direction === 'in' && endpointNs.includes(s.node))?.node ?? destNs;
  }
  let verdict = liveVerdict({ world: afterWorld, from: fromNs, ...(destNs ? { destNs } : {}), requests, errors, before: before.containers, after: after.containers, walk: afterWalk, ...(localError ? { localError } : {}) });

  let service: TraceService | undefined;
  let predicted: { delivered: boolean; drop?: TraceDrop } = staticWalk;
  if (step && witnessed) {
    const seen = requests.map((s) => probeOf(s.packet)).find((p) => p.ipv4 && endpointIps.includes(p.ipv4.dst));
    const seenPort = seen ? (seen.tcp?.dstPort ?? seen.udp?.dstPort) : undefined;
    const chosen = witnessed.chosen ?? (seen?.ipv4 ? `${seen.ipv4.dst}${seenPort !== undefined ? `:${seenPort}` : ''}` : undefined);
    if (!witnessed.chosen) follow(chosen);
    service = serviceHop(world, step, staticWalk.nat, asked, chosen ? { chosen } : {});
    service.evidence = [...service.evidence, ...witnessed.evidence];
    // the tables' word includes the answer: one that would skip the un-DNAT fails the request
    const back = staticWalk.delivered && staticWalk.deliveredIn && staticWalk.nat ? replyWalk(world, staticWalk, probe, kernel, staticWalk.deliveredIn, staticWalk.nat.translated.src) : undefined;
    if (back?.undone === false && back.drop) predicted = { delivered: false, drop: back.drop };
    if (dnat && verdict.delivered) {
      const skipped = skippedUndnat(world, fromNs, dst, probe, replies, service, staticWalk);
      if (skipped) verdict = { delivered: false, drop: skipped };
    }
  }

  const t0 = requests[0]?.tsNs ?? sightings[0]?.tsNs ?? 0n;
  const timed = (list: Sighting[]): TimedObservation[] => list.map((s) => ({ ...s, atNs: s.tsNs - t0 }));
  const request = buildHops(world, 'request', timed(requests), 1, verdict.delivered ? destNs : undefined);
  const reply = options.reply && replies.length ? buildHops(world, 'reply', timed(replies), request.hops.length + 1, fromNs) : { hops: [], facts: [] };
  const hops = [...request.hops, ...reply.hops];
  const astray = buildHops(world, 'request', timed(astraySightings), 0).hops.map((h) => ({ ...h, n: 0, change: astrayWords(h.node, h.iface, h.direction) }));
  const packets: HopPacket[] = [...requests, ...(options.reply ? replies : [])].map((s, i) => ({ hop: hops[i]!, linkType: s.linkType, data: s.data, length: s.length, tsNs: s.tsNs }));
  const srcSeen = requests[0] ? requests[0].packet : undefined;
  const srcIp = srcSeen ? (srcSeen.inner?.ipv4 ?? srcSeen.ipv4)?.src ?? '?' : '?';

  let disagreement: string | undefined;
  if (predicted.delivered !== verdict.delivered || (!verdict.delivered && predicted.drop && verdict.drop && predicted.drop.node !== verdict.drop.node)) {
    disagreement = `live and static disagree: the tables predicted ${dropSummary(predicted)}, but the probe ${verdict.delivered ? 'was delivered' : `stopped at ${verdict.drop?.node}:${verdict.drop?.iface}`}`;
  }
  const last = request.hops.at(-1);
  const result: TraceResult = {
    lab: lab.name,
    from,
    to,
    probe: describeProbe(probe, srcIp, dst),
    mode: 'live',
    delivered: verdict.delivered,
    hops,
    astray,
    ...(verdict.drop ? { drop: verdict.drop } : {}),
    durationUs: last?.atUs ?? 0,
    ...(listenErrors.length ? { listenErrors } : {}),
    ...(disagreement ? { disagreement } : {}),
    ...(options.reply ? { replied: replies.some((s) => s.node === fromNs && s.direction === 'in') } : {}),
    ...(service ? { service } : {}),
    ...(lab.engines && lab.engines.length > 1 ? { clocks: clocksAcrossEngines(lab.engines.map((e) => e.name)) } : {}),
  };
  const facts = [...request.facts, ...reply.facts];
  if (service) annotateServiceHops(hops, facts, service);
  return { result, facts, packets };
}

/** The answer reached the client from the pod's own address: nothing undid the DNAT on its way
 * (a reply bridged past a node whose bridge does not call iptables), so the client refuses it. */
function skippedUndnat(world: TraceWorld, fromNs: string, dst: string, probe: ProbeFacts, replies: Sighting[], service: TraceService, walk: WalkResult): TraceDrop | undefined {
  const back = replies.find((s) => s.node === fromNs && s.direction === 'in');
  const answer = back ? probeOf(back.packet) : undefined;
  const src = answer?.ipv4?.src;
  if (!back || !src || src === dst) return undefined;
  const port = answer.tcp?.srcPort ?? answer.udp?.srcPort;
  const from = world.ipName(src);
  const node = walk.nat?.ns ?? service.node;
  const value = world.ns(node).state.sysctls['net.bridge.bridge-nf-call-iptables'];
  const evidence = [
    `${fromNs}:${back.iface}: the answer's source is ${src}${port !== undefined ? `:${port}` : ''}${from !== src ? ` (${from})` : ''}, the probe asked ${dst}${probe.dstPort !== undefined ? `:${probe.dstPort}` : ''}`,
    `${node}: net.bridge.bridge-nf-call-iptables = ${value ?? '(absent: br_netfilter not loaded)'}`,
    ...service.evidence.filter((e) => e.includes('conntrack')),
  ];
  return {
    node: fromNs,
    iface: back.iface,
    reason: `the answer skipped the un-DNAT: it came back from ${src}${from !== src ? ` (${from})` : ''}, not from the Service's ${dst} — ${value === '1' ? 'it went past' : `${node}'s bridge does not hand bridged frames to iptables, so it bypassed`} ${node}'s conntrack, and ${fromNs} refuses an answer it never asked for`,
    evidence,
  };
}

interface StaticLeg {
  hops: TraceHop[];
  facts: ChangeFact[][];
  delivered: boolean;
  drop?: TraceDrop;
  replied?: boolean;
}

/** One walk as hops; the answer is walked too when asked for, and always after a Service's
 * translation (an answer that skips the un-DNAT is a failure of the request). */
function staticLeg(world: TraceWorld, probe: ProbeFacts, walk: WalkResult, options: Pick<TraceOptions, 'reply'>, kernel: Map<string, RouteDecision>): StaticLeg {
  const request = buildHops(world, 'request', walk.observations, 1, walk.delivered ? walk.deliveredIn : undefined);
  let reply = { hops: [] as TraceHop[], facts: [] as ChangeFact[][] };
  let replied: boolean | undefined;
  let delivered = walk.delivered;
  let drop = walk.drop;
  const lastIp = walk.observations.at(-1)?.packet;
  const seenSrc = lastIp ? (lastIp.inner?.ipv4 ?? lastIp.ipv4)?.src : undefined;
  if ((options.reply || walk.nat) && walk.delivered && walk.deliveredIn && seenSrc) {
    const back = replyWalk(world, walk, probe, kernel, walk.deliveredIn, seenSrc);
    if (options.reply) {
      reply = buildHops(world, 'reply', back.observations, request.hops.length + 1, back.deliveredIn);
      replied = back.delivered;
    }
    if (walk.nat && back.undone === false && back.drop) {
      delivered = false;
      drop = back.drop;
    }
  }
  return { hops: [...request.hops, ...reply.hops], facts: [...request.facts, ...reply.facts], delivered, ...(drop ? { drop } : {}), ...(replied !== undefined ? { replied } : {}) };
}

/** A static trace: one walk, or to a Service with several endpoints one walk per endpoint (the
 * first is the trace's hops, all are its branches). */
export function analyseStatic(world: TraceWorld, lab: ResolvedLab, from: string, to: string, probe: ProbeFacts, walks: WalkResult | WalkResult[], options: Pick<TraceOptions, 'reply'>, kernel: Map<string, RouteDecision>): TraceAnalysis {
  const all = Array.isArray(walks) ? walks : [walks];
  const walk = all[0]!;
  const legs = all.map((w) => staticLeg(world, probe, w, options, kernel));
  const leg = legs[0]!;
  const first = walk.observations[0]?.packet.ipv4?.src ?? '?';
  const asked = walk.observations[0]?.packet.ipv4?.dst ?? to;
  const service = walk.service ? serviceHop(world, walk.service, walk.nat, { dst: asked, ...(probe.dstPort !== undefined ? { dport: probe.dstPort } : {}), proto: probe.proto }) : undefined;
  const branches: TraceBranch[] | undefined =
    service && all.length > 1
      ? all.map((w, i) => {
          const step = w.service?.kind === 'dnat' ? w.service : undefined;
          const destination = step?.endpoint.destination ?? '?';
          const owner = service.endpoints.find((e) => e.destination === destination)?.owner;
          const l = legs[i]!;
          if (service.endpoints.length) annotateServiceHops(l.hops, l.facts, { ...service, chosen: destination });
          return { endpoint: destination, ...(owner ? { owner } : {}), probability: step?.endpoint.probability ?? 0, delivered: l.delivered, hops: l.hops, ...(l.drop ? { drop: l.drop } : {}), ...(l.replied !== undefined ? { replied: l.replied } : {}) };
        })
      : undefined;
  if (service && !branches) annotateServiceHops(leg.hops, leg.facts, service);
  // to a Service, the trace holds when every endpoint's walk does
  const failing = branches?.find((b) => !b.delivered);
  const verdict = failing
    ? { delivered: false, drop: failing.drop ? { ...failing.drop, reason: `towards ${failing.endpoint}${failing.owner ? ` (${failing.owner})` : ''}: ${failing.drop.reason}` } : leg.drop }
    : { delivered: leg.delivered, drop: leg.drop };
  const result: TraceResult = {
    lab: lab.name,
    from,
    to,
    probe: describeProbe(probe, first, asked),
    mode: 'static',
    delivered: verdict.delivered,
    hops: leg.hops,
    astray: [],
    ...(verdict.drop ? { drop: verdict.drop } : {}),
    durationUs: 0,
    ...(leg.replied !== undefined ? { replied: leg.replied } : {}),
    ...(service ? { service } : {}),
    ...(branches ? { branches } : {}),
  };
  return { result, facts: leg.facts, packets: [] };
}

function astrayWords(node: string, iface: string, direction: string): string {
  if (direction === 'out') return `flooded: ${node} did not know where the destination MAC was, so ${iface} got a copy`;
  return `ignored: the frame is not addressed to ${node}:${iface}`;
}

/** How a live trace across engines shows its times: each capture is stamped by the kernel of the
 * engine machine it ran on, and overlab does not compare machines' clocks. */
export function clocksAcrossEngines(engines: string[]): string {
  return `times across engines: each hop is stamped by the clock of the machine of its engine (${engines.join(', ')}), and the µs are counted from the first sighting; overlab does not synchronise or correct those clocks, so between hops on different engines the µs — and, when the offset exceeds the real gap, their order — include the machines' clock offset (none when the engines share one machine's clock, as on a test rig)`;
}
