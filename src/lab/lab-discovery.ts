// A lab spread over several engines, seen from one that is not its primary: its containers there
// carry the lab's label like any lab's, but its model, completion marker and lock live on the
// primary (the first engine). Every other engine's switch names the lab's engines (engines.json,
// written by `up`): read it there, and the command reaches all of them from then on, the primary
// first — or, when the primary does not answer from here, it says what it needs.
import { LABEL_LAB, LABEL_NODE, SWITCH_NODE, switchContainerName } from '../plan/container-names.js';
import type { ResolvedEngine } from '../plan/resolved-lab.js';
import { LABEL_ENGINE, RoutedRuntime } from '../runtime/routed-runtime.js';
import type { CallOptions, ContainerRuntime, ContainerSummary } from '../runtime/runtime.js';
import { environmentError, OverlabError } from '../base/errors.js';
import { readEnginesRecord } from './lab-files.js';

/** How a lab's model names an engine's way in, for a sentence. */
export function engineReach(e: Pick<ResolvedEngine, 'name' | 'host' | 'context'>): string {
  return e.host ?? (e.context ? `context ${e.context}` : 'no address');
}

export type LabLocation =
  /** Nothing to do: the command talks to the lab's primary (or the lab is on one engine, or absent). */
  | { kind: 'here' }
  /** The command talked to another engine of the lab: it now reaches the primary too. */
  | { kind: 'elsewhere'; primary: string; from: string }
  /** It talked to another engine of the lab, and the primary does not answer from here. */
  | { kind: 'unreachable'; error: OverlabError; from: string };

/** The switch of a non-primary engine among a lab's containers on this engine, if that is all
 * there is of the lab's switches here. */
function otherEnginesSwitch(lab: string, found: ContainerSummary[]): ContainerSummary | undefined {
  if (found.some((c) => c.name === switchContainerName(lab))) return undefined;
  return found.find((c) => c.labels[LABEL_NODE] === SWITCH_NODE && c.labels[LABEL_ENGINE]);
}

/**
 * Where a lab's primary is, seen from the command's engine. Only a runtime still talking to the
 * command's own engine alone looks (one built from a spec's engines knows them); `found` is the
 * lab's containers on that engine when the caller already listed them.
 */
export async function locateLab(runtime: ContainerRuntime, lab: string, options: CallOptions & { found?: ContainerSummary[] } = {}): Promise<LabLocation> {
  if (!(runtime instanceof RoutedRuntime) || !runtime.unplaced) return { kind: 'here' };
  const call = options.signal ? { signal: options.signal } : {};
  const found = options.found ?? (await runtime.primary.list({ [LABEL_LAB]: lab }, call));
  const other = otherEnginesSwitch(lab, found);
  if (!other) return { kind: 'here' };
  const record = await readEnginesRecord(runtime, other.name, call);
  if (!record || record.lab !== lab) return { kind: 'here' }; // still being built, or damaged: the lab reads as incomplete
  const from = other.labels[LABEL_ENGINE]!;
  runtime.adopt({ engines: record.engines, hosts: [], externals: [] }, other.name);
  const primary = record.engines[0]!;
  try {
    await runtime.primary.list({ [LABEL_LAB]: lab }, call);
  } catch (error) {
    if (error instanceof OverlabError && error.kind === 'interrupted') throw error;
    const why = error instanceof Error ? error.message : String(error);
    return {
      kind: 'unreachable',
      from,
      error: environmentError(
        `lab "${lab}" is spread over engines ${record.engines.map((e) => e.name).join(', ')}, and this command talks to ${from}; its model, completion marker and lock are on its primary engine ${primary.name} (${engineReach(primary)}), which does not answer from here: ${why}`,
        `make ${primary.name} reachable from this machine as the lab names it (${engineReach(primary)}: its address, certificates, ssh key or Docker context must work here), or run the command where it is; \`overlab ls\` here shows the part of the lab on ${from}`,
      ),
    };
  }
  return { kind: 'elsewhere', primary: primary.name, from };
}

/** locateLab for a command that needs the lab whole: the primary unreachable is its error. */
export async function requirePrimary(runtime: ContainerRuntime, lab: string, options: CallOptions = {}): Promise<void> {
  const where = await locateLab(runtime, lab, options);
  if (where.kind === 'unreachable') throw where.error;
}
