// The generic part of a "keyed kind" registry (after containerlab's node-kind registry): a list
// entry in a spec is one of several kinds, told apart by which key it has —
//   checks:  - name: a
//              ping: {...}        ← the kind is the key present
// — and each kind is one module with its schema fragment and its `resolve` (raw → typed spec,
// names checked against the lab, errors with positions). Check kinds add `run`/`verdict`
// (src/checks/check-kind.ts); fault kinds add `apply`/`undo` (src/faults/fault-kind.ts).
//
// The kinds sit above this layer (they run probes, read the lab): the schema and the rules never
// import them but take them as a parameter, `LabKinds`, which src/lab-loader/ hands in.
import type { Static, TSchema } from 'typebox';
import type { SchemaKinds, SchemaKit } from './lab-schema.js';
import type { PathSeg } from './yaml-source.js';
import type { SpecScope } from './spec-scope.js';

export interface KeyedKind<K extends string = string, S extends TSchema = TSchema, Spec = unknown> {
  /** The YAML key that selects this kind, and the discriminant of its typed spec. */
  readonly key: K;
  /** One line for "a check needs one of …" messages: `ping: {from, to}`. */
  readonly summary: string;
  /** The schema fragment under the key (built with the kit at build time; TypeBox stays out of the CLI). */
  schema(kit: SchemaKit): S;
  /** Raw (schema-valid) → typed spec; names are checked against the lab and problems reported to `scope` at `at`. */
  resolve(raw: Static<S>, scope: SpecScope, at: PathSeg[]): Spec;
}

/** Which kind an entry is: the first kind whose key it has. */
export function kindOf<Kinds extends readonly KeyedKind[]>(kinds: Kinds, entry: object): Kinds[number] | undefined {
  return kinds.find((k) => Object.prototype.hasOwnProperty.call(entry, k.key));
}

/** Resolves an entry through its kind: `{ kind, [kind]: spec }`, or undefined when no kind key is present. */
export function resolveKeyed<Kinds extends readonly KeyedKind[]>(
  kinds: Kinds,
  entry: Record<string, unknown>,
  scope: SpecScope,
  at: PathSeg[],
): { kind: string; spec: unknown } | undefined {
  const kind = kindOf(kinds, entry);
  if (!kind) return undefined;
  return { kind: kind.key, spec: kind.resolve(entry[kind.key] as never, scope, [...at, kind.key]) };
}

/** The check and fault kinds a spec may use, handed to the schema and the rules from above. */
export interface LabKinds extends SchemaKinds {
  checks: readonly KeyedKind[];
  faults: readonly KeyedKind[];
}
