// Applying and clearing faults on a running lab. The callers hold the lab's lock (`fault`,
// `workshop`, and `up` for a spec's faults).
//
// apply: read the kernel state of the kind's namespaces, let the kind check and break, read
//        again; the difference is the fault's record, kept in the lab (fault-store.ts). A kind
//        that fails half-way has what it changed restored before the error is shown.
// clear: the kind's own undo (restart a process, unpause, recreate a device), then the generic
//        restore of every recorded change in stages (restore-plan.ts), then a last read that
//        must show every change undone — otherwise the record stays and the command says what
//        is left.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { FaultSpec } from '../lab-spec/lab-spec.js';
import { LabReferences } from '../lab/lab-references.js';
import { environmentError, inputError, InternalError } from '../base/errors.js';
import { describeThisProcess } from '../lab/lab-lock.js';
import { unavailableNodes } from '../lab/node-availability.js';
import type { FaultContext } from './fault-kind.js';
import { readFaultBook, writeFaultBook, type FaultBook, type FaultRecord, type FaultSource } from './fault-store.js';
import { faultKindOf } from './fault-kinds.js';
import { describeChange, diffState, type KernelChange } from './kernel-change.js';
import { namespaceKey, uniqueNamespaces, inNamespace, type Namespace } from './namespace.js';
import { deleteEmptyTable } from './nft-table.js';
import { RESTORE_STAGES, restorePlan, unrestored } from './restore-plan.js';
import { snapshot, snapshotAll } from './snapshot.js';
import { isEmptyTable } from './iptables-save.js';
import { tolerated } from '../base/debug-log.js';

export interface EngineOptions {
  runtime: ContainerRuntime;
  lab: ResolvedLab;
  signal: AbortSignal;
}

function context(options: EngineOptions): FaultContext {
  return { runtime: options.runtime, lab: options.lab, names: new LabReferences(options.lab), signal: options.signal };
}

function kindAndSpec(fault: { kind: string } & Record<string, unknown>) {
  const kind = faultKindOf(fault.kind);
  if (!kind) throw new InternalError(`unknown fault kind "${fault.kind}"`);
  return { kind, spec: fault[fault.kind] as never };
}

/** A node the fault needs is not running: say which, and why that matters. */
async function requireNodes(options: EngineOptions, nodes: string[], what: string): Promise<void> {
  const unavailable = await unavailableNodes(options.runtime, options.lab);
  const down = [...new Set(nodes)].map((n) => unavailable.get(n)?.reason).filter((x): x is string => x !== undefined);
  if (down.length) throw environmentError(`${what}: ${down.join('; ')}`, 'a paused node comes back with `overlab fault clear <lab> <id>` of its pause fault; `overlab fault ls <lab>` lists them');
}

/** Restore `changes`, stage by stage; returns what is still not as it was. */
export async function restoreChanges(options: EngineOptions, namespaces: readonly Namespace[], changes: readonly KernelChange[]): Promise<{ left: KernelChange[]; errors: string[] }> {
  const errors: string[] = [];
  const nss = uniqueNamespaces(namespaces);
  // Read again only after a stage changed something: its work may have brought back the next one's.
  let states = await snapshotAll(options.runtime, nss, options.signal);
  for (const stage of RESTORE_STAGES) {
    let ran = false;
    for (const ns of nss) {
      const mine = changes.filter((c) => namespaceKey(c.ns) === namespaceKey(ns));
      const { commands, tables } = restorePlan(mine, states.get(namespaceKey(ns))!, stage);
      for (const command of commands) {
        ran = true;
        const r = await options.runtime.exec(ns.container, inNamespace(ns, command.argv), { signal: options.signal, ...(command.stdin !== undefined ? { stdin: command.stdin } : {}) });
        if (r.exitCode !== 0) errors.push(`\`${command.argv.join(' ')}\` in ${namespaceKey(ns)}: ${r.stderr.trim().split('\n').at(-1) ?? `exit ${r.exitCode}`}`);
      }
      if (tables.length) {
        ran = true;
        const now = await snapshot(options.runtime, ns, options.signal);
        for (const t of tables) {
          const table = (t.family === 'ip' ? now.iptables : now.ebtables)[t.table];
          // Only ever an empty table: the kernel would take its rules with it.
          if (table && isEmptyTable(table)) await deleteEmptyTable(options.runtime, ns, t.family, t.table, options.signal).catch((e: Error) => errors.push(e.message));
        }
      }
    }
    if (ran) states = await snapshotAll(options.runtime, nss, options.signal);
  }
  const left = nss.flatMap((ns) => unrestored(changes.filter((c) => namespaceKey(c.ns) === namespaceKey(ns)), states.get(namespaceKey(ns))!));
  return { left, errors };
}

/** Apply one fault and add it to the lab's record. */
export async function applyFault(options: EngineOptions, fault: FaultSpec, source: FaultSource): Promise<FaultRecord> {
  const [record] = await applyFaults(options, [fault], source);
  return record!;
}

/** Apply faults in order (one record write at the end); on a failure, the ones already applied
 * are cleared again before the error is shown. */
export async function applyFaults(options: EngineOptions, faults: readonly FaultSpec[], source: FaultSource): Promise<FaultRecord[]> {
  const ctx = context(options);
  const book = await readFaultBook(options.runtime, options.lab.underlay.switchContainer, { signal: options.signal });
  const applied: FaultRecord[] = [];
  try {
    for (const fault of faults) {
      const { kind, spec } = kindAndSpec(fault as never);
      await requireNodes(options, kind.nodes(spec, options.lab), `${fault.kind} cannot be applied`);
      const namespaces = uniqueNamespaces(kind.namespaces(spec, options.lab));
      const before = await snapshotAll(options.runtime, namespaces, options.signal);
      let undo: unknown;
      try {
        undo = await kind.apply(spec, { ...ctx, before });
      } catch (error) {
        const after = await snapshotAll(options.runtime, namespaces, options.signal).catch(tolerated('faults', `snapshot the kernel after a failed ${fault.kind}`));
        if (after) {
          const changes = namespaces.flatMap((ns) => diffState(ns, before.get(namespaceKey(ns))!, after.get(namespaceKey(ns))!));
          if (changes.length) await restoreChanges(options, namespaces, changes).catch(tolerated('faults', `undo what a failed ${fault.kind} changed`));
        }
        throw error;
      }
      const after = await snapshotAll(options.runtime, namespaces, options.signal);
      const changes = namespaces.flatMap((ns) => diffState(ns, before.get(namespaceKey(ns))!, after.get(namespaceKey(ns))!));
      const record: FaultRecord = {
        id: book.next++,
        kind: fault.kind,
        spec,
        summary: kind.describe(spec),
        source: fault.source === 'exercise' ? 'exercise' : source,
        ...(fault.description ? { description: fault.description } : {}),
        appliedAt: new Date().toISOString(),
        by: describeThisProcess(),
        namespaces,
        changes,
        ...(undo !== undefined ? { undo } : {}),
      };
      book.faults.push(record);
      applied.push(record);
    }
  } catch (error) {
    for (const record of [...applied].reverse()) await clearOne(options, ctx, record).catch(tolerated('faults', `clear fault ${record.id} after a later one failed`));
    throw error;
  }
  await writeFaultBook(options.runtime, options.lab.underlay.switchContainer, book, { signal: options.signal });
  return applied;
}

export interface ClearResult {
  id: number;
  kind: string;
  summary: string;
  /** What was restored, one line each. */
  restored: string[];
}

async function clearOne(options: EngineOptions, ctx: FaultContext, record: FaultRecord): Promise<ClearResult> {
  const { kind, spec } = kindAndSpec({ kind: record.kind, [record.kind]: record.spec });
  const nodes = [...new Set([...kind.nodes(spec, options.lab), ...record.namespaces.map((n) => n.node)])].filter((n) => n !== 'switch');
  if (kind.undo) await kind.undo(spec, record.undo as never, ctx);
  await requireNodes(options, nodes, `fault ${record.id} (${record.summary}) cannot be cleared`);
  const { left, errors } = await restoreChanges(options, record.namespaces, record.changes);
  if (left.length) {
    const what = left.slice(0, 3).map((c) => `${namespaceKey(c.ns)}: ${describeChange(c)}`).join('; ');
    throw environmentError(
      `fault ${record.id} (${record.summary}) is not fully cleared — still not as before: ${what}${left.length > 3 ? ` (+${left.length - 3} more)` : ''}${errors.length ? `; ${errors[0]}` : ''}`,
      'something else changed the same state since (a later fault? clear it first: `overlab fault ls <lab>`), or rebuild the lab (`overlab up <spec> --recreate`)',
    );
  }
  return { id: record.id, kind: record.kind, summary: record.summary, restored: record.changes.map((c) => `${namespaceKey(c.ns)}: ${describeChange(c)}`) };
}

export async function listFaults(options: Omit<EngineOptions, 'lab'> & { switchContainer: string }): Promise<FaultBook> {
  return readFaultBook(options.runtime, options.switchContainer, { signal: options.signal });
}

/** Clear faults by id (in the order given) or all of them (newest first); the record is rewritten
 * after each, so an error leaves the ones not yet cleared recorded. */
export async function clearFaults(options: EngineOptions, which: 'all' | readonly number[]): Promise<ClearResult[]> {
  const ctx = context(options);
  const sw = options.lab.underlay.switchContainer;
  const book: FaultBook = await readFaultBook(options.runtime, sw, { signal: options.signal });
  const ids = which === 'all' ? book.faults.map((f) => f.id).sort((a, b) => b - a) : [...which];
  for (const id of ids) {
    if (!book.faults.some((f) => f.id === id)) {
      throw inputError(`lab ${options.lab.name} has no active fault ${id}`, book.faults.length ? `its faults: ${book.faults.map((f) => `${f.id} (${f.kind})`).join(', ')}` : 'it has no active faults');
    }
  }
  const results: ClearResult[] = [];
  for (const id of ids) {
    const record = book.faults.find((f) => f.id === id)!;
    results.push(await clearOne(options, ctx, record));
    book.faults = book.faults.filter((f) => f.id !== id);
    await writeFaultBook(options.runtime, sw, book, { signal: options.signal });
  }
  return results;
}
