// The JSON envelope every command prints with --json, and the human form of errors. Pure.
import { OverlabError } from '../base/errors.js';
import type { Palette } from '../text/colour.js';

export interface SuccessEnvelope<T> {
  status: number;
  result: T;
}

export interface ErrorEnvelope {
  status: number;
  name: string;
  message: string;
  hint?: string;
  issues?: unknown[];
  /** Only for an internal error, and only with --debug / DEBUG=overlab*. */
  stack?: string;
}

export interface ErrorPresentation {
  /** An error overlab did not mean to raise: a bug. */
  internal: boolean;
  debug: boolean;
  version?: string;
}

export function successEnvelope<T>(result: T, status = 0): SuccessEnvelope<T> {
  return { status, result };
}

function issuesOf(error: unknown): unknown[] | undefined {
  const issues = (error as { issues?: unknown } | null)?.issues;
  return Array.isArray(issues) ? issues : undefined;
}

function hintOf(error: unknown): string | undefined {
  if (error instanceof OverlabError) return error.hint;
  const hint = (error as { hint?: unknown } | null)?.hint;
  return typeof hint === 'string' ? hint : undefined;
}

export const BUG_REPORT =
  'This is a bug in overlab, not in your spec or your machine. Please report it to the overlab maintainers with the command you ran, ' +
  '`overlab --version` and the stack trace (add --debug, or set DEBUG=overlab*).';

export function errorEnvelope(error: Error, status: number, presentation: ErrorPresentation = { internal: false, debug: false }): ErrorEnvelope {
  const envelope: ErrorEnvelope = {
    status,
    name: presentation.internal ? 'InternalError' : error.name,
    message: presentation.internal ? `internal error: ${error.message}` : error.message,
  };
  const hint = presentation.internal ? BUG_REPORT : hintOf(error);
  if (hint) envelope.hint = hint;
  const issues = issuesOf(error);
  if (issues) envelope.issues = issues;
  if (presentation.internal && presentation.debug && error.stack) envelope.stack = error.stack;
  return envelope;
}

export function renderErrorForHuman(error: Error, colours: Palette, presentation: ErrorPresentation = { internal: false, debug: false }): string {
  if (presentation.internal) {
    const lines = [`${colours.red('Internal error:')} ${error.message}`, `${colours.yellow('This is a bug.')} ${BUG_REPORT.replace(/^This is a bug in overlab, /, 'It is in overlab, ')}`];
    if (presentation.version) lines.push(colours.dim(`overlab ${presentation.version}, node ${process.version}`));
    if (presentation.debug && error.stack) lines.push(colours.dim(error.stack));
    return lines.join('\n');
  }
  const lines = [`${colours.red('Error:')} ${error.message}`];
  const hint = hintOf(error);
  if (hint) lines.push(`${colours.yellow('Try:')} ${hint}`);
  if (presentation.debug && error.stack) lines.push(colours.dim(error.stack));
  return lines.join('\n');
}
