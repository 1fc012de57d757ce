// Replays a trace recorded from a real lab (test/fixtures/trace/<name>/, made by record.mjs):
// the kernels' state before and after, each capture's pcap, the probe and the route answers.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResolvedLab } from '../../src/plan/resolved-lab.js';
import { parseSnapshot, type ContainerState } from '../../src/trace/kernel-snapshot.js';
import type { CaptureOutput, CapturePoint } from '../../src/trace/capture-session.js';
import type { RouteDecision } from '../../src/trace/route-get.js';
import type { TraceResult } from '../../src/trace/trace-result.js';
import { analyseLive, analyseStatic, probeShape, walkWithKernel, type TraceAnalysis, type ProbeFacts } from '../../src/trace/analyse.js';
import { TraceWorld, nsKey } from '../../src/trace/trace-world.js';
import type { ServiceWitness } from '../../src/trace/service-hop.js';
import type { WalkResult } from '../../src/trace/predict-path.js';

export interface TraceFixture {
  lab: ResolvedLab;
  from: string;
  to: string;
  reply: boolean;
  before: Record<string, string>;
  after: Record<string, string>;
  probe: { proto: 'icmp' | 'udp' | 'tcp'; marker?: string; srcPort?: number; dstPort?: number; target: string };
  kernelRoutes: [string, RouteDecision][];
  captures: (CapturePoint & { file: string })[];
  listened: CapturePoint[];
  result: TraceResult;
  /** Through a Service: the translating node's rule-level trace and conntrack. */
  witness?: ServiceWitness;
}

const dir = (name: string) => fileURLToPath(new URL(`../fixtures/trace/${name}/`, import.meta.url));

export function loadTraceFixture(name: string): TraceFixture {
  return JSON.parse(readFileSync(`${dir(name)}trace.json`, 'utf8')) as TraceFixture;
}

function nodeOf(lab: ResolvedLab, container: string): string {
  if (container === lab.underlay.switchContainer) return 'switch';
  return [...lab.hosts, ...lab.externals].find((n) => n.container === container)!.name;
}

export function containerStates(lab: ResolvedLab, texts: Record<string, string>): ContainerState[] {
  return Object.entries(texts).map(([container, text]) => parseSnapshot(nodeOf(lab, container), container, text));
}

export function fixtureOutputs(name: string, f: TraceFixture): CaptureOutput[] {
  return f.captures.map((c) => ({ point: { ns: c.ns, container: c.container, ...(c.netns ? { netns: c.netns } : {}), iface: c.iface }, bytes: new Uint8Array(readFileSync(`${dir(name)}${c.file}`)) }));
}

export function fixtureProbe(f: TraceFixture): ProbeFacts {
  return {
    proto: f.probe.proto,
    length: f.probe.proto === 'tcp' ? 60 : 84,
    ...(f.probe.marker ? { marker: new Uint8Array(Buffer.from(f.probe.marker, 'hex')) } : {}),
    ...(f.probe.srcPort !== undefined ? { srcPort: f.probe.srcPort } : {}),
    ...(f.probe.dstPort !== undefined ? { dstPort: f.probe.dstPort } : {}),
  };
}

export function fromNsOf(f: TraceFixture): string {
  const [node, pod] = f.from.split('/');
  return nsKey(node!, pod);
}

/** The live analysis of the recorded trace. */
export function replayLive(name: string): TraceAnalysis {
  const f = loadTraceFixture(name);
  const before = containerStates(f.lab, f.before);
  const afterTexts = { ...f.before, ...f.after };
  return analyseLive({
    lab: f.lab,
    from: f.from,
    to: f.to,
    fromNs: fromNsOf(f),
    dst: f.probe.target,
    probe: fixtureProbe(f),
    before,
    after: containerStates(f.lab, afterTexts),
    outputs: fixtureOutputs(name, f),
    points: f.listened,
    kernel: new Map(f.kernelRoutes),
    options: { reply: f.reply },
    probeStderr: '',
    ...(f.witness ? { witness: f.witness } : {}),
  });
}

/** The static analysis on the state read before the probe (with the kernel's route answers). */
export function replayStatic(name: string, options: { withKernel?: boolean; edit?: (states: ContainerState[]) => void } = {}): TraceAnalysis {
  const f = loadTraceFixture(name);
  const states = containerStates(f.lab, f.before);
  options.edit?.(states);
  const world = new TraceWorld(f.lab, states);
  const kernel = new Map(options.withKernel === false ? [] : f.kernelRoutes);
  const probe = fixtureProbe(f);
  const walk = walkWithKernel(world, fromNsOf(f), f.probe.target, probeShape(probe), kernel);
  // to a Service with several endpoints: one walk per endpoint, as the CLI does
  const walks: WalkResult[] = [walk];
  const step = walk.service;
  if (step?.kind === 'dnat') for (let choice = 1; choice < step.of; choice++) walks.push(walkWithKernel(world, fromNsOf(f), f.probe.target, probeShape(probe), kernel, choice));
  return analyseStatic(world, f.lab, f.from, f.to, probe, walks, { reply: f.reply }, kernel);
}
