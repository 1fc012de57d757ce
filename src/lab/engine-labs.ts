// What labs exist on the engine, found by label; what each one is (its model, in its switch) and
// whether it is whole.
import type { ContainerRuntime, ContainerSummary } from '../runtime/runtime.js';
import { LABEL_FINGERPRINT, LABEL_LAB, LABEL_NODE, LABEL_ROLE, LABEL_RUN, LABEL_SPEC, LABEL_UNDERLAY, SWITCH_NODE, switchContainerName } from '../plan/container-names.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { environmentError } from '../base/errors.js';
import { isValidCidr } from '../shared/ipv4.js';
import { loadLabModel, readCompletion } from './lab-files.js';
import { labState, type LabState } from './lab-state.js';
import { engineLockKey, lockHolder } from './lab-lock.js';
import { measureLabHealth } from './lab-health.js';
import { labNotUpError } from './lab-not-up.js';
import { labView, primaryRuntime, RoutedRuntime } from '../runtime/routed-runtime.js';
import { locateLab, requirePrimary } from './lab-discovery.js';

export interface LabNode {
  name: string;
  role: string;
  container: string;
  state: string;
}

export interface LabSummary {
  name: string;
  specFile: string;
  underlay: string;
  nodes: LabNode[];
  running: number;
  /** The switch's labels: the fingerprint and run id of the `up` that built it. */
  fingerprint?: string;
  run?: string;
  containers: ContainerSummary[];
}

/** Pure: containers grouped into labs by their labels. */
export function groupLabs(containers: ContainerSummary[]): LabSummary[] {
  const labs = new Map<string, LabSummary>();
  for (const c of containers) {
    const name = c.labels[LABEL_LAB];
    if (!name) continue;
    let lab = labs.get(name);
    if (!lab) {
      lab = { name, specFile: c.labels[LABEL_SPEC] ?? '', underlay: c.labels[LABEL_UNDERLAY] ?? '', nodes: [], running: 0, containers: [] };
      labs.set(name, lab);
    }
    lab.containers.push(c);
    lab.nodes.push({ name: c.labels[LABEL_NODE] ?? c.name, role: c.labels[LABEL_ROLE] ?? '', container: c.name, state: c.state });
    if (c.state === 'running') lab.running++;
    if (c.labels[LABEL_NODE] === SWITCH_NODE) {
      const fingerprint = c.labels[LABEL_FINGERPRINT];
      const run = c.labels[LABEL_RUN];
      if (fingerprint) lab.fingerprint = fingerprint;
      if (run) lab.run = run;
    }
  }
  for (const lab of labs.values()) lab.nodes.sort((a, b) => a.name.localeCompare(b.name));
  return [...labs.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export async function listLabs(runtime: ContainerRuntime): Promise<LabSummary[]> {
  return groupLabs(await runtime.list({ [LABEL_LAB]: true }));
}

/** The lab's containers on its primary engine (found from any engine of it: lab-discovery.ts). */
export async function findLab(runtime: ContainerRuntime, name: string): Promise<LabSummary | undefined> {
  await requirePrimary(runtime, name);
  return groupLabs(await primaryRuntime(runtime).list({ [LABEL_LAB]: name }))[0];
}

export interface OpenLab {
  summary: LabSummary;
  model?: ResolvedLab;
  state: LabState;
}

export interface OpenOptions {
  /** false: skip the lock (a caller holding the lab's lock itself would find itself). */
  holder?: boolean;
  /** Also measure the running nodes of a finished lab (lab-health.ts): restarts, cables,
   * etcd's data. `ls`, `up` and `verify` do; a read command needs only what exists. */
  measure?: boolean;
}

/** A lab's model, completion marker and lock, read together, and its running nodes measured
 * when asked. */
export async function openLab(runtime: ContainerRuntime, found: LabSummary, options: OpenOptions = {}): Promise<OpenLab> {
  let summary = found;
  const switchContainer = switchContainerName(summary.name);
  // Seen from an engine of the lab that is not its primary: reach the primary (or say why not).
  const where = summary.containers.some((c) => c.name === switchContainer) ? { kind: 'here' as const } : await locateLab(runtime, summary.name, { found: summary.containers });
  if (where.kind === 'unreachable') {
    return { summary, state: { status: 'degraded', detail: `${where.error.message} (${summary.containers.length} of its containers are on ${where.from})`, missing: [], stopped: [], extra: [], problems: [] } };
  }
  if (where.kind === 'elsewhere') summary = groupLabs(await primaryRuntime(runtime).list({ [LABEL_LAB]: summary.name }))[0] ?? summary;
  const hasSwitch = summary.containers.some((c) => c.name === switchContainer);
  const [model, marker, holder] = await Promise.all([
    hasSwitch ? loadLabModel(runtime, switchContainer) : undefined,
    hasSwitch ? readCompletion(runtime, switchContainer) : undefined,
    options.holder === false ? undefined : engineLockKey(runtime).then((engine) => lockHolder(engine, summary.name)),
  ]);
  // A lab across engines: its model named the others (now reachable); look at every engine.
  let lost: { engine: string; endpoint: string; why: string }[] = [];
  if (model?.engines && model.engines.length > 1 && runtime instanceof RoutedRuntime && runtime.named.length > 1) {
    const across = await Promise.allSettled(runtime.named.map(async (e) => ({ name: e.name, found: await e.runtime.list({ [LABEL_LAB]: summary.name }) })));
    const found = across.flatMap((r) => (r.status === 'fulfilled' ? r.value.found : []));
    lost = runtime.named.flatMap((e, i) => {
      const r = across[i]!;
      return r.status === 'rejected' ? [{ engine: e.name, endpoint: e.runtime.endpoint, why: r.reason instanceof Error ? r.reason.message : String(r.reason) }] : [];
    });
    summary = groupLabs(found)[0] ?? summary;
  }
  const input = { containers: summary.containers, ...(model ? { model } : {}), ...(marker ? { marker } : {}), ...(holder ? { holder } : {}), ...(lost.length ? { lost } : {}) };
  let state = labState(input);
  if (options.measure && model && (state.status === 'complete' || state.status === 'degraded')) {
    state = labState({ ...input, health: await measureLabHealth(runtime, model, summary.containers) });
  }
  return { summary, ...(model ? { model } : {}), state };
}

/** Every lab with its state, measured (for `ls`). */
export async function listLabStates(runtime: ContainerRuntime): Promise<OpenLab[]> {
  // Each lab in a view of its own: its model names its engines, which another lab may name otherwise.
  return Promise.all((await listLabs(runtime)).map((summary) => openLab(labView(runtime), summary, { measure: true })));
}

/** How to repair a degraded lab in place, as a command to type. */
export function repairHint(lab: string, specFile: string | undefined): string {
  return specFile ? `\`overlab up ${specFile}\` repairs it in place` : `\`overlab up <its spec>\` repairs it in place (\`overlab down ${lab}\` removes it)`;
}

/** How to rebuild a lab, as a command to type. */
export function rebuildHint(lab: string, specFile: string | undefined): string {
  return specFile ? `\`overlab up ${specFile} --recreate\`` : `\`overlab down ${lab}\` and \`overlab up <spec>\``;
}

export interface RequireOptions {
  /** Also hand out a lab that lost or stopped a node (inspect, node add|rm); never one that is
   * incomplete or still being built. */
  acceptDegraded?: boolean;
  /** The caller holds the lab's lock (do not report it as busy). */
  holdsLock?: boolean;
  /** Measure the running nodes (see OpenOptions.measure). */
  measure?: boolean;
}

/** The lab, open; or a clear error: not up (exit 2), not whole (exit 3). */
export async function requireLab(runtime: ContainerRuntime, name: string, options: RequireOptions = {}): Promise<OpenLab & { model: ResolvedLab }> {
  const summary = await findLab(runtime, name);
  if (!summary) throw await labNotUpError(name, async () => (await listLabs(runtime)).map((l) => l.name));
  const open = await openLab(runtime, summary, { holder: !options.holdsLock, ...(options.measure ? { measure: true } : {}) });
  const { state } = open;
  const rebuild = rebuildHint(name, summary.specFile);
  if (state.status === 'building') {
    throw environmentError(`lab "${name}" is still being built (${state.detail})`, 'wait until that `up` has finished; `overlab ls` shows the lab\'s state');
  }
  if (state.status === 'incomplete' || !open.model) {
    throw environmentError(`lab "${name}" is not whole: ${state.detail}`, `rebuild it with ${rebuild}, or remove it with \`overlab down ${name}\``);
  }
  if (state.status === 'degraded' && !options.acceptDegraded) {
    throw environmentError(`lab "${name}" is degraded: ${state.detail}`, `${repairHint(name, summary.specFile)}; \`overlab inspect ${name}\` shows what is left`);
  }
  return { ...open, model: open.model };
}

/** The resolved model of a lab that is up and whole, or a clear error. */
export async function requireRunningLab(runtime: ContainerRuntime, name: string, options: RequireOptions = {}): Promise<ResolvedLab> {
  return (await requireLab(runtime, name, options)).model;
}

/** Subnets other labs' underlays use, so a new lab picks a different one. The label holds one
 * CIDR, or several separated by commas (a routed underlay's segments); what is not a CIDR —
 * another overlab version may have written it — is left out rather than failing the new lab. */
export function underlaysInUse(labs: LabSummary[]): string[] {
  return labs.flatMap((l) => l.underlay.split(',')).map((s) => s.trim()).filter((s) => isValidCidr(s));
}

/** Containers of a lab's model that are gone or not running (a read command works around them). */
export function absentContainers(open: OpenLab & { model: ResolvedLab }): Set<string> {
  const running = new Set(open.summary.containers.filter((c) => c.state === 'running').map((c) => c.name));
  return new Set([open.model.underlay.switchContainer, ...open.model.hosts.map((h) => h.container), ...open.model.externals.map((e) => e.container)].filter((c) => !running.has(c)));
}

/** The container of a degraded lab that a command needs is gone or stopped: exit 3, saying which
 * node and how to repair it. */
export function requireContainerThere(open: OpenLab & { model: ResolvedLab }, container: string): void {
  const found = open.summary.containers.find((c) => c.name === container);
  if (found?.state === 'running') return;
  const node = [...open.model.hosts, ...open.model.externals].find((n) => n.container === container)?.name ?? SWITCH_NODE;
  const what = found ? `is ${found.state}, not running` : 'is missing (its container is gone)';
  throw environmentError(`${node} (container ${container}) ${what} in lab ${open.model.name}`, `${repairHint(open.model.name, open.summary.specFile)}; the other nodes answer: \`overlab inspect ${open.model.name}\``);
}
