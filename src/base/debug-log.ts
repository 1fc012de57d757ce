// What overlab goes on without, said when someone asks: a failure it deliberately tolerates (a
// best-effort cleanup, a fallback when a file is not there yet, a completion that must not
// disturb a prompt) is written to stderr as one line under DEBUG=overlab* — and nowhere else, so
// the output people and scripts read does not change.
//
// DEBUG is read as the `debug` package reads it: names or patterns separated by commas or spaces,
// `*` matching anything, a leading `-` excluding. The namespace of a line is `overlab:<scope>`,
// so DEBUG=overlab*, DEBUG=overlab:* and DEBUG=overlab:faults (one scope) all show lines.

type Env = Record<string, string | undefined>;

const patternOf = (glob: string) => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** Whether DEBUG names `namespace` (an include pattern matches it and no exclusion does). */
export function debugNames(debug: string | undefined, namespace: string): boolean {
  const patterns = (debug ?? '').split(/[\s,]+/).filter(Boolean);
  const excluded = patterns.filter((p) => p.startsWith('-')).some((p) => patternOf(p.slice(1)).test(namespace));
  return !excluded && patterns.some((p) => !p.startsWith('-') && patternOf(p).test(namespace));
}

function reason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `${error.message}${typeof code === 'string' && !error.message.includes(code) ? ` (${code})` : ''}`;
  }
  return typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
}

/** One line on stderr, `overlab:<scope> <what>: <why>`, when DEBUG names overlab:<scope>. */
export function debugLog(scope: string, what: string, error?: unknown, env: Env = process.env, write: (line: string) => void = (l) => process.stderr.write(l)): void {
  const namespace = `overlab:${scope}`;
  if (!debugNames(env.DEBUG, namespace)) return;
  write(`${namespace} ${what}${error === undefined ? '' : `: ${reason(error)}`}\n`);
}

/**
 * A `.catch` handler for a failure overlab goes on without: reports it under DEBUG (debugLog)
 * and settles with `fallback`. `promise.catch(tolerated('faults', 'restore the routes'))`.
 */
export function tolerated(scope: string, what: string): (error: unknown) => undefined;
export function tolerated<T>(scope: string, what: string, fallback: T): (error: unknown) => T;
export function tolerated<T>(scope: string, what: string, fallback?: T): (error: unknown) => T | undefined {
  return (error) => {
    debugLog(scope, what, error);
    return fallback;
  };
}
