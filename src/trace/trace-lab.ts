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
import { parseRouteGetOutput, ROUTE_GET_SCRIPT, routeGetArgs, routeQueryKey, type RouteDecision, type RouteQuery } from './route-lookup.js';
import { planCaptures } from './capture-plan.js';
import { CaptureSession, type CapturePoint } from './capture-session.js';
import { buildProbe, type Probe } from './probe.js';
import { analyseLive, analyseStatic, probeShape, walkWithKernel, type TraceAnalysis } from './analyse.js';
import type { TraceOptions } from './model.js';

export type { HopPacket } from './analyse.js';

export interface TraceRun extends TraceAnalysis {
  /** Interfaces listened on (live). */
  listened: CapturePoint[];
  /** What the kernels and captures said, verbatim (for fixtures and debugging). */
  raw: {
    before: Record<string, string>;
    after: Record<string, string>;
    captures: { point: CapturePoint; bytes: Uint8Array }[];
    probe: { proto: string; marker?: string; srcPort?: number; dstPort?: number; target: string };
    kernelRoutes: [string, RouteDecision][];
  };
}

export const DEFAULT_TRACE_OPTIONS: TraceOptions = { proto: 'icmp', port: 5000, reply: false, static: false };

interface Snapshot {
  containers: ContainerState[];
  texts: Record<string, string>;
}

function snapshotTargets(lab: ResolvedLab): { node: string; container: string; netns: string[] }[] {
  return [
    ...lab.hosts.map((h) => ({ node: h.name, container: h.container, netns: h.pods.map((p) => p.name) })),
    ...lab.externals.filter((e) => e.role !== 'etcd').map((e) => ({ node: e.name, container: e.container, netns: [] })),
    { node: SWITCH_NODE, container: lab.underlay.switchContainer, netns: [] },
  ];
}

export async function readSnapshot(runtime: ContainerRuntime, lab: ResolvedLab, signal?: AbortSignal): Promise<Snapshot> {
  const texts: Record<string, string> = {};
  const containers = await Promise.all(
    snapshotTargets(lab).map(async (t) => {
      const r = await runtime.exec(t.container, ['sh', '-c', SNAPSHOT_SCRIPT, 'sh', ...t.netns], signal ? { signal } : {});
      texts[t.container] = r.stdout;
      return parseSnapshot(t.node, t.container, r.stdout);
    }),
  );
  return { containers, texts };
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
    return { ...analyseStatic(world, lab, from, to, probe, walk, options, kernel), listened: [], raw: { before: before.texts, after: {}, captures: [], probe: rawProbe(probe, dst), kernelRoutes: [...kernel] } };
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
    texts: Object.fromEntries(stopped.snapshots),
  };
  if (signal?.aborted) throw interruptedError();

  const analysis = analyseLive({ lab, from, to, fromNs, dst, probe, before: before.containers, after: after.containers, outputs, points, kernel, options, probeStderr });
  const raw = {
    before: before.texts,
    after: after.texts,
    captures: outputs.map((o) => ({ point: o.point, bytes: o.bytes })),
    probe: rawProbe(probe, dst),
    kernelRoutes: [...kernel],
  };
  return { ...analysis, listened: points, raw };
}



function rawProbe(probe: Probe, target: string): TraceRun['raw']['probe'] {
  return {
    proto: probe.proto,
    ...(probe.marker ? { marker: Buffer.from(probe.marker).toString('hex') } : {}),
    ...(probe.srcPort !== undefined ? { srcPort: probe.srcPort } : {}),
    ...(probe.dstPort !== undefined ? { dstPort: probe.dstPort } : {}),
    target,
  };
}
