// Which of a lab's nodes are running, from one listing of each of its engines: a check or a fault
// that needs a node that is gone or stopped is refused with this sentence, never judged on missing
// evidence. On a lab across engines, an engine that does not answer is no listing at all: its
// nodes are neither running nor gone, and what needs them cannot be judged (the `engine` said).
import type { ContainerRuntime, ContainerSummary } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LABEL_LAB, LABEL_NODE } from '../plan/container-names.js';
import { RoutedRuntime } from '../runtime/routed-runtime.js';
import { OverlabError } from '../base/errors.js';

/** Why a node cannot be relied on. */
export interface Unavailable {
  /** One sentence: what is wrong with it. */
  reason: string;
  /** Set when the node's engine does not answer: nothing about the node can be known. */
  engine?: string;
}

/** Nodes of the lab that are not running (or cannot be reached), with why. */
export type NodeAvailability = ReadonlyMap<string, Unavailable>;

/** An engine of the lab that did not answer its listing. */
export interface LostEngine {
  engine: string;
  endpoint: string;
  why: string;
}

/** Pure: every node of the lab that is not running, from what the reachable engines listed; the
 * nodes on a lost engine say that engine does not answer. */
export function availability(lab: ResolvedLab, listed: ContainerSummary[], lost: readonly LostEngine[] = []): NodeAvailability {
  const state = new Map(listed.map((c) => [c.labels[LABEL_NODE] ?? '', c.state]));
  const primary = lab.engines?.[0]?.name;
  const out = new Map<string, Unavailable>();
  for (const node of [...lab.hosts, ...lab.externals]) {
    const gone = lost.find((l) => l.engine === (node.engine ?? primary));
    const s = state.get(node.name);
    if (gone && s === undefined) out.set(node.name, { reason: `could not reach engine ${gone.engine} (${gone.endpoint}), where ${node.name} runs: ${gone.why}`, engine: gone.engine });
    else if (s === undefined) out.set(node.name, { reason: `${node.name} (container ${node.container}) is gone from the lab` });
    else if (s !== 'running') out.set(node.name, { reason: `${node.name} (container ${node.container}) is ${s}, not running` });
  }
  return out;
}

/** The lab's containers on every engine that answers, and the engines that do not. */
export async function listAcrossEngines(runtime: ContainerRuntime, lab: ResolvedLab): Promise<{ listed: ContainerSummary[]; lost: LostEngine[] }> {
  const filter = { [LABEL_LAB]: lab.name };
  if (!(runtime instanceof RoutedRuntime) || runtime.named.length < 2 || !lab.engines?.length) return { listed: await runtime.list(filter), lost: [] };
  // Through the routed runtime (it learns where each container is), one engine at a time.
  const lists = await Promise.allSettled(runtime.named.map((e) => e.runtime.list(filter).then((found) => (runtime.learnFrom(found, e.name), found))));
  const lost: LostEngine[] = [];
  lists.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    if (r.reason instanceof OverlabError && r.reason.kind === 'interrupted') throw r.reason;
    const e = runtime.named[i]!;
    lost.push({ engine: e.name, endpoint: e.runtime.endpoint, why: r.reason instanceof Error ? r.reason.message.split('\n')[0]! : String(r.reason) });
  });
  return { listed: lists.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])), lost };
}

/** Every node of the lab that is not running or not reachable, with a sentence saying so. */
export async function unavailableNodes(runtime: ContainerRuntime, lab: ResolvedLab): Promise<NodeAvailability> {
  const { listed, lost } = await listAcrossEngines(runtime, lab);
  return availability(lab, listed, lost);
}
