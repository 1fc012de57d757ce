// Errors that map onto overlab's exit codes (docs/architecture.md "Exit codes").
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_ENVIRONMENT = 3;
/** EX_SOFTWARE from sysexits.h: overlab itself is wrong, not the input or the machine. */
export const EXIT_INTERNAL = 70;
export const EXIT_INTERRUPTED = 130;
export const EXIT_TERMINATED = 143;

export type ErrorKind = 'input' | 'environment' | 'check' | 'interrupted' | 'internal';
export type StopSignal = 'SIGINT' | 'SIGTERM';

export class OverlabError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;
  constructor(kind: ErrorKind, message: string, hint?: string) {
    super(message);
    this.name = 'OverlabError';
    this.kind = kind;
    if (hint !== undefined) this.hint = hint;
  }
}

/** Ctrl-C (SIGINT, exit 130) or a SIGTERM (exit 143) ended the command. */
export class InterruptedError extends OverlabError {
  readonly signal: StopSignal;
  constructor(signal: StopSignal = 'SIGINT', hint?: string) {
    super('interrupted', signal === 'SIGTERM' ? 'terminated (SIGTERM)' : 'interrupted', hint);
    this.name = 'InterruptedError';
    this.signal = signal;
  }
}

/** Something overlab assumed cannot happen did: a bug, whatever the input was. */
export class InternalError extends OverlabError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'InternalError';
  }
}

export const inputError = (message: string, hint?: string) => new OverlabError('input', message, hint);
export const environmentError = (message: string, hint?: string) => new OverlabError('environment', message, hint);
/** The command was stopped. Which signal and which lab to clean are filled in by the base
 * command, which knows both; the hint then names `overlab down <that lab>`. */
export const interruptedError = (signal: StopSignal = 'SIGINT') => new InterruptedError(signal);

export function exitCodeFor(error: unknown): number {
  if (error instanceof InterruptedError) return error.signal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
  if (error instanceof OverlabError) {
    switch (error.kind) {
      case 'input':
        return EXIT_BAD_INPUT;
      case 'environment':
        return EXIT_ENVIRONMENT;
      case 'check':
        return EXIT_CHECK_FAILED;
      case 'interrupted':
        return EXIT_INTERRUPTED;
      case 'internal':
        return EXIT_INTERNAL;
    }
  }
  // Errors that carry their own documented code (SpecError: 2).
  const exitCode = (error as { exitCode?: unknown } | null)?.exitCode;
  if (typeof exitCode === 'number' && [EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_ENVIRONMENT].includes(exitCode)) return exitCode;
  // Anything else (a TypeError, an unexpected rejection) is a bug in overlab.
  return EXIT_INTERNAL;
}

/** Is this error one overlab did not mean to raise (so the user gets "this is a bug")? */
export function isInternal(error: unknown): boolean {
  return exitCodeFor(error) === EXIT_INTERNAL;
}
