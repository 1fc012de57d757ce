// What a fault kind is: a keyed kind (schema fragment + resolve, src/lab-spec/keyed-kinds.ts) — the
// same machinery as check kinds — that can also break a running lab and say how to mend it.
// Each kind is one module in src/faults/kinds/; `registry.ts` lists them.
//
//   args / fromArgs  the command line form: `overlab fault add <lab> <kind> <args…>` → the raw
//                    spec, the same shape the YAML `faults:` entry has
//   namespaces       where it changes kernel state: those are read before and after, and the
//                    difference is the fault's record (src/faults/kernel-change.ts)
//   apply            refuse what makes no sense on this lab (exit 2, saying why) or this kernel
//                    (exit 3), then make the change: argv only
//   undo             what the generic kernel restore cannot do (restart a process, unpause a
//                    container, recreate a device); runs first on `clear`
import type { Static, TSchema } from 'typebox';
import type { LabReferences } from '../lab/lab-references.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { KeyedKind } from '../lab-spec/keyed-kinds.js';
import type { Namespace } from './namespace.js';
import type { NetnsState } from './snapshot.js';

export interface FaultContext {
  runtime: ContainerRuntime;
  lab: ResolvedLab;
  names: LabReferences;
  signal: AbortSignal;
}

export interface ApplyContext extends FaultContext {
  /** The kernel state of the kind's namespaces just before it is applied (by namespaceKey). */
  before: ReadonlyMap<string, NetnsState>;
}

export interface FaultKind<K extends string = string, S extends TSchema = TSchema, Spec = unknown, Undo = unknown> extends KeyedKind<K, S, Spec> {
  /** The arguments after the kind on the command line, for usage lines: "<node>:<iface> <percent>". */
  readonly args: string;
  /** One line: what it does to the lab. */
  readonly help: string;
  /** Command-line words → the raw spec (throws overlab's input error, exit 2). */
  fromArgs(args: readonly string[]): Static<S>;
  /** One line for `fault ls`: "host1:eth0 is down". */
  describe(spec: Spec): string;
  /** The lab nodes it needs running (names as in the lab: hosts, nodes, "etcd"). */
  nodes(spec: Spec, lab: ResolvedLab): string[];
  namespaces(spec: Spec, lab: ResolvedLab): Namespace[];
  apply(spec: Spec, context: ApplyContext): Promise<Undo>;
  undo?(spec: Spec, data: Undo, context: FaultContext): Promise<void>;
}

/** Identity with inference (as defineCheckKind). */
export function defineFaultKind<K extends string, S extends TSchema, Spec, Undo = undefined>(kind: FaultKind<K, S, Spec, Undo>): FaultKind<K, S, Spec, Undo> {
  return kind;
}
