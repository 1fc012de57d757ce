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

/** Constant shell text: send the command's output to a file (named by $1, data), then become it. */
export const OUTPUT_TO_FILE_SCRIPT = 'f=$1; shift; exec "$@" >>"$f" 2>&1 </dev/null';

/** Run `argv` with its stdout and stderr appended to `file` (daemons: etcd, the agent). */
export function appendingOutputTo(file: string, argv: string[]): string[] {
  return ['sh', '-c', OUTPUT_TO_FILE_SCRIPT, 'sh', file, ...argv];
}

/** Where probes leave their PID files inside a container. */
export const PROBE_PID_DIR = '/run/overlab/probes';

/** Constant shell text: record our PID and start time in $1/<pid> (so a later run can stop us
 * by PID, and never a process that merely reused the number), say the PID on stderr, then
 * become the command. */
export const RECORD_PID_SCRIPT = [
  'd=$1; shift',
  // Our own /proc/<pid>/stat (comm "sh": no spaces): field 22 is the start time.
  'read -r _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ t _ </proc/$$/stat || exit 125',
  'mkdir -p "$d" && echo "$t" >"$d/$$" || exit 125',
  'echo "pid $$" >&2',
  'exec "$@"',
].join('\n');

/** Like reportingPid, and leaves a PID file in `dir` for reapProbes (probe-reaper.ts). */
export function recordingPid(dir: string, argv: string[]): string[] {
  return ['sh', '-c', RECORD_PID_SCRIPT, 'sh', dir, ...argv];
}
