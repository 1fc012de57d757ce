// Errors that map onto overlab's exit codes (DESIGN.md "Conventions").
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_ENVIRONMENT = 3;
export const EXIT_INTERRUPTED = 130;

export type ErrorKind = 'input' | 'environment' | 'check' | 'interrupted' | 'internal';

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

export const inputError = (message: string, hint?: string) => new OverlabError('input', message, hint);
export const environmentError = (message: string, hint?: string) => new OverlabError('environment', message, hint);
export const interruptedError = () => new OverlabError('interrupted', 'interrupted', 'run `overlab down --all` if anything was left behind');

export function exitCodeFor(error: unknown): number {
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
      default:
        return 1;
    }
  }
  const exitCode = (error as { exitCode?: unknown } | null)?.exitCode;
  if (typeof exitCode === 'number') return exitCode;
  return 1;
}
