// Pure: the underlay switch's own command. It makes the switch's bridge(s) and starts handing its
// network namespace to the lab's nodes (`netns-share serve`) as its container boots, then becomes
// the node supervisor as every node does (node-init.ts). The nodes are started beside the switch,
// not after it, and each waits in itself for the hand-over: with the bridge and the hand-over in
// the switch's own boot, that wait ends as soon as the switch runs, where two engine round trips
// after its start (an exec for the bridge, a detached exec for the hand-over) had stood on every
// node's path — on a busy engine the longest part of `up`. A switch that restarts makes its
// bridge(s) again by itself, and hands its new namespace to as many nodes as a new lab has.
import { DAEMON_CONTROL_SCRIPT, NODE_BOOT_SCRIPT, NODE_INIT_SCRIPT } from './node-init.js';
import { NETNS_SHARE, NETNS_WAIT_SECONDS, UNDERLAY_SOCKET } from './node-plans.js';

/** How long the helper may take to appear on the share (it is copied there right after the
 * switch is created; on Podman only once the switch runs). */
const HELPER_WAIT_TENTHS = 300;

/**
 * Constant text (bash), run before NODE_BOOT_SCRIPT: $1 and $2 are the boot's own (the
 * supervisor's and the control command's texts), $3 how many nodes to hand the namespace to,
 * $4.. the bridges. A bridge that cannot be made is said on the container's output and the
 * hand-over still starts: the node whose cable needs it then fails, naming the bridge, instead
 * of waiting for a hand-over that never comes. The hand-over runs detached from the supervisor
 * (reparented to the engine's init), so a stop never waits for it.
 */
export const SWITCH_BOOT_PRELUDE = `for br in "\${@:4}"; do
  ip link add name "$br" type bridge && ip link set dev "$br" up || echo "overlab-boot: the bridge $br could not be made" >&2
done
if [[ $3 =~ ^[0-9]+$ ]] && (( $3 > 0 )); then ( (
  # Run, not exec'd: the helper may be there before the engine has finished writing it (ETXTBSY,
  # status 126), and a subshell whose exec fails ends, execfail or not. Then it tries again.
  for ((i = 0; i < ${HELPER_WAIT_TENTHS}; i++)); do
    if [[ -x ${NETNS_SHARE} ]]; then
      ${NETNS_SHARE} serve ${UNDERLAY_SOCKET} "$3" ${NETNS_WAIT_SECONDS + 60} </dev/null
      (( $? == 126 )) || exit 0
    fi
    sleep 0.1
  done
  echo 'overlab-boot: the netns-share helper never appeared on the share' >&2
) & ) fi
`;

export const SWITCH_BOOT_SCRIPT = SWITCH_BOOT_PRELUDE + NODE_BOOT_SCRIPT;

/** The switch's command: it makes `bridges` and hands its namespace to `nodes` nodes (none: the
 * caller makes the bridges and the hand-over itself, as for a lab across engines). */
export function switchCommand(bridges: readonly string[], nodes: number): string[] {
  for (const b of bridges) if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(b)) throw new Error(`unsafe bridge name ${JSON.stringify(b)}`);
  return ['bash', '--noprofile', '--norc', '-c', SWITCH_BOOT_SCRIPT, 'overlab-switch-boot', NODE_INIT_SCRIPT, DAEMON_CONTROL_SCRIPT, String(Math.max(0, nodes)), ...bridges];
}
