// What labs exist on the engine, found by label only (DESIGN.md "Labels own everything").
import type { ContainerRuntime, ContainerSummary } from '../runtime/runtime.js';
import { LABEL_FINGERPRINT, LABEL_JOINED_HOST, LABEL_LAB, LABEL_NODE, LABEL_RESOLVED, LABEL_ROLE, LABEL_SPEC, LABEL_UNDERLAY } from '../plan/naming.js';
import type { ResolvedHost } from '../plan/resolved-lab.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { inputError } from './errors.js';
import { labNotUpError } from './lab-not-up.js';

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
  fingerprint?: string;
  resolved?: ResolvedLab;
}

export function groupLabs(containers: ContainerSummary[]): LabSummary[] {
  const labs = new Map<string, LabSummary>();
  for (const c of containers) {
    const name = c.labels[LABEL_LAB];
    if (!name) continue;
    let lab = labs.get(name);
    if (!lab) {
      lab = { name, specFile: c.labels[LABEL_SPEC] ?? '', underlay: c.labels[LABEL_UNDERLAY] ?? '', nodes: [], running: 0 };
      labs.set(name, lab);
    }
    lab.nodes.push({ name: c.labels[LABEL_NODE] ?? c.name, role: c.labels[LABEL_ROLE] ?? '', container: c.name, state: c.state });
    if (c.state === 'running') lab.running++;
    const resolved = c.labels[LABEL_RESOLVED];
    if (resolved) {
      try {
        lab.resolved = JSON.parse(resolved) as ResolvedLab;
      } catch {
        // A damaged label only costs verify/inspect their model; down still works by label.
      }
      const fingerprint = c.labels[LABEL_FINGERPRINT];
      if (fingerprint) lab.fingerprint = fingerprint;
    }
  }
  for (const lab of labs.values()) {
    lab.nodes.sort((a, b) => a.name.localeCompare(b.name));
    if (lab.resolved) lab.resolved = withMembership(lab.resolved, containers.filter((c) => c.labels[LABEL_LAB] === lab.name));
  }
  return [...labs.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The lab as it is now: hosts removed by `node rm` are gone, hosts added by `node add` are in. */
function withMembership(resolved: ResolvedLab, containers: ContainerSummary[]): ResolvedLab {
  const present = new Set(containers.map((c) => c.name));
  const joined: ResolvedHost[] = [];
  for (const c of containers) {
    const json = c.labels[LABEL_JOINED_HOST];
    if (!json) continue;
    try {
      joined.push(JSON.parse(json) as ResolvedHost);
    } catch {
      // an unreadable label only hides that host from checks
    }
  }
  const original = (resolved.hosts ?? []).filter((h) => present.has(h.container));
  const hosts = [...original, ...joined.filter((j) => !original.some((h) => h.name === j.name))];
  return { ...resolved, hosts };
}

export async function listLabs(runtime: ContainerRuntime): Promise<LabSummary[]> {
  return groupLabs(await runtime.list({ [LABEL_LAB]: true }));
}

export async function findLab(runtime: ContainerRuntime, name: string): Promise<LabSummary | undefined> {
  return groupLabs(await runtime.list({ [LABEL_LAB]: name }))[0];
}

/** The resolved model of a running lab, or a clear input error. */
export async function requireRunningLab(runtime: ContainerRuntime, name: string): Promise<ResolvedLab> {
  const lab = await findLab(runtime, name);
  if (!lab) throw await labNotUpError(name, async () => (await listLabs(runtime)).map((l) => l.name));
  if (!lab.resolved) {
    throw inputError(`lab "${name}" has no readable model (its switch container is missing)`, `run \`overlab down ${name}\` and bring it up again`);
  }
  return lab.resolved;
}

/** Subnets other labs' underlays use, so a new lab picks a different one. */
export function underlaysInUse(labs: LabSummary[]): string[] {
  return labs.map((l) => l.underlay).filter((s) => s.length > 0);
}
