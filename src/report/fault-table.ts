// How faults are shown: a table for a person, records for --json; an exercise's faults stay
// hidden (they are the puzzle) unless asked for with --reveal.
import { describeChange } from '../faults/kernel-change.js';
import type { FaultRecord } from '../faults/fault-store.js';
import { namespaceKey } from '../faults/namespace.js';
import { renderTable } from '../text/table.js';
import type { Palette } from '../text/colour.js';

export interface FaultView {
  id: number;
  kind: string;
  summary: string;
  source: FaultRecord['source'];
  appliedAt: string;
  hidden: boolean;
  description?: string;
  /** What it changed, one line each (absent when hidden). */
  changed?: string[];
  record?: FaultRecord;
}

export function viewOf(record: FaultRecord, reveal: boolean): FaultView {
  if (record.source === 'exercise' && !reveal) {
    return { id: record.id, kind: 'hidden', summary: 'an exercise fault: find it (`overlab workshop hint`)', source: record.source, appliedAt: record.appliedAt, hidden: true };
  }
  return {
    id: record.id,
    kind: record.kind,
    summary: record.summary,
    source: record.source,
    appliedAt: record.appliedAt,
    hidden: false,
    ...(record.description ? { description: record.description } : {}),
    changed: record.changes.map((c) => `${namespaceKey(c.ns)}: ${describeChange(c)}`),
    record,
  };
}

function age(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export function renderFaults(lab: string, faults: FaultView[], colours: Palette, now = Date.now()): string {
  if (!faults.length) return `lab ${lab} has no active faults`;
  const table = renderTable(faults, [
    { header: 'ID', value: (f) => String(f.id) },
    { header: 'KIND', value: (f) => (f.hidden ? colours.dim('hidden') : f.kind) },
    { header: 'WHAT', value: (f) => f.summary, maxWidth: 70 },
    { header: 'FROM', value: (f) => f.source },
    { header: 'APPLIED', value: (f) => age(f.appliedAt, now) },
  ]);
  const details = faults
    .filter((f) => !f.hidden && f.changed?.length)
    .map((f) => `${f.id}: ${f.changed!.slice(0, 4).join('; ')}${f.changed!.length > 4 ? ` (+${f.changed!.length - 4} more)` : ''}`);
  const hidden = faults.some((f) => f.hidden) ? ['', colours.dim('exercise faults are hidden; --reveal shows them (and spoils the exercise)')] : [];
  return [table, ...(details.length ? ['', colours.dim('changed:'), ...details.map((d) => colours.dim(`  ${d}`))] : []), ...hidden].join('\n');
}
