// The JSON envelope every command prints with --json, and the human form of errors. Pure.
import { OverlabError } from '../core/errors.js';
import type { Palette } from '../report/colour.js';

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

export function errorEnvelope(error: Error, status: number): ErrorEnvelope {
  const envelope: ErrorEnvelope = { status, name: error.name, message: error.message };
  const hint = hintOf(error);
  if (hint) envelope.hint = hint;
  const issues = issuesOf(error);
  if (issues) envelope.issues = issues;
  return envelope;
}

export function renderErrorForHuman(error: Error, colours: Palette): string {
  const lines = [`${colours.red('Error:')} ${error.message}`];
  const hint = hintOf(error);
  if (hint) lines.push(`${colours.yellow('Try:')} ${hint}`);
  return lines.join('\n');
}
