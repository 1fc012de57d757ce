// Is a lab whole? Pure: from its containers (by label), its model and completion marker (files in
// its switch), who holds its lock and — when measured (lab-health.ts) — what its running nodes
// lost (a restart, a cable, etcd's data), decide complete / degraded / building / incomplete, and
// say precisely what is missing, stopped, extra or broken.
import type { ContainerSummary } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LABEL_NODE, LABEL_RUN, SWITCH_NODE } from '../plan/container-names.js';
import type { CompletionMarker } from './lab-files.js';
import type { LockHolder } from './lab-lock.js';
import type { NodeProblem } from './lab-health.js';

export type LabStatus = 'complete' | 'degraded' | 'building' | 'incomplete';

export interface LabState {
  status: LabStatus;
  /** One sentence: what is wrong (or "every node is running"). */
  detail: string;
  /** Nodes the model has whose container is gone. */
  missing: string[];
  /** Nodes whose container exists but does not run, with the engine's state. */
  stopped: { node: string; state: string }[];
  /** Containers with the lab's label that are not in its model. */
  extra: string[];
  /** What running nodes lost since they were wired (when measured). */
  problems: NodeProblem[];
  /** Who is changing the lab right now, if anyone. */
  heldBy?: LockHolder;
  /** A lab across engines: the engines that did not answer (what is on them is unknown). */
  lostEngines?: { engine: string; endpoint: string; why: string }[];
}

export interface LabStateInput {
  containers: ContainerSummary[];
  /** Engines of a lab across engines that did not answer (their containers are unknown). */
  lost?: { engine: string; endpoint: string; why: string }[];
  model?: ResolvedLab;
  marker?: CompletionMarker;
  holder?: LockHolder;
  /** The running nodes as measured (lab-health.ts); absent: not measured. */
  health?: NodeProblem[];
}

/** Every node of a lab model with its container: the switch, hosts and other nodes. */
export function modelNodes(model: ResolvedLab): { node: string; container: string }[] {
  return [
    { node: SWITCH_NODE, container: model.underlay.switchContainer },
    // A lab across engines: one switch more per engine after the first.
    ...(model.engines ?? []).slice(1).map((e) => ({ node: `${SWITCH_NODE}-${e.name}`, container: e.switchContainer })),
    ...model.hosts.map((h) => ({ node: h.name, container: h.container })),
    ...(model.externals ?? []).map((e) => ({ node: e.name, container: e.container })),
  ];
}

const list = (items: string[]) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

function problems(missing: string[], stopped: LabState['stopped'], extra: string[]): string[] {
  const out: string[] = [];
  if (missing.length) out.push(`${list(missing)} ${missing.length === 1 ? 'is' : 'are'} missing`);
  for (const s of stopped) out.push(`${s.node} is ${s.state === 'exited' || s.state === 'created' ? 'stopped' : s.state} (${s.state})`);
  if (extra.length) out.push(`${list(extra)} ${extra.length === 1 ? 'is' : 'are'} not part of the lab's model`);
  return out;
}

export function labState({ containers, model, marker, holder, lost = [], health = [] }: LabStateInput): LabState {
  const byName = new Map(containers.map((c) => [c.name, c]));
  const lostEngines = new Set(lost.map((l) => l.engine));
  const onLost = new Set(
    model && lost.length
      ? [...(model.engines ?? []).filter((e) => lostEngines.has(e.name)).map((e) => e.switchContainer), ...[...model.hosts, ...(model.externals ?? [])].filter((n) => n.engine && lostEngines.has(n.engine)).map((n) => n.container)]
      : [],
  );
  // What is on an engine that does not answer is neither missing nor there: it is unreachable.
  const expected = model ? modelNodes(model).filter((n) => !onLost.has(n.container)) : [];
  const expectedNames = new Set(expected.map((n) => n.container));
  const missing = expected.filter((n) => !byName.has(n.container)).map((n) => n.node);
  const stopped = expected.flatMap((n) => {
    const c = byName.get(n.container);
    return c && c.state !== 'running' ? [{ node: n.node, state: c.state }] : [];
  });
  const extra = model ? containers.filter((c) => !expectedNames.has(c.name)).map((c) => c.labels[LABEL_NODE] ?? c.name) : [];
  const found = [...lost.map((l) => `engine ${l.engine} (${l.endpoint}) does not answer: ${list([...onLost].filter((c) => model && modelNodes(model).some((n) => n.container === c)).map((c) => modelNodes(model!).find((n) => n.container === c)!.node))} unreachable`), ...problems(missing, stopped, extra), ...health.map((p) => p.detail)];
  const base = { missing, stopped, extra, problems: health, ...(holder ? { heldBy: holder } : {}), ...(lost.length ? { lostEngines: lost } : {}) };
  const switchRun = model ? byName.get(model.underlay.switchContainer)?.labels[LABEL_RUN] : undefined;
  const finished = marker !== undefined && (switchRun === undefined || marker.run === switchRun);
  const building = (by: LockHolder): LabState => ({ status: 'building', detail: `being changed by pid ${by.pid} (\`${by.command}\`)`, ...base });

  if (!finished) {
    if (holder) return building(holder);
    const why = !model
      ? containers.some((c) => c.labels[LABEL_NODE] === SWITCH_NODE)
        ? 'an `up` did not finish: the switch holds no lab model'
        : 'an `up` did not finish: the switch container is missing'
      : 'an `up` did not finish: no completion marker';
    return { status: 'incomplete', detail: [why, ...found].join('; '), ...base };
  }
  if (!model) {
    // `node add|rm` rewrites the model holding the lock; the engine replaces the file (removes,
    // then writes it), so a read meanwhile may find it missing or short.
    if (holder) return building(holder);
    return { status: 'incomplete', detail: 'the switch\'s lab model is missing or unreadable', ...base };
  }
  if (found.length) return { status: 'degraded', detail: found.join('; '), ...base };
  return { status: 'complete', detail: `every node is running (${expected.length} containers)`, ...base };
}
