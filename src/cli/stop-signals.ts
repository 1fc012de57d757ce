// SIGINT and SIGTERM while a command runs: the first one asks the command to stop (it rolls back
// what it made); a second one ends the process at once with the conventional code. Replaces the
// early handlers bin/run.js installs for the time before any command runs.
import { EXIT_INTERRUPTED, EXIT_TERMINATED, type StopSignal } from '../base/errors.js';

export function exitCodeOfSignal(signal: StopSignal): number {
  return signal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
}

/** One Ctrl-C can arrive twice: from the terminal (to the whole process group) and passed on by
 * the launcher (bin/overlab). A person cannot press it twice this fast. */
const SAME_SIGNAL_MS = 200;

/** Calls `onFirst` for the first signal; returns the function that removes the handlers. */
export function onStopSignals(onFirst: (signal: StopSignal) => void): () => void {
  let first: { signal: StopSignal; at: number } | undefined;
  const handle = (signal: StopSignal) => {
    if (first) {
      if (first.signal === signal && Date.now() - first.at < SAME_SIGNAL_MS) return;
      process.exit(exitCodeOfSignal(signal));
    }
    first = { signal, at: Date.now() };
    onFirst(signal);
  };
  const onInt = () => handle('SIGINT');
  const onTerm = () => handle('SIGTERM');
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
