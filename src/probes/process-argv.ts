// Argv wrappers for processes overlab starts inside lab containers. Both keep the command an
// argv array: the shell in `reportingPid` runs a fixed text and only expands "$@", so nothing
// the caller passes is ever parsed as shell code.

/** GNU timeout bounds a probe inside its container: a killed CLI never leaves it running. */
export function bounded(argv: string[], seconds: number, signal: 'INT' | 'TERM' = 'INT'): string[] {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`a probe deadline must be positive, got ${seconds}`);
  // -k: if the probe ignores the signal, KILL it 2 s later.
  return ['timeout', '-k', '2', '-s', signal, String(Math.ceil(seconds)), ...argv];
}

/** The constant shell text: print our PID on stderr, then become the command. */
export const REPORT_PID_SCRIPT = 'echo "pid $$" >&2; exec "$@"';

/** Run `argv` so that it first says its PID (inside the container) on stderr as "pid N", so it
 * can later be stopped by PID — never by a name match. */
export function reportingPid(argv: string[]): string[] {
  return ['sh', '-c', REPORT_PID_SCRIPT, 'sh', ...argv];
}

/** The PID announced by `reportingPid`, from the start of its stderr. */
export function announcedPid(stderr: string): number | undefined {
  const m = /(?:^|\n)pid (\d+)\n/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}
