// A probe ends when the CLI that started it ends. The probe runs in a process group of its own
// (setsid) under a constant wrapper whose stdin is the exec's, held open by the CLI for as long
// as it lives and never written (runtime `execStream(…, { holdStdin: true })`). When the CLI
// ends — done, Ctrl-C, or SIGKILL — the engine closes that stdin; the wrapper reads end of file
// and sends SIGTERM to the probe's whole group (a script's background captures go with it; not
// SIGINT, which an asynchronous list ignores), SIGKILL two seconds later to whatever is left. A
// probe that ends by itself ends the wrapper with its exit status. The `timeout` inside each
// probe still bounds it should the engine itself not close the stream.

/** Constant shell text: run "$@" in its own process group, and end that group when stdin ends. */
export const ENDS_WITH_STDIN_SCRIPT = [
  // An asynchronous list's stdin is /dev/null unless redirected: keep ours on fd 3 for the watcher.
  'exec 3<&0',
  'setsid "$@" </dev/null 3<&- &',
  'p=$!',
  '{ while read -r _; do :; done; kill -TERM "-$p" 2>/dev/null; sleep 2; kill -KILL "-$p" 2>/dev/null; } <&3 &',
  'w=$!',
  'wait "$p"; s=$?',
  'kill "$w" 2>/dev/null',
  'exit "$s"',
].join('\n');

/** `argv` bound to its caller's life: run it with `execStream(…, { holdStdin: true })`. */
export function endingWithCaller(argv: string[]): string[] {
  if (argv.length === 0) throw new RangeError('an empty command');
  return ['sh', '-c', ENDS_WITH_STDIN_SCRIPT, 'sh', ...argv];
}
