// What a `service` check observes, in a running lab: where the requests go (the ClusterIP, or
// the NodePort on a host), the rules the translating node holds for it (read back from the
// kernel, iptables-save -c or nft -j), the requests themselves (the ask probe, N new flows in a
// row, bounded inside the container), the DNAT counters that grew, and conntrack's flows.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab } from '../plan/resolved-lab.js';
import type { LabReferences } from '../lab/lab-references.js';
import { inputError } from '../base/errors.js';
import { LabPartMissing } from '../lab/lab-part-missing.js';
import { inEndpoint } from '../probes/endpoint.js';
import { bounded } from '../plan/process-argv.js';
import { ASK_JS, findService, NODE, podByRef } from '../plan/service-plan.js';
import { parseAskOutput } from '../shared/pod-reply.js';
import { frontendFor, programmedFromIptables, programmedFromNftJson, type ProgrammedRules } from '../trace/programmed-services.js';
import { parseIptablesSave } from '../trace/iptables-rules.js';
import { describeFlow, parseConntrack } from '../trace/conntrack-entries.js';
import type { ServiceObservation } from './service-verdict.js';

export interface ServiceCheckSpec {
  from: string;
  /** The Service as the spec names it: "web", "web:http", "ns/web:http". */
  to: string;
  via: 'clusterIP' | 'nodePort';
  /** via nodePort: the host whose address is used. */
  node?: string;
  requests: number;
  expect: 'balanced' | 'refused';
}

/** How long one request may wait for its answer. */
export const REQUEST_TIMEOUT_MS = 1000;

/** Where the requests go and which node's rules translate them. */
export function serviceTarget(lab: ResolvedLab, spec: Pick<ServiceCheckSpec, 'from' | 'to' | 'via' | 'node'>): { address: string; port: number; protocol: 'tcp' | 'udp'; node: ResolvedHost } {
  const { service, port } = findService(lab, spec.to);
  const protocol = port.protocol === 'UDP' ? 'udp' : 'tcp';
  if (spec.via === 'nodePort') {
    const node = lab.hosts.find((h) => h.name === (spec.node ?? lab.hosts[0]?.name));
    if (!node) throw inputError(`no host "${spec.node}" in lab ${lab.name}`);
    if (port.nodePort === undefined) throw inputError(`Service ${service.name} is ${service.type}: it has no NodePort`, 'use via: clusterIP, or make it type: NodePort');
    return { address: node.underlayIp, port: port.nodePort, protocol, node };
  }
  const fromNode = spec.from.split('/')[0]!;
  const node = lab.hosts.find((h) => h.name === fromNode);
  if (!node) throw inputError(`${spec.from} is not on a host: only the cluster's hosts and pods reach a ClusterIP`, 'from an outside node, use via: nodePort');
  return { address: service.clusterIP, port: port.port, protocol, node };
}

/** The Services a node's kernel holds, in its mode's form. */
export async function readProgrammed(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, signal?: AbortSignal): Promise<{ rules: ProgrammedRules; text: string }> {
  const nft = lab.services?.proxyMode === 'nftables';
  const argv = nft ? ['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'] : ['iptables-save', '-c'];
  const r = await runtime.exec(host.container, argv, signal ? { signal } : {});
  if (r.exitCode !== 0) {
    if (nft) return { rules: { mode: 'nftables', services: [], refused: [] }, text: '' };
    throw new LabPartMissing(`reading ${host.name}'s rules failed: ${r.stderr.trim()}`);
  }
  return { rules: nft ? programmedFromNftJson(r.stdout) : programmedFromIptables(r.stdout), text: r.stdout };
}

/** Packets each DNAT rule counted between two iptables-save -c of the same node, by chain. */
export function dnatGrowth(before: string, after: string): Record<string, number> {
  const b = parseIptablesSave(before);
  const a = parseIptablesSave(after);
  const out: Record<string, number> = {};
  for (const rule of a.rules) {
    if (rule.table !== 'nat' || !rule.chain.startsWith('KUBE-SEP-') || rule.target !== 'DNAT') continue;
    const was = b.rules.find((r) => r.table === 'nat' && r.text === rule.text)?.packets ?? 0;
    out[rule.chain] = rule.packets - was;
  }
  return out;
}

export async function observeService(runtime: ContainerRuntime, lab: ResolvedLab, names: LabReferences, spec: ServiceCheckSpec, signal?: AbortSignal): Promise<ServiceObservation> {
  const target = serviceTarget(lab, spec);
  const { service, port } = findService(lab, spec.to);
  const expected = service.endpoints.flatMap((ref) => {
    const pod = podByRef(lab, ref);
    return pod ? [`${pod.ip}:${port.targetPort}`] : [];
  });
  const source = names.endpoint(spec.from);
  const before = await readProgrammed(runtime, lab, target.node, signal);
  const frontend = frontendFor(before.rules, target.address, target.port, target.protocol, [target.node.underlayIp]);
  const budgetMs = Math.min(30_000, Math.max(5_000, spec.requests * 50));
  const ask = bounded(
    [NODE, ASK_JS, '--to', `${target.address}:${target.port}`, '--protocol', target.protocol, '--count', String(spec.requests), '--timeout-ms', String(REQUEST_TIMEOUT_MS), '--budget-ms', String(budgetMs)],
    budgetMs / 1000 + REQUEST_TIMEOUT_MS / 1000 + 3,
  );
  const asked = await runtime.exec(source.container, inEndpoint(source, ask), signal ? { signal } : {});
  if (asked.exitCode !== 0 && asked.stdout.trim() === '') throw new LabPartMissing(`the probe in ${spec.from} did not run: ${asked.stderr.trim() || `exit ${asked.exitCode}`}`);
  const results = parseAskOutput(asked.stdout);
  const [after, conntrack] = await Promise.all([
    before.rules.mode === 'iptables' ? readProgrammed(runtime, lab, target.node, signal) : Promise.resolve(undefined),
    runtime.exec(target.node.container, ['conntrack', '-L', '-p', target.protocol, '--orig-dst', target.address, '--orig-port-dst', String(target.port)], signal ? { signal } : {}),
  ]);
  // This run's flows (by the probe's own source ports), an unanswered one first: it shows where
  // the translation sent what never came back.
  const locals = new Map(results.flatMap((r) => (r.local ? [[Number(r.local.split(':')[1]), r] as const] : [])));
  const mine = parseConntrack(conntrack.stdout).filter((f) => f.original.sport !== undefined && locals.has(f.original.sport));
  mine.sort((a, b) => Number(Boolean(locals.get(a.original.sport!)?.reply)) - Number(Boolean(locals.get(b.original.sport!)?.reply)));
  const flows = mine.slice(0, 3).map(describeFlow);
  const pods = Object.fromEntries(lab.hosts.flatMap((h) => h.pods.map((p) => [p.ip, `${h.name}/${p.name}`])));
  return {
    target: `${target.address}:${target.port}`,
    protocol: target.protocol,
    node: target.node.name,
    mode: before.rules.mode,
    ...(frontend ? { frontend } : {}),
    results,
    ...(after ? { counted: dnatGrowth(before.text, after.text) } : {}),
    flows,
    requested: spec.requests,
    pods,
    expected,
  };
}
