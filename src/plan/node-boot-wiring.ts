// Pure: a node on a lab of one engine wires itself as its container first boots. Its container
// command carries its plan (the step runner's fields, node-plans.ts and step-runner.ts) and runs
// it before it becomes the node supervisor (node-init.ts): it waits for the helper on the share,
// takes the switch's namespace, makes its cable, addresses, bridges and pods. No exec per node:
// an exec costs the engine a process start in the container besides the round trips, and with 16
// nodes starting at once that was half of what wiring them cost. The outcome is the last line it
// writes to its output (the container's log), which `up` follows; a failed plan's step marks and
// errors come before it, as an exec's stderr would carry them.
//
// Only the first boot wires: a node that restarts keeps what it had on disk, and `up` repairs it
// (src/core/lab-repair.ts), as for a node wired by an exec.
import { DAEMON_CONTROL_SCRIPT, NODE_BOOT_SCRIPT, NODE_INIT_SCRIPT } from './node-init.js';
import { encodeSteps, RUNNER_SCRIPT, type RunnerStep } from './step-runner.js';
import { NETNS_SHARE } from './node-plans.js';

/** Written as the first boot begins to wire: a later boot leaves the wiring to repair. */
export const BOOT_WIRED_MARK = '/etc/overlab/boot-wired';
/** Where the plan's step marks and errors go while it runs. */
const WIRING_LOG = '/run/overlab/boot-wiring.log';
/** The runner's status, once it has ended (for an engine whose logs cannot be read). */
const WIRING_STATUS = '/run/overlab/boot-wiring.status';
/** How long WIRING_WAIT_ARGV waits, tenths of a second. */
const WIRING_WAIT_TENTHS = 1500;

/** Constant argv: waits in the node until its boot's wiring has ended, then exits with the
 * runner's status, its step marks and errors on stderr (124 when it never ended). For an engine
 * whose log driver cannot be read back. */
const WIRING_WAIT_SCRIPT = `for ((i = 0; i < ${WIRING_WAIT_TENTHS}; i++)); do [[ -s ${WIRING_STATUS} ]] && { cat -- ${WIRING_LOG} >&2; exit "$(<${WIRING_STATUS})"; }; sleep 0.1; done; exit 124`;
export const WIRING_WAIT_ARGV: readonly string[] = ['bash', '--noprofile', '--norc', '-c', WIRING_WAIT_SCRIPT];

/** The last line of a boot that wired: done, or failed with the runner's status. */
export const BOOT_WIRED_LINE = 'overlab-boot: wired';
export const BOOT_WIRING_FAILED_LINE = 'overlab-boot: wiring failed with exit ';
/** The boot's $0 (what tells a wiring boot's command from another). */
const WIRING_BOOT_NAME = 'overlab-wiring-boot';
/** How long it waits for the helper on the share (copied there as the switch is created). */
const HELPER_WAIT_TENTHS = 300;

/**
 * Constant text (bash) run before NODE_BOOT_SCRIPT: $1 and $2 are the boot's own, $3 the step
 * runner's text, $4.. the plan's fields. The helper is waited for until it runs (its usage, exit
 * 2): one the engine is still writing cannot be run yet (ETXTBSY).
 */
export const NODE_WIRING_PRELUDE = `if (( $# > 3 )) && [[ ! -e ${BOOT_WIRED_MARK} ]]; then
  mkdir -p -- ${BOOT_WIRED_MARK.slice(0, BOOT_WIRED_MARK.lastIndexOf('/'))} ${WIRING_LOG.slice(0, WIRING_LOG.lastIndexOf('/'))}
  : >${BOOT_WIRED_MARK}
  for ((i = 0; i < ${HELPER_WAIT_TENTHS}; i++)); do
    if [[ -x ${NETNS_SHARE} ]]; then ${NETNS_SHARE} >/dev/null 2>&1 </dev/null; (( $? == 2 )) && break; fi
    sleep 0.1
  done
  printf '%s\\0' "\${@:4}" | bash --noprofile --norc -c "$3" overlab-runner 2>${WIRING_LOG}
  code=$?
  printf '%s\\n' "$code" >${WIRING_STATUS}
  if (( code == 0 )); then
    echo '${BOOT_WIRED_LINE}' >&2
  else
    cat -- ${WIRING_LOG} >&2
    echo "${BOOT_WIRING_FAILED_LINE}$code" >&2
  fi
fi
`;

export const NODE_WIRING_BOOT_SCRIPT = NODE_WIRING_PRELUDE + NODE_BOOT_SCRIPT;

/** A node's container command that wires it at its first boot with these steps. */
export function wiringBootCommand(steps: readonly RunnerStep[]): string[] {
  const fields = encodeSteps(steps).split('\0').slice(0, -1);
  return ['bash', '--noprofile', '--norc', '-c', NODE_WIRING_BOOT_SCRIPT, WIRING_BOOT_NAME, NODE_INIT_SCRIPT, DAEMON_CONTROL_SCRIPT, RUNNER_SCRIPT, ...fields];
}

/** The step runner's input a command made by wiringBootCommand carries (undefined for another). */
export function bootWiringInput(command: readonly string[]): string | undefined {
  if (command[5] !== WIRING_BOOT_NAME) return undefined;
  return command.slice(9).map((f) => `${f}\0`).join('');
}

/** A node's boot output, line by line: undefined until its wiring's last line, then its outcome
 * (the runner's status, and the stderr it wrote). */
export function bootWiringOutcome(output: string): { exitCode: number; stderr: string } | undefined {
  const lines = output.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!;
    if (line === BOOT_WIRED_LINE) return { exitCode: 0, stderr: '' };
    if (line.startsWith(BOOT_WIRING_FAILED_LINE)) {
      const code = Number(line.slice(BOOT_WIRING_FAILED_LINE.length));
      return { exitCode: Number.isInteger(code) && code > 0 ? code : 1, stderr: lines.slice(0, i).join('\n') + '\n' };
    }
  }
  return undefined;
}
