// SIGINT and SIGTERM while a command runs: the first one asks the command to stop (it rolls back
// what it made); a second one ends the process at once with the conventional code. Replaces the
// early handlers bin/run.js installs for the time before any command runs.
import { EXIT_INTERRUPTED, EXIT_TERMINATED, type StopSignal } from '../base/errors.js';

export function exitCodeOfSignal(signal: StopSignal): number {
  return signal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
}

/** Calls `onFirst` for the first signal; returns the function that removes the handlers. */
export function onStopSignals(onFirst: (signal: StopSignal) => void): () => void {
  let stopped = false;
  const handle = (signal: StopSignal) => {
    if (stopped) process.exit(exitCodeOfSignal(signal));
    stopped = true;
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
