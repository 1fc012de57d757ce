// `overlab trace`: one marked probe followed through a running lab. Read every container's
// kernel state, walk the path from the tables (that is the static trace), listen on every
// interface of that path and the places it could go astray, send the probe once, stop, read the
// counters again, and correlate the probe hop by hop; say where it died and why when it did.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LabReferences } from '../lab/lab-references.js';
import { inEndpoint } from '../probes/endpoint.js';
import { environmentError, inputError, interruptedError, OverlabError } from '../base/errors.js';
import { ETCD_CLIENT_PORT } from '../plan/overlay.js';
import { parseSnapshot, SNAPSHOT_SCRIPT, snapshotArgs, type ContainerState } from './kernel-snapshot.js';
import { nsKey, TraceWorld } from './trace-world.js';
import { labSwitches } from '../plan/engine-placement.js';
import { parseRouteGetOutput, ROUTE_GET_SCRIPT, routeGetArgs, routeQueryKey, type RouteDecision, type RouteQuery } from './route-get.js';
import { planCaptures, plannedCaptures, plannedOwnerOfIp } from './capture-plan.js';
import { CaptureSession, type CapturePoint } from './capture-session.js';
import { buildProbe, type Probe } from './probe.js';
import { analyseLive, analyseStatic, probeShape, walkWithKernel, type TraceAnalysis } from './analyse.js';
import type { TraceOptions } from './trace-result.js';
import { bgpNetwork } from '../plan/bgp-plan.js';
import { agentRefusalEvidence, annotateHops, blockOwner, explainBgpDrop, nodeNamer, readBgpFacts } from './bgp-facts.js';
import { tolerated } from '../base/debug-log.js';
import { serviceTraceTarget } from './service-target.js';
import { WitnessSession } from './service-witness.js';
import type { ServiceWitness } from './service-hop.js';
import type { WalkResult } from './predict-path.js';

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
    /** Through a Service: the translating node's rule-level trace and conntrack. */
    witness?: ServiceWitness;
  };
}

export const DEFAULT_TRACE_OPTIONS: TraceOptions = { proto: 'icmp', port: 5000, reply: false, static: false };

interface Snapshot {
  containers: ContainerState[];
  texts: Record<string, string>;
}

/** Where kernel state is read; `absent`: containers of a degraded lab that are gone or stopped
 * (a trace reads and listens only where there is something). */
function snapshotTargets(lab: ResolvedLab, absent: ReadonlySet<string> = new Set()): { node: string; container: string; netns: string[] }[] {
  return ([
    ...lab.hosts.map((h) => ({ node: h.name, container: h.container, netns: h.pods.map((p) => p.name) })),
    ...lab.externals.filter((e) => e.role !== 'etcd').map((e) => ({ node: e.name, container: e.container, netns: [] })),
    ...labSwitches(lab).map((sw) => ({ node: sw.key, container: sw.container, netns: [] })),
  ] as { node: string; container: string; netns: string[] }[]).filter((t) => !absent.has(t.container));
}

/** Every container's kernel state; with `routes`, also the kernel's route answers a trace needs. */
function peersOf(lab: ResolvedLab): string[] {
  return [...lab.hosts, ...lab.externals.filter((e) => e.role !== 'etcd')].map((n) => n.underlayIp);
}

export async function readSnapshot(runtime: ContainerRuntime, lab: ResolvedLab, signal?: AbortSignal, routes?: { dst: string; src?: string }, skip: Set<string> = new Set()): Promise<Snapshot> {
  const texts: Record<string, string> = {};
  const peers = peersOf(lab);
  const containers = await Promise.all(
    snapshotTargets(lab, skip).map(async (t) => {
      const args = snapshotArgs(t.netns, routes ? { ...routes, peers } : undefined);
      const r = await runtime.exec(t.container, ['sh', '-c', SNAPSHOT_SCRIPT, 'sh', ...args], signal ? { signal } : {}).catch((error: unknown) => {
        if (error instanceof OverlabError) throw error;
        throw environmentError(`reading the kernel state of ${t.node} (${t.container}) failed: ${error instanceof Error ? error.message : String(error)}`, `is the lab whole? \`overlab ls\`; bring it up again with \`overlab down ${lab.name}\` and \`overlab up\``);
      });
      texts[t.container] = r.stdout;
      return parseSnapshot(t.node, t.container, r.stdout);
    }),
  );
  return { containers, texts };
}

/** The snapshots read by plain execs and those read beside the captures, in the lab's order. */
function mergeSnapshots(lab: ResolvedLab, read: Snapshot, beside: Map<string, string> | undefined, absent: ReadonlySet<string>): Snapshot {
  const texts = { ...read.texts, ...Object.fromEntries(beside ?? []) };
  const containers = snapshotTargets(lab, absent)
    .filter((t) => texts[t.container] !== undefined)
    .map((t) => read.containers.find((c) => c.container === t.container) ?? parseSnapshot(t.node, t.container, texts[t.container]!));
  return { containers, texts };
}

/** The etcd control plane talks all the time; its traffic is not what a trace looks for (unless
 * the probe itself goes to etcd's port). */
function captureFilter(probe: Probe): string | undefined {
  return probe.proto === 'tcp' && probe.dstPort === ETCD_CLIENT_PORT ? undefined : `not (tcp port ${ETCD_CLIENT_PORT})`;
}

/** The route answers the snapshots carry, keyed as the walk asks. */
function kernelAnswers(world: TraceWorld): Map<string, RouteDecision> {
  const known = new Map<string, RouteDecision>();
  for (const key of world.allKeys()) {
    for (const a of world.ns(key).state.routeAnswers) known.set(routeQueryKey({ ns: key, dst: a.dst, ...(a.src ? { src: a.src } : {}), ...(a.iif ? { iif: a.iif } : {}) }), a.answer);
  }
  return known;
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

export async function traceLab(runtime: ContainerRuntime, lab: ResolvedLab, from: string, to: string, options: TraceOptions, signal?: AbortSignal, absent: ReadonlySet<string> = new Set()): Promise<TraceRun> {
  const names = new LabReferences(lab);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(from)) throw inputError(`the probe starts at a lab node or pod, not at an address (${from})`, 'use <host>, <host>/<pod> or <node>');
  const source = names.endpoint(from);
  const fromNs = nsKey(from.split('/')[0]!, source.netns);
  const service = serviceTraceTarget(lab, to, options.port);
  const dst = service?.address ?? names.probeTarget(to);
  const probe = buildProbe(dst, options);
  const shape = probeShape(probe);

  const srcIp = names.ip(from.split(':')[0]!);
  const plannedDest = plannedOwnerOfIp(lab, dst);
  // A Service's endpoints, every one a place the probe may go (a NodePort's too: to a host).
  const endpointNs = serviceEndpointNs(lab, service?.service.endpoints ?? (plannedDest && !plannedDest.includes('/') ? nodePortEndpoints(lab, options.port) : []));
  // Listening starts while the kernels are read: the textbook path needs only the lab's plan.
  const early = options.static ? [] : plannedCaptures(lab, fromNs, plannedDest, endpointNs).filter((p) => !absent.has(p.container));
  // Where captures start, the same exec reads the kernel state; elsewhere a snapshot exec does.
  const routes = { dst, src: srcIp };
  const targets = snapshotTargets(lab, absent);
  const netnsOf = (container: string) => targets.find((t) => t.container === container)?.netns ?? [];
  const capturing = new Set(early.map((p) => p.container));
  const [read, listening] = await Promise.allSettled([
    readSnapshot(runtime, lab, signal, routes, new Set([...capturing, ...absent])),
    options.static
      ? Promise.resolve(undefined)
      : CaptureSession.start(runtime, early, captureFilter(probe), (container) => snapshotArgs(netnsOf(container), { ...routes, peers: peersOf(lab) })),
  ]);
  const sessions = listening.status === 'fulfilled' && listening.value ? [listening.value] : [];
  const stopAll = async () => {
    await Promise.all(sessions.map((s) => s.stop().catch(tolerated('trace', 'stop the captures after a failure'))));
  };
  if (read.status === 'rejected' || listening.status === 'rejected' || signal?.aborted) {
    await stopAll();
    if (read.status === 'rejected') throw read.reason;
    if (listening.status === 'rejected') throw listening.reason;
    throw interruptedError();
  }
  const before = mergeSnapshots(lab, read.value, listening.status === 'fulfilled' ? listening.value?.snapshots : undefined, absent);
  try {
    const run = await traceFrom(runtime, lab, { from, to, fromNs, dst, source, probe, shape, options, early, before, sessions, stopAll, endpointNs, absent }, signal);
    if (absent.size) {
      const nodes = [...lab.hosts, ...lab.externals, ...labSwitches(lab).map((sw) => ({ name: sw.key, container: sw.container }))];
      run.result.absent = [...absent].map((c) => `${nodes.find((n) => n.container === c)?.name ?? c} (container ${c}) is gone or stopped: nothing of it was read or heard`);
    }
    if (bgpNetwork(lab)) return await withBgpFacts(runtime, lab, run, dst, signal);
    if (run.result.drop && lab.underlay.segments) return await withAgentRefusals(runtime, lab, run, dst, signal);
    return run;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

interface TraceState {
  from: string;
  to: string;
  fromNs: string;
  dst: string;
  source: ReturnType<LabReferences['endpoint']>;
  probe: Probe;
  shape: ReturnType<typeof probeShape>;
  options: TraceOptions;
  early: CapturePoint[];
  before: Snapshot;
  sessions: CaptureSession[];
  stopAll: () => Promise<void>;
  endpointNs: string[];
  absent: ReadonlySet<string>;
}

/** "host2/web2" → the pod's namespace key. */
function serviceEndpointNs(lab: ResolvedLab, refs: string[]): string[] {
  return refs.flatMap((ref) => {
    const [host, pod] = ref.split('/');
    return lab.hosts.some((h) => h.name === host && h.pods.some((p) => p.name === pod)) ? [nsKey(host!, pod)] : [];
  });
}

/** To a host on a port that is some Service's NodePort: that Service's endpoints. */
function nodePortEndpoints(lab: ResolvedLab, port: number): string[] {
  return lab.services?.services.find((s) => s.ports.some((p) => p.nodePort === port))?.endpoints ?? [];
}

/** Static, to a Service with several endpoints: one walk per endpoint, each with the kernel's
 * route answers for its own decisions. */
async function serviceWalks(runtime: ContainerRuntime, world: TraceWorld, fromNs: string, dst: string, shape: ReturnType<typeof probeShape>, kernel: Map<string, RouteDecision>, first: WalkResult): Promise<WalkResult[]> {
  const step = first.service;
  if (step?.kind !== 'dnat' || step.of < 2) return [first];
  const walks = [first];
  for (let choice = 1; choice < step.of; choice++) {
    let walk = walkWithKernel(world, fromNs, dst, shape, kernel, choice);
    await askKernel(runtime, world, walk.queries, kernel);
    walk = walkWithKernel(world, fromNs, dst, shape, kernel, choice);
    walks.push(walk);
  }
  return walks;
}

/** The rest of a trace, once the kernels are read and the first captures listen. */
async function traceFrom(runtime: ContainerRuntime, lab: ResolvedLab, s: TraceState, signal?: AbortSignal): Promise<TraceRun> {
  const { from, to, fromNs, dst, source, probe, shape, options, early, before, sessions, stopAll, endpointNs, absent } = s;
  const world = new TraceWorld(lab, before.containers);
  const destNs = world.ownerOfIp(dst)?.ns;
  const kernel = kernelAnswers(world);
  const first = walkWithKernel(world, fromNs, dst, shape, kernel);

  if (options.static) {
    await askKernel(runtime, world, first.queries, kernel);
    let walk = walkWithKernel(world, fromNs, dst, shape, kernel);
    await askKernel(runtime, world, walk.queries, kernel); // the kernel's answers may lead elsewhere
    walk = walkWithKernel(world, fromNs, dst, shape, kernel);
    const walks = await serviceWalks(runtime, world, fromNs, dst, shape, kernel, walk);
    return { ...analyseStatic(world, lab, from, to, probe, walks, options, kernel), listened: [], raw: { before: before.texts, after: {}, captures: [], probe: rawProbe(probe, dst), kernelRoutes: [...kernel] } };
  }

  // The walk may lead where the textbook does not: listen there too before sending.
  const started = new Set(early.map((p) => `${p.ns}:${p.iface}`));
  const extra = planCaptures(world, first, fromNs, destNs, endpointNs).filter((p) => !started.has(`${p.ns}:${p.iface}`) && !absent.has(p.container));
  // Through a Service, the translating node's rule-level trace and conntrack are watched too.
  const translatingNode = first.service ? world.ns(first.service.ns).container : undefined;
  const translating = translatingNode && !absent.has(translatingNode) ? translatingNode : undefined;
  const [more, witness] = await Promise.all([
    extra.length ? CaptureSession.start(runtime, extra, captureFilter(probe), () => snapshotArgs([])) : Promise.resolve(undefined),
    translating && probe.proto !== 'icmp' && probe.srcPort !== undefined ? WitnessSession.start(runtime, translating, probe.proto, probe.srcPort) : Promise.resolve(undefined),
  ]);
  if (more) sessions.push(more);
  const points = [...early, ...extra];
  let probeStderr: string;
  let probeExitCode: number | undefined;
  try {
    if (signal?.aborted) throw interruptedError();
    const sent = await runtime.exec(source.container, inEndpoint(source, probe.argv), { ...(probe.stdin !== undefined ? { stdin: probe.stdin } : {}), ...(signal ? { signal } : {}) });
    probeStderr = sent.stderr;
    probeExitCode = sent.exitCode;
  } catch (error) {
    await stopAll();
    throw error;
  }
  const targets = snapshotTargets(lab, absent);
  const netnsOf = (container: string) => targets.find((t) => t.container === container)?.netns ?? [];
  const [stops, witnessed] = await Promise.all([Promise.all(sessions.map((s, i) => s.stop(i === 0 ? netnsOf : () => []))), witness?.stop()]);
  const stopped = { outputs: stops.flatMap((s) => s.outputs), snapshots: stops[0]?.snapshots ?? new Map<string, string>() };
  const outputs = stopped.outputs;
  const after: Snapshot = {
    containers: before.containers.map((c) => {
      const text = stopped.snapshots.get(c.container);
      return text === undefined ? c : parseSnapshot(c.node, c.container, text);
    }),
    texts: Object.fromEntries(stopped.snapshots),
  };
  if (signal?.aborted) throw interruptedError();

  const analysis = analyseLive({ lab, from, to, fromNs, dst, probe, before: before.containers, after: after.containers, outputs, points, kernel, options, probeStderr, probeExitCode, ...(witnessed ? { witness: witnessed } : {}) });
  const raw = {
    before: before.texts,
    after: after.texts,
    captures: outputs.map((o) => ({ point: o.point, bytes: o.bytes })),
    probe: rawProbe(probe, dst),
    kernelRoutes: [...kernel],
    ...(witnessed ? { witness: witnessed } : {}),
  };
  return { ...analysis, listened: points, raw };
}



/** A bgp lab's trace: the route each BGP hop used and from whom, and why BGP gave none where it died. */
async function withBgpFacts(runtime: ContainerRuntime, lab: ResolvedLab, run: TraceRun, dst: string, signal?: AbortSignal): Promise<TraceRun> {
  const r = run.result;
  const onPath = [...new Set(r.hops.map((h) => h.node.split('/')[0]!))];
  const owner = blockOwner(lab, dst)?.host;
  const died = r.drop?.node.split('/')[0];
  const facts = await readBgpFacts(runtime, lab, dst, [...onPath, ...(owner ? [owner] : [])], died ? [died] : [], signal);
  const nameOf = nodeNamer(lab);
  const hops = annotateHops(r.hops, facts, nameOf);
  if (!r.drop) return { ...run, result: { ...r, hops } };
  const why = explainBgpDrop(lab, { ...r.drop, node: died! }, dst, facts, nameOf);
  return { ...run, result: { ...r, hops, drop: { ...r.drop, evidence: [...why, ...r.drop.evidence] } } };
}

/** A dropped probe on a routed underlay with flannel's host-gw agents: the routes the kernel refused them. */
async function withAgentRefusals(runtime: ContainerRuntime, lab: ResolvedLab, run: TraceRun, dst: string, signal?: AbortSignal): Promise<TraceRun> {
  const r = run.result;
  const hosts = [...new Set(r.hops.map((h) => h.node.split('/')[0]!))];
  const why = await agentRefusalEvidence(runtime, lab, hosts, dst, signal);
  if (!why.length || !r.drop) return run;
  return { ...run, result: { ...r, drop: { ...r.drop, evidence: [...why, ...r.drop.evidence] } } };
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
