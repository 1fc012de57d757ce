// The node supervisor: the process every lab container runs as its own (under the engine's
// minimal init, which reaps and forwards signals), so the daemons a node needs (etcd, the agent,
// BIRD, a pod's server) come back with their container as a kubelet or systemd would bring them
// back. It is bash, not Node: a few MB per container where 128 Node supervisors would cost 5 GB.
//
// Its text is a constant (NODE_INIT_SCRIPT), written into the container before it starts. It
// runs the daemons *declared* in DAEMONS_DIR (one file per daemon, written through the engine's
// archive API, no process): NUL-separated fields `<output file>`, then the argv. Nothing it reads
// is evaluated: a declaration's argv runs with `exec --`, every expansion quoted. Per daemon a
// keeper starts it, waits, and starts it again with backoff (1, 2, 4, 8 s; back to 1 s after 10 s
// of running), noting each exit in the daemon's output file. Control needs no process either:
// `<state>/<name>.want` (`up` | `down`, through the archive API) and SIGHUP to the container
// (Engine API kill): the supervisor reads the declarations again (new ones start, a removed one
// stops), applies each want (down: TERM, KILL after 5 s, not started again) and starts a daemon
// waiting out its backoff at once. Each keeper writes `<state>/<name>.status`. SIGTERM or SIGINT:
// every daemon gets TERM, then the supervisor exits. It writes its PID to `<state>/init.pid` once
// it listens for those signals. docs/architecture.md "Daemons".
import type { TarEntry } from '../runtime/tar.js';

/** Where the supervisor lives in every lab container (written before the container starts). */
export const NODE_INIT_PATH = '/opt/overlab/init';
/** One file per daemon: what to run. */
export const DAEMONS_DIR = '/etc/overlab/daemons';
/** `<name>.want` (written by overlab) and `<name>.status` (written by the supervisor). */
export const DAEMON_STATE_DIR = '/run/overlab/daemons';

/** Backoff between restarts, seconds: doubles from the first to the last. */
export const DAEMON_BACKOFF_SECONDS = { first: 1, max: 8, resetAfter: 10 } as const;
/** How long a daemon told to stop has before it is killed. */
export const DAEMON_STOP_GRACE_SECONDS = 5;

const { first, max, resetAfter } = DAEMON_BACKOFF_SECONDS;

/** Constant text (bash): $1 the declarations directory, $2 the state directory. */
export const NODE_INIT_SCRIPT = `set -u
decl=$1 state=$2
shopt -s nullglob
mkdir -p -- "$state" || exit 70
# What a previous run of this container left: a status or PID is only ever this run's.
rm -f -- "$state"/*.status "$state/init.pid"
declare -A keeper=()
stopping=0 hup=0 sleeper=

valid() { [[ $1 =~ ^[a-z0-9][a-z0-9.-]{0,62}$ ]]; }

# One keeper per daemon. Its traps do the work a signal asks for (a flag checked later could be
# set just before a wait that would then not end): SIGHUP stops a daemon wanted down and cuts a
# pause short; SIGTERM stops the daemon and the keeper.
keep() {
  local name=$1 pid= starts=0 delay=${first} since=0 code= last= want=up out= nap= woke=0 f
  wanted() { want=up; [[ -f $state/$name.want ]] && read -r want <"$state/$name.want"; [[ $want == down ]] || want=up; }
  onhup() {
    woke=1
    wanted
    [[ -n $pid && $want == down ]] && kill -TERM -- "$pid" 2>/dev/null
    [[ -n $nap ]] && kill -- "$nap" 2>/dev/null
  }
  trap onhup HUP
  trap 'halt; exit 0' TERM
  # Whole or not at all for a reader (the file is replaced, never rewritten in place).
  status() {
    printf 'pid=%s starts=%s want=%s state=%s exit=%s\\n' "\${pid:-0}" "$starts" "$want" "$1" "\${last:-none}" >"$state/.$name.status" &&
      mv -f -- "$state/.$name.status" "$state/$name.status"
  }
  note() { [[ -n $out ]] && printf '%(%Y-%m-%dT%H:%M:%S)T overlab-init: %s %s\\n' -1 "$name" "$1" >>"$out"; }
  pause() { sleep "$1" & nap=$!; ((woke)) && kill -- "$nap" 2>/dev/null; wait "$nap"; kill -- "$nap" 2>/dev/null; nap=; }
  halt() {
    [[ -n $nap ]] && kill -- "$nap" 2>/dev/null
    [[ -n $pid ]] || return 0
    kill -TERM -- "$pid" 2>/dev/null
    local i
    for ((i = 0; i < ${DAEMON_STOP_GRACE_SECONDS * 10}; i++)); do kill -0 -- "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
  }
  wanted
  status starting
  while :; do
    [[ -f $decl/$name ]] || exit 0
    woke=0
    wanted
    if [[ $want == down ]]; then
      status held
      pause 3600
      continue
    fi
    f=()
    mapfile -d '' -t f <"$decl/$name" 2>/dev/null
    if [[ \${#f[@]} -lt 2 ]]; then last=unreadable-declaration; status backoff; pause ${max}; continue; fi
    out=\${f[0]}
    ( exec -- "\${f[@]:1}" ) >>"$out" 2>&1 </dev/null &
    pid=$! starts=$((starts + 1)) since=$SECONDS
    status running
    # A SIGHUP between the start and pid=$! found no pid to stop.
    wanted
    [[ $want == down ]] && kill -TERM -- "$pid" 2>/dev/null
    while :; do
      wait "$pid"; code=$?
      # Still running: the wait was cut short by a trap.
      kill -0 -- "$pid" 2>/dev/null || break
      wanted
      if [[ $want == down ]]; then halt; code=stopped; break; fi
    done
    pid= last=$code
    wanted
    if [[ $want == down ]]; then note 'stopped (wanted down)'; continue; fi
    ((SECONDS - since >= ${resetAfter})) && delay=${first}
    note "exited ($code); starting it again in $delay s"
    status backoff
    woke=0
    pause "$delay"
    if ((woke)); then delay=${first}; else ((delay = delay * 2 > ${max} ? ${max} : delay * 2)); fi
  done
}

scan() {
  local file name
  for file in "$decl"/*; do
    name=\${file##*/}
    valid "$name" || continue
    if [[ -z \${keeper[$name]-} ]] || ! kill -0 -- "\${keeper[$name]}" 2>/dev/null; then
      keep "$name" &
      keeper[$name]=$!
    elif [[ -f $state/$name.status ]]; then
      # Only a keeper that has set its traps (it wrote its status) is told; one still starting
      # reads its declaration and want when it starts.
      kill -HUP -- "\${keeper[$name]}" 2>/dev/null
    fi
  done
  for name in "\${!keeper[@]}"; do
    [[ -f $decl/$name ]] && continue
    kill -TERM -- "\${keeper[$name]}" 2>/dev/null
    unset 'keeper[$name]'
  done
}

trap 'hup=1; [[ -n $sleeper ]] && kill -- "$sleeper" 2>/dev/null' HUP
trap 'stopping=1; [[ -n $sleeper ]] && kill -- "$sleeper" 2>/dev/null' TERM INT
printf '%s\\n' "$$" >"$state/init.pid"
scan
while :; do
  if ((stopping)); then
    for name in "\${!keeper[@]}"; do kill -TERM -- "\${keeper[$name]}" 2>/dev/null; done
    wait
    exit 0
  fi
  if ((hup)); then hup=0; scan; continue; fi
  sleep 3600 & sleeper=$!
  # A signal between the start of the sleep and sleeper=$! found no sleep to cut short.
  ((stopping || hup)) && kill -- "$sleeper" 2>/dev/null
  wait "$sleeper"
  kill -- "$sleeper" 2>/dev/null
  sleeper=
done
`;

/** Where the control command lives in every lab container, for a person at its shell. */
export const DAEMON_CONTROL_PATH = '/usr/local/bin/overlab-daemon';

/** Constant text (bash): the node's service manager for a person, as systemctl is:
 * `overlab-daemon status [name]`, `start|stop|restart <name>`. It only writes wants and signals
 * the supervisor, as overlab itself does through the engine. */
export const DAEMON_CONTROL_SCRIPT = `set -u
decl=${DAEMONS_DIR} state=${DAEMON_STATE_DIR}
usage() { echo 'usage: overlab-daemon status [<name>] | start <name> | stop <name> | restart <name>' >&2; exit 2; }
field() { local w; for w in $2; do [[ $w == "$1="* ]] && { printf '%s' "\${w#*=}"; return; }; done; }
show() {
  local line; line=$(<"$state/$1.status") || line=
  printf '%-12s %-8s want=%-4s pid=%-6s starts=%-3s last exit=%s\n' "$1" "$(field state "$line")" "$(field want "$line")" "$(field pid "$line")" "$(field starts "$line")" "$(field exit "$line")"
}
want() {
  printf '%s\n' "$2" >"$state/$1.want" || exit 1
  kill -HUP "$(<"$state/init.pid")" || { echo 'overlab-daemon: the supervisor does not answer' >&2; exit 1; }
}
until_state() {
  local i line
  for ((i = 0; i < 150; i++)); do line=$(<"$state/$1.status") 2>/dev/null; [[ $line == *"state=$2 "* ]] && return 0; sleep 0.1; done
  echo "overlab-daemon: $1 is not $2 after 15 s" >&2; return 1
}
cmd=\${1-}; name=\${2-}
case $cmd in
  status)
    if [[ -n $name ]]; then [[ -f $decl/$name ]] || { echo "overlab-daemon: no daemon $name" >&2; exit 3; }; show "$name"; exit 0; fi
    for f in "$decl"/*; do [[ -f $f ]] && show "\${f##*/}"; done ;;
  start|stop|restart)
    [[ $name =~ ^[a-z0-9][a-z0-9.-]{0,62}$ && -f $decl/$name ]] || { echo "overlab-daemon: no daemon \${name:-(none given)}" >&2; exit 3; }
    if [[ $cmd != start ]]; then want "$name" down; until_state "$name" held || exit 1; fi
    if [[ $cmd != stop ]]; then want "$name" up; until_state "$name" running || exit 1; fi
    show "$name" ;;
  *) usage ;;
esac
`;

/** The supervisor's argv once it runs: what `ps` in a node shows. */
export const NODE_INIT_ARGV: readonly string[] = ['bash', '--noprofile', '--norc', NODE_INIT_PATH, DAEMONS_DIR, DAEMON_STATE_DIR];

const parent = (path: string) => path.slice(0, path.lastIndexOf('/'));

/**
 * Constant text (bash): $1 the supervisor's text, $2 the control command's. The container's own
 * command writes both into place and becomes the supervisor (exec: same PID, and `ps` shows
 * NODE_INIT_ARGV). They travel in the container's command, so nothing has to be copied into a
 * container between its create and its start: that copy (the engine mounts the stopped
 * container's filesystem for it) had cost `up` 40-75 % on top of starting bare containers. A
 * restarted container writes them again from the same command.
 */
export const NODE_BOOT_SCRIPT = `set -e
umask 022
mkdir -p -- ${parent(NODE_INIT_PATH)} ${DAEMONS_DIR} ${parent(DAEMON_CONTROL_PATH)}
printf '%s' "$1" >${NODE_INIT_PATH}
printf '#!/bin/bash\\n%s' "$2" >${DAEMON_CONTROL_PATH}.new
chmod 755 ${NODE_INIT_PATH} ${DAEMON_CONTROL_PATH}.new
mv -f -- ${DAEMON_CONTROL_PATH}.new ${DAEMON_CONTROL_PATH}
exec ${NODE_INIT_ARGV.join(' ')}
`;

/** The container's command: the boot text with the two texts it writes (constants, no value). */
export const NODE_INIT_COMMAND: readonly string[] = ['bash', '--noprofile', '--norc', '-c', NODE_BOOT_SCRIPT, 'overlab-boot', NODE_INIT_SCRIPT, DAEMON_CONTROL_SCRIPT];

export interface DaemonDeclaration {
  /** File name in DAEMONS_DIR: `[a-z0-9][a-z0-9.-]*`, at most 63 characters. */
  name: string;
  /** Where its stdout and stderr are appended (an absolute path in the container). */
  output: string;
  argv: string[];
}

const DAEMON_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

export function daemonNameProblem(name: string): string | undefined {
  return DAEMON_NAME.test(name) ? undefined : `a daemon's name is [a-z0-9][a-z0-9.-]*, at most 63 characters (got ${JSON.stringify(name)})`;
}

/** A declaration's file content: NUL-separated, the output file first. Throws on what the
 * supervisor could not read back exactly (a NUL inside a field, an empty argv). */
export function encodeDeclaration(d: DaemonDeclaration): Buffer {
  const problem = daemonNameProblem(d.name);
  if (problem) throw new Error(problem);
  if (!d.output.startsWith('/')) throw new Error(`daemon ${d.name}: its output file must be an absolute path (got ${JSON.stringify(d.output)})`);
  if (d.argv.length === 0 || d.argv[0] === '') throw new Error(`daemon ${d.name}: an empty command`);
  const fields = [d.output, ...d.argv];
  if (fields.some((f) => f.includes('\0'))) throw new Error(`daemon ${d.name}: a NUL inside a field`);
  return Buffer.from(fields.map((f) => `${f}\0`).join(''));
}

export type DaemonWant = 'up' | 'down';

/** Tar entries (for `/`) declaring daemons and their wants. */
export function declarationEntries(daemons: DaemonDeclaration[], want: DaemonWant = 'up'): TarEntry[] {
  return [
    { name: 'etc/overlab/daemons/' },
    { name: 'run/overlab/daemons/' },
    ...daemons.flatMap((d) => [
      { name: `${DAEMONS_DIR.slice(1)}/${d.name}`, content: encodeDeclaration(d) },
      { name: `${DAEMON_STATE_DIR.slice(1)}/${d.name}.want`, content: Buffer.from(`${want}\n`) },
    ]),
  ];
}

export function wantEntries(names: string[], want: DaemonWant): TarEntry[] {
  return [{ name: 'run/overlab/daemons/' }, ...names.map((name) => ({ name: `${DAEMON_STATE_DIR.slice(1)}/${name}.want`, content: Buffer.from(`${want}\n`) }))];
}

export interface DaemonStatus {
  pid: number;
  /** How many times the supervisor started it since the container started. */
  starts: number;
  want: DaemonWant;
  state: 'starting' | 'running' | 'backoff' | 'held';
  /** Its last exit status (`none` before the first exit). */
  exit: string;
}

/** `pid=… starts=… want=… state=… exit=…`, or undefined when the text is not that. */
export function parseDaemonStatus(text: string): DaemonStatus | undefined {
  const m = /^pid=(\d+) starts=(\d+) want=(up|down) state=(starting|running|backoff|held) exit=(\S+)\s*$/.exec(text);
  if (!m) return undefined;
  return { pid: Number(m[1]), starts: Number(m[2]), want: m[3] as DaemonWant, state: m[4] as DaemonStatus['state'], exit: m[5]! };
}

export function daemonStatusFile(name: string): string {
  return `${DAEMON_STATE_DIR}/${name}.status`;
}
