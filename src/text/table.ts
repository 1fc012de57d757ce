// Aligned text tables for a person at a terminal. Pure; colour is applied by the caller.

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Cap for long free text; the cell is cut with an ellipsis. */
  maxWidth?: number;
}

// ANSI colour codes take no room on screen.
const ANSI = /\u001b\[[0-9;]*m/g;
export const visibleLength = (text: string) => [...text.replace(ANSI, '')].length;

function fit(text: string, maxWidth?: number): string {
  if (maxWidth === undefined || visibleLength(text) <= maxWidth) return text;
  return [...text.replace(ANSI, '')].slice(0, Math.max(0, maxWidth - 1)).join('') + '…';
}

export function renderTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => fit(c.value(row), c.maxWidth)));
  const widths = columns.map((c, i) => Math.max(visibleLength(c.header), ...cells.map((r) => visibleLength(r[i]!))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v + ' '.repeat(widths[i]! - visibleLength(v))))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}
