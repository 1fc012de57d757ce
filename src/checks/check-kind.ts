// What a check kind is: a keyed kind (schema fragment + resolve, src/lab-spec/keyed-kinds.ts) that
// can also run against a running lab. Each kind is one module in src/checks/kinds/; the runner
// looks the kind up in the registry (src/checks/check-kinds.ts) — no chain of ifs.
//
//   footprint  which lab nodes it touches (the runner refuses to run a check whose nodes are
//              gone, and a planner can group checks whose footprints do not meet)
//   run        observe: probes against the lab, with an AbortSignal; returns what it saw
//   verdict    pure: pass/fail and the one-line "seen" / "reason"
import type { TSchema } from 'typebox';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { KeyedKind } from '../lab-spec/keyed-kinds.js';
import type { LabReferences } from '../lab/lab-references.js';
import type { PingSpec } from '../lab-spec/lab-spec.js';
import type { PingResult } from '../probes/ping.js';

export interface CheckContext {
  runtime: ContainerRuntime;
  lab: ResolvedLab;
  names: LabReferences;
  /** Sends a check's traffic instead of the kind itself (runPing uses it when set): checks that
   * watch the very same traffic (a footprint with `shared`) run together and see one probe. */
  probe?: (ping: PingSpec, signal?: AbortSignal) => Promise<PingResult>;
}

export interface Verdict {
  status: 'pass' | 'fail';
  /** What was seen, one line. */
  seen: string;
  /** Why it failed, one line; absent when it passed. */
  reason?: string;
  details: Record<string, unknown>;
}

/** The lab nodes a check needs running (names as in the lab: hosts, external nodes, "etcd"), the
 * interfaces it captures on, the traffic it sends and the processes it measures — what the
 * planner (src/checks/check-plan.ts) needs to run together only checks that cannot see each
 * other's traffic. */
export interface Footprint {
  nodes: string[];
  /** Interfaces as references ("host1:eth0", "host1/pod1:eth0"); "*" for every interface. */
  captures: string[];
  /** Every probe it sends, by its references. Absent means "not known": the check runs alone. */
  traffic?: { from: string; to: string }[];
  /** Nodes whose own processes it measures (the agent's context switches): traffic through one
   * of them would change what it measures. */
  measures?: string[];
  /** Its traffic is one ping (the `traffic` entry, the whole PingSpec) sent through
   * `context.probe` when the runner gives one: checks whose traffic is the very same may then
   * watch one probe together (two captures of one ping on two interfaces). */
  shared?: boolean;
}

export interface CheckKind<K extends string = string, S extends TSchema = TSchema, Spec = unknown, Observation = unknown>
  extends KeyedKind<K, S, Spec> {
  /** The kind as reports and JSON name it ("ping", "agent-cost"). */
  readonly label: string;
  footprint(spec: Spec, names: LabReferences): Footprint;
  run(spec: Spec, context: CheckContext, signal: AbortSignal): Promise<Observation>;
  verdict(spec: Spec, observation: Observation): Verdict;
}

/** Identity with inference: `defineCheckKind({...})` types raw, spec and observation from the parts. */
export function defineCheckKind<K extends string, S extends TSchema, Spec, Observation>(
  kind: CheckKind<K, S, Spec, Observation>,
): CheckKind<K, S, Spec, Observation> {
  return kind;
}
