// What `up` does inside one container, as data: argv commands in order, with the comments that
// explain them to a student. Pure. The commands are never joined into shell text to be run —
// step-runner.ts runs them as argv; shellCommand only renders them for people (--dry-run).
import { shellCommand } from './shell-quote.js';

export type PlanLine = { comment: string } | { argv: string[] };

export interface NodePlan {
  node: string;
  container: string;
  lines: PlanLine[];
}

export const comment = (text: string): PlanLine => ({ comment: text });

export const command = (...argv: string[]): PlanLine => ({ argv });

export function isCommand(line: PlanLine): line is { argv: string[] } {
  return 'argv' in line;
}

/** The plan's commands, in order. */
export function planCommands(plan: NodePlan): string[][] {
  return plan.lines.filter(isCommand).map((l) => l.argv);
}

/** Text for a `#` comment line: a control character (a newline above all, which would end
 * the comment and start a command) is shown escaped. */
export function commentText(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line per plan line: `# comment`, or the command as a student would type it. */
export function renderPlanLines(lines: readonly PlanLine[]): string[] {
  return lines.map((l) => (isCommand(l) ? shellCommand(l.argv) : `# ${commentText(l.comment)}`));
}
