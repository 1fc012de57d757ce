// Stop probes a killed CLI left behind (a tcpdump whose `verify` was SIGKILLed), by the PID
// files recordingPid() leaves — never by a name match. A PID file holds the process's start
// time too, so a number the kernel has since given to another process is never signalled.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { PROBE_PID_DIR } from '../plan/process-argv.js';
import { tolerated } from '../base/debug-log.js';

/** Constant shell text; the directory is $1 (data). For every `<pid>` file: signal the process
 * only when its start time is the one recorded, then drop the file. Prints "reaped <pid>". */
export const REAP_SCRIPT = [
  'd=$1',
  '[ -d "$d" ] || exit 0',
  'for f in "$d"/*; do',
  '  p=${f##*/}',
  '  case $p in ""|*[!0-9]*) continue ;; esac',
  '  want=; read -r want <"$f" 2>/dev/null',
  '  now=; s=',
  // Fields 3… of /proc/<pid>/stat follow the last ") " (a command name may hold spaces).
  '  if read -r s <"/proc/$p/stat" 2>/dev/null; then s=${s##*) }; set -f; set -- $s; set +f; [ $# -ge 20 ] && shift 19 && now=$1; fi',
  '  case $want in ""|*[!0-9]*) ;; *) if [ "$now" = "$want" ] && kill -TERM "$p" 2>/dev/null; then echo "reaped $p"; fi ;; esac',
  '  rm -f -- "$f"',
  'done',
].join('\n');

export function reapArgv(dir: string = PROBE_PID_DIR): string[] {
  return ['sh', '-c', REAP_SCRIPT, 'sh', dir];
}

/** Pure: the PIDs a reap stopped. */
export function reapedPids(stdout: string): number[] {
  return [...stdout.matchAll(/^reaped (\d+)$/gm)].map((m) => Number(m[1]));
}

/** Stop leftover probes in each container (in parallel); a container that is not running has
 * none. Returns the PIDs stopped, per container. */
export async function reapProbes(runtime: ContainerRuntime, containers: string[]): Promise<Record<string, number[]>> {
  const results = await Promise.all(
    containers.map(async (container) => {
      const r = await runtime.exec(container, reapArgv()).catch(tolerated('probes', `reap left-over probes in ${container}`));
      return [container, r ? reapedPids(r.stdout) : []] as const;
    }),
  );
  return Object.fromEntries(results.filter(([, pids]) => pids.length > 0));
}
