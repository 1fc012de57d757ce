// `overlab trace`: one marked probe followed through a running lab. Read every container's
// kernel state, walk the path from the tables (that is the static trace), listen on every
// interface of that path and the places it could go astray, send the probe once, stop, read the
// counters again, and correlate the probe hop by hop; say where it died and why when it did.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LabNames } from '../checks/lab-names.js';
import { inEndpoint } from '../probes/endpoint.js';
import { inputError, interruptedError } from '../core/errors.js';
import { SWITCH_NODE } from '../plan/naming.js';
import { parseSnapshot, SNAPSHOT_SCRIPT, type ContainerState } from './kernel-snapshot.js';
import { nsKey, TraceWorld } from './trace-world.js';
import { predictPath, type ProbeShape, type WalkResult } from './predict-path.js';
import { parseRouteGetOutput, ROUTE_GET_SCRIPT, routeGetArgs, routeQueryKey, type RouteDecision, type RouteQuery } from './route-lookup.js';
import { planCaptures } from './capture-plan.js';
import { CaptureSession, type CapturePoint } from './capture-session.js';
import { buildProbe, localProbeError, type Probe } from './probe.js';
import { correlate, isAstray, type Sighting } from './correlate.js';
import { buildHops, type TimedObservation } from './hops.js';
import { liveVerdict } from './verdict.js';
import type { ChangeFact } from './change-facts.js';
import type { TraceHop, TraceOptions, TraceResult } from './model.js';

/** One captured copy of the probe at a hop: what `--pcap` writes. */
export interface HopPacket {
  hop: TraceHop;
  linkType: number;
  data: Uint8Array;
  length: number;
  tsNs: bigint;
}

export interface TraceRun {
  result: TraceResult;
  /** Per hop, the change facts (for --format minimal). */
  facts: ChangeFact[][];
  packets: HopPacket[];
  /** Interfaces listened on (live). */
  listened: CapturePoint[];
}

export const DEFAULT_TRACE_OPTIONS: TraceOptions = { proto: 'icmp', port: 5000, reply: false, static: false };

interface Snapshot {
  containers: ContainerState[];
}

function snapshotTargets(lab: ResolvedLab): { node: string; container: string; netns: string[] }[] {
  return [
    ...lab.hosts.map((h) => ({ node: h.name, container: h.container, netns: h.pods.map((p) => p.name) })),
    ...lab.externals.filter((e) => e.role !== 'etcd').map((e) => ({ node: e.name, container: e.container, netns: [] })),
    { node: SWITCH_NODE, container: lab.underlay.switchContainer, netns: [] },
  ];
}

async function readSnapshot(runtime: ContainerRuntime, lab: ResolvedLab, signal?: AbortSignal): Promise<Snapshot> {
  const containers = await Promise.all(
    snapshotTargets(lab).map(async (t) => {
      const r = await runtime.exec(t.container, ['sh', '-c', SNAPSHOT_SCRIPT, 'sh', ...t.netns], signal ? { signal } : {});
      return parseSnapshot(t.node, t.container, r.stdout);
    }),
  );
  return { containers };
}

/** Ask the kernel itself (`ip route get`) every routing decision the walk took, batched per container. */
async function askKernel(runtime: ContainerRuntime, world: TraceWorld, queries: RouteQuery[], known: Map<string, RouteDecision>): Promise<void> {
  const byContainer = new Map<string, RouteQuery[]>();
  for (const q of queries) {
    if (known.has(routeQueryKey(q))) continue;
    const view = world.ns(q.ns);
    if (!view.container) continue;
    const list = byContainer.get(view.container) ?? [];
    if (!list.some((x) => routeQueryKey(x) === routeQueryKey(q))) list.push(q);
    byContainer.set(view.container, list);
  }
  await Promise.all(
    [...byContainer].map(async ([container, list]) => {
      const args = routeGetArgs(list.map((q) => ({ ...(world.ns(q.ns).netns ? { netns: world.ns(q.ns).netns! } : {}), dst: q.dst, ...(q.src ? { src: q.src } : {}), ...(q.iif ? { iif: q.iif } : {}) })));
      const r = await runtime.exec(container, ['sh', '-c', ROUTE_GET_SCRIPT, 'sh', ...args]);
      parseRouteGetOutput(r.stdout).forEach((answer, i) => known.set(routeQueryKey(list[i]!), answer));
    }),
  );
}

function probeShape(probe: Probe): ProbeShape {
  return {
    proto: probe.proto,
    length: probe.length,
    df: true,
    ...(probe.srcPort !== undefined ? { srcPort: probe.srcPort } : {}),
    ...(probe.dstPort !== undefined ? { dstPort: probe.dstPort } : {}),
  };
}

function describeProbe(probe: Probe, src: string, dst: string): string {
  if (probe.proto === 'icmp') return `icmp echo ${src} → ${dst}, ${probe.length} bytes`;
  return `${probe.proto} ${src}:${probe.srcPort} → ${dst}:${probe.dstPort}, ${probe.length} bytes`;
}

function walkWithKernel(world: TraceWorld, from: string, dst: string, shape: ProbeShape, kernel: Map<string, RouteDecision>): WalkResult {
  return predictPath({ world, from, dst, probe: shape, kernelRoutes: kernel });
}

function dropSummary(walk: { delivered: boolean; drop?: { node: string; iface: string; reason: string } }): string {
  return walk.delivered ? 'delivery' : `a drop at ${walk.drop?.node}:${walk.drop?.iface} (${walk.drop?.reason})`;
}

export async function traceLab(runtime: ContainerRuntime, lab: ResolvedLab, from: string, to: string, options: TraceOptions, signal?: AbortSignal): Promise<TraceRun> {
  const names = new LabNames(lab);
  const source = names.endpoint(from);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(from)) throw inputError(`the probe starts at a lab node or pod, not at an address (${from})`, 'use <host>, <host>/<pod> or <node>');
  const fromNs = nsKey(from.split('/')[0]!, source.netns);
  const dst = names.probeTarget(to);
  const probe = buildProbe(dst, options);
  const shape = probeShape(probe);

  const before = await readSnapshot(runtime, lab, signal);
  if (signal?.aborted) throw interruptedError();
  const world = new TraceWorld(lab, before.containers);
  const destNs = world.ownerOfIp(dst)?.ns;
  const kernel = new Map<string, RouteDecision>();
  const first = walkWithKernel(world, fromNs, dst, shape, kernel);

  if (options.static) {
    await askKernel(runtime, world, first.queries, kernel);
    let walk = walkWithKernel(world, fromNs, dst, shape, kernel);
    await askKernel(runtime, world, walk.queries, kernel); // the kernel's answers may lead elsewhere
    walk = walkWithKernel(world, fromNs, dst, shape, kernel);
    return staticRun(world, lab, from, to, probe, walk, options, kernel);
  }

  const points = planCaptures(world, first, fromNs, destNs);
  const [session] = await Promise.all([CaptureSession.start(runtime, points), askKernel(runtime, world, first.queries, kernel)]);
  let probeStderr = '';
  try {
    if (signal?.aborted) throw interruptedError();
    const sent = await runtime.exec(source.container, inEndpoint(source, probe.argv), { ...(probe.stdin !== undefined ? { stdin: probe.stdin } : {}), ...(signal ? { signal } : {}) });
    probeStderr = sent.stderr;
  } catch (error) {
    await session.stop();
    throw error;
  }
  const targets = snapshotTargets(lab);
  const stopped = await session.stop((container) => targets.find((t) => t.container === container)?.netns ?? []);
  const outputs = stopped.outputs;
  const after: Snapshot = {
    containers: before.containers.map((c) => {
      const text = stopped.snapshots.get(c.container);
      return text === undefined ? c : parseSnapshot(c.node, c.container, text);
    }),
  };
  if (signal?.aborted) throw interruptedError();

  const staticWalk = walkWithKernel(world, fromNs, dst, shape, kernel);
  const afterWorld = new TraceWorld(lab, after.containers);
  await askKernel(runtime, afterWorld, walkWithKernel(afterWorld, fromNs, dst, shape, kernel).queries, kernel);
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
  const localError = requests.length === 0 ? localProbeError(probeStderr) : undefined;
  const verdict = liveVerdict({ world: afterWorld, from: fromNs, ...(destNs ? { destNs } : {}), requests, errors, before: before.containers, after: after.containers, walk: afterWalk, ...(localError ? { localError } : {}) });

  const t0 = requests[0]?.tsNs ?? sightings[0]?.tsNs ?? 0n;
  const timed = (list: Sighting[]): TimedObservation[] => list.map((s) => ({ ...s, atNs: s.tsNs - t0 }));
  const request = buildHops(world, 'request', timed(requests), 1, verdict.delivered ? destNs : undefined);
  const reply = options.reply && replies.length ? buildHops(world, 'reply', timed(replies), request.hops.length + 1, fromNs) : { hops: [], facts: [] };
  const hops = [...request.hops, ...reply.hops];
  const astray = buildHops(world, 'request', timed(astraySightings), 0).hops.map((h) => ({ ...h, n: 0, change: astrayWords(world, h.node, h.iface, h.direction) }));
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
    ...(disagreement ? { disagreement } : {}),
    ...(options.reply ? { replied: replies.some((s) => s.node === fromNs && s.direction === 'in') } : {}),
  };
  return { result, facts: [...request.facts, ...reply.facts], packets, listened: points };
}

function staticRun(world: TraceWorld, lab: ResolvedLab, from: string, to: string, probe: Probe, walk: WalkResult, options: TraceOptions, kernel: Map<string, RouteDecision>): TraceRun {
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
  return { result, facts: [...request.facts, ...reply.facts], packets: [], listened: [] };
}

function astrayWords(world: TraceWorld, node: string, iface: string, direction: string): string {
  if (direction === 'out') return `flooded: ${node} did not know where the destination MAC was, so ${iface} got a copy`;
  return `ignored: the frame is not addressed to ${node}:${iface}`;
}
