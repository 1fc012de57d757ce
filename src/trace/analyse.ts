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
import type { TraceHop, TraceOptions, TraceResult } from './trace-result.js';

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

export function walkWithKernel(world: TraceWorld, from: string, dst: string, shape: ProbeShape, kernel: Map<string, RouteDecision>): WalkResult {
  return predictPath({ world, from, dst, probe: shape, kernelRoutes: kernel });
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
  const destNs = world.ownerOfIp(dst)?.ns;
  const staticWalk = walkWithKernel(world, fromNs, dst, shape, kernel);
  const afterWalk = walkWithKernel(afterWorld, fromNs, dst, shape, kernel);

  // Ties in time are broken by where each hop sits on its leg's predicted path.
  const sourceIp = staticWalk.observations[0]?.packet.ipv4?.src;
  const replyWalk = destNs && sourceIp ? walkWithKernel(world, destNs, sourceIp, shape, kernel) : undefined;
  const rank = (walk: WalkResult | undefined, s: Sighting) => {
    const i = walk?.observations.findIndex((o) => o.node === s.node && o.iface === s.iface && o.direction === s.direction) ?? -1;
    if (i >= 0) return i;
    const j = points.findIndex((p) => p.ns === s.node && p.iface === s.iface);
    return 1000 + (j < 0 ? points.length : j);
  };
  const order = (s: Sighting) => rank(s.role === 'reply' ? replyWalk : staticWalk, s);
  const ports = {
    vxlanPorts: [...new Set([8472, 4789, ...lab.networks.filter((n) => n.backend === 'vxlan').map((n) => n.port)])],
    flannelUdpPorts: [...new Set([8285, ...lab.networks.filter((n) => n.backend === 'udp').map((n) => n.port)])],
  };
  const sightings = correlate(world, outputs, { proto: probe.proto, ...(probe.marker ? { marker: probe.marker } : {}), ...(probe.srcPort ? { srcPort: probe.srcPort } : {}), ...(probe.dstPort ? { dstPort: probe.dstPort } : {}), target: dst }, ports, order);
  const astraySightings = sightings.filter((s) => s.role === 'request' && isAstray(world, s));
  const requests = sightings.filter((s) => s.role === 'request' && !astraySightings.includes(s));
  const replies = sightings.filter((s) => s.role === 'reply');
  const errors = sightings.filter((s) => s.role === 'error');
  const listenErrors = outputs.filter((o) => o.error).map((o) => o.error!);
  const localError = requests.length === 0 ? localProbeError(probeStderr, input.probeExitCode) : undefined;
  const verdict = liveVerdict({ world: afterWorld, from: fromNs, ...(destNs ? { destNs } : {}), requests, errors, before: before.containers, after: after.containers, walk: afterWalk, ...(localError ? { localError } : {}) });

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
  if (staticWalk.delivered !== verdict.delivered || (!verdict.delivered && staticWalk.drop && verdict.drop && staticWalk.drop.node !== verdict.drop.node)) {
    disagreement = `live and static disagree: the tables predicted ${dropSummary(staticWalk)}, but the probe ${verdict.delivered ? 'was delivered' : `stopped at ${verdict.drop?.node}:${verdict.drop?.iface}`}`;
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
  };
  return { result, facts: [...request.facts, ...reply.facts], packets };
}

export function analyseStatic(world: TraceWorld, lab: ResolvedLab, from: string, to: string, probe: ProbeFacts, walk: WalkResult, options: Pick<TraceOptions, 'reply'>, kernel: Map<string, RouteDecision>): TraceAnalysis {
  const request = buildHops(world, 'request', walk.observations, 1, walk.delivered ? walk.deliveredIn : undefined);
  let reply = { hops: [] as TraceHop[], facts: [] as ChangeFact[][] };
  let replied: boolean | undefined;
  const lastIp = walk.observations.at(-1)?.packet;
  const seenSrc = lastIp ? (lastIp.inner?.ipv4 ?? lastIp.ipv4)?.src : undefined;
  if (options.reply && walk.delivered && walk.deliveredIn && seenSrc) {
    const back = predictPath({ world, from: walk.deliveredIn, dst: seenSrc, probe: probeShape(probe), kernelRoutes: kernel });
    reply = buildHops(world, 'reply', back.observations, request.hops.length + 1, back.deliveredIn);
    replied = back.delivered;
  }
  const first = walk.observations[0]?.packet.ipv4?.src ?? '?';
  const result: TraceResult = {
    lab: lab.name,
    from,
    to,
    probe: describeProbe(probe, first, walk.observations[0]?.packet.ipv4?.dst ?? to),
    mode: 'static',
    delivered: walk.delivered,
    hops: [...request.hops, ...reply.hops],
    astray: [],
    ...(walk.drop ? { drop: walk.drop } : {}),
    durationUs: 0,
    ...(replied !== undefined ? { replied } : {}),
  };
  return { result, facts: [...request.facts, ...reply.facts], packets: [] };
}

function astrayWords(node: string, iface: string, direction: string): string {
  if (direction === 'out') return `flooded: ${node} did not know where the destination MAC was, so ${iface} got a copy`;
  return `ignored: the frame is not addressed to ${node}:${iface}`;
}
