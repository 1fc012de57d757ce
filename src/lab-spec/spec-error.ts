// Errors found in a lab spec, with exact positions.

export interface SpecIssue {
  file: string;
  line: number; // 1-based; 0 when the problem is with the file as a whole
  col: number; // 1-based; 0 when the problem is with the file as a whole
  /** Where in the spec, e.g. "hosts[1].pods[0].name"; "" for the document itself. */
  path: string;
  /** What is wrong (a sentence). */
  message: string;
  /** What would be right (a sentence), when there is something useful to say. */
  hint?: string;
}

/** `labs/x.yaml:12:9 hosts[1].pods[0].name: "…" is 25 characters; … Use a shorter name.` */
export function formatIssue(issue: SpecIssue): string {
  // Line 0 is the file as a whole (not found, a FIFO, too large): no position to give.
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}` : issue.file;
  const text = issue.hint ? `${issue.message} ${issue.hint}` : issue.message;
  return issue.path ? `${where} ${issue.path}: ${text}` : `${where}: ${text}`;
}

/** A spec that cannot be used. Carries every problem found, not just the first. */
export class SpecError extends Error {
  /** The CLI exits with this code for spec errors. */
  readonly exitCode = 2;
  readonly issues: SpecIssue[];

  constructor(issues: SpecIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'SpecError';
    this.issues = issues;
  }
}

/** Orders issues by position (stable for equal positions) and drops exact duplicates. */
export function sortIssues(issues: SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((i) => {
    const key = formatIssue(i);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => a.issue.line - b.issue.line || a.issue.col - b.issue.col || a.index - b.index)
    .map((x) => x.issue);
}
