// Listening on many interfaces at once with one exec per container: a fixed script starts one
// tcpdump per interface in the background, each bounded by `timeout` inside the container (so
// nothing outlives a killed CLI), writing to its own file, and returns once every one says it
// listens. Stopping is by the PIDs it announced, again one exec per container, which also hands
// back the files and — in the same exec — the kernel state read after the probe.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { randomBytes } from 'node:crypto';
import { SNAPSHOT_SCRIPT, snapshotArgs } from './kernel-snapshot.js';
import { endingWithCaller } from '../probes/stdin-bound.js';

export interface CapturePoint {
  /** Namespace key: "host1", "host1/pod1", "switch". */
  ns: string;
  container: string;
  netns?: string;
  iface: string;
}

export interface CaptureOutput {
  point: CapturePoint;
  bytes: Uint8Array;
  /** Why nothing was captured here (the interface is missing, tcpdump failed). */
  error?: string;
}

/** Big enough for an underlay frame carrying a full-size inner packet. */
export const TRACE_SNAPLEN = 2048;
/** The longest a trace's tcpdump may live, even if overlab is killed. */
export const CAPTURE_DEADLINE_SECONDS = 30;
const READY_POLLS = 1000; // × 10 ms
/** At most 0.5 s of waiting for the captures to drain (× 20 ms). */
const DRAIN_POLLS = 25;
const READY_TIMEOUT_MS = 10_000;

/** Arguments: token, a capture filter or "-", the number of captures, per capture its netns or
 * "-" and its interface, then the snapshot's arguments. Each tcpdump's PID goes to a file beside
 * its capture and to stdout as "pid <k> <pid>"; while they start, the container's kernel state is
 * read (between "@@snapshot" and "@@end-snapshot"); then it waits. Each tcpdump says "listening
 * on …" (or why not) on the shared stderr. File names are built from the token (hex overlab
 * makes) and a counter, never from an argument's text. */
export const START_CAPTURES_SCRIPT = [
  'token=$1; filter=$2; ncap=$3; shift 3; k=0',
  // Ended early (its CLI is gone: stdin-bound.ts), it leaves no capture file behind.
  "trap 'rm -f /tmp/overlab-trace-$token-*; exit 143' TERM",
  'cap() {',
  '  f=$1; shift',
  `  if [ "$filter" = - ]; then timeout -k 2 -s INT ${CAPTURE_DEADLINE_SECONDS} "$@" --immediate-mode -U -n -s ${TRACE_SNAPLEN} --time-stamp-precision nano -w "$f.pcap" &`,
  `  else timeout -k 2 -s INT ${CAPTURE_DEADLINE_SECONDS} "$@" --immediate-mode -U -n -s ${TRACE_SNAPLEN} --time-stamp-precision nano -w "$f.pcap" "$filter" & fi`,
  '  echo $! >"$f.pid"; echo "pid $k $!"',
  '}',
  'while [ $k -lt $ncap ]; do',
  '  f=/tmp/overlab-trace-$token-$k',
  '  if [ "$1" = - ]; then cap "$f" tcpdump -i "$2"; else cap "$f" ip netns exec "$1" tcpdump -i "$2"; fi',
  '  k=$((k+1)); shift 2',
  'done',
  'echo "@@snapshot"',
  SNAPSHOT_SCRIPT,
  'echo "@@end-snapshot"',
  'wait',
].join('\n');

/** Arguments: token, then the snapshot's arguments for the state read afterwards. Waits until
 * the capture files stop growing (a tcpdump starved of CPU may not have written what the kernel
 * already handed it, and SIGINT would drop it), stops every tcpdump of the token by the PID its
 * file holds, waits for each to exit, prints each capture as "@@file <k> <bytes>" and its bytes,
 * removes the files, then prints the snapshot. */
export const STOP_CAPTURES_SCRIPT = [
  'token=$1; shift',
  'pids=$(cat /tmp/overlab-trace-$token-*.pid 2>/dev/null)',
  'prev=""; i=0',
  `while [ $i -lt ${DRAIN_POLLS} ]; do cur=$(for f in /tmp/overlab-trace-$token-*.pcap; do [ -f "$f" ] && wc -c <"$f"; done | tr "\\n" " "); [ "$cur" = "$prev" ] && break; prev=$cur; sleep 0.02; i=$((i+1)); done`,
  '[ -n "$pids" ] && kill -INT $pids 2>/dev/null',
  'i=0',
  `while [ $i -lt ${READY_POLLS} ]; do alive=0; for p in $pids; do kill -0 $p 2>/dev/null && alive=1; done; [ $alive = 0 ] && break; sleep 0.01; i=$((i+1)); done`,
  'for f in /tmp/overlab-trace-$token-*.pcap; do [ -f "$f" ] || continue; k=${f##*-}; k=${k%.pcap}; echo "@@file $k $(wc -c <"$f")"; cat "$f"; done',
  'rm -f /tmp/overlab-trace-$token-*',
  'echo "@@end-captures"',
  SNAPSHOT_SCRIPT,
].join('\n');

interface ContainerGroup {
  container: string;
  /** The kernel state read while the captures started (the snapshot script's output). */
  snapshot: string;
  exited?: Promise<number>;
  points: CapturePoint[];
  pids: Map<number, number>;
  errors: Map<number, string>;
}

export interface StoppedCaptures {
  outputs: CaptureOutput[];
  /** Per container, the snapshot script's output after the captures stopped. */
  snapshots: Map<string, string>;
}

function splitStopOutput(buffer: Buffer): { files: Map<number, Uint8Array>; rest: string } {
  const files = new Map<number, Uint8Array>();
  let offset = 0;
  for (;;) {
    const lineEnd = buffer.indexOf(0x0a, offset);
    if (lineEnd < 0) break;
    const line = buffer.subarray(offset, lineEnd).toString('latin1');
    const m = /^@@file (\d+) (\d+)$/.exec(line);
    if (!m) {
      if (line === '@@end-captures') offset = lineEnd + 1;
      break;
    }
    const size = Number(m[2]);
    files.set(Number(m[1]), new Uint8Array(buffer.subarray(lineEnd + 1, lineEnd + 1 + size)));
    offset = lineEnd + 1 + size;
  }
  return { files, rest: buffer.subarray(offset).toString('utf8') };
}

export class CaptureSession {
  private constructor(
    private readonly runtime: ContainerRuntime,
    private readonly token: string,
    private readonly groups: ContainerGroup[],
  ) {}

  /** Start every capture, one exec per container; resolves once each listens (or has failed). */
  static async start(runtime: ContainerRuntime, points: CapturePoint[], filter: string | undefined, snapshotArgsOf: (container: string) => string[]): Promise<CaptureSession> {
    const token = randomBytes(6).toString('hex');
    const byContainer = new Map<string, CapturePoint[]>();
    for (const p of points) byContainer.set(p.container, [...(byContainer.get(p.container) ?? []), p]);
    const groups = await Promise.all([...byContainer].map(([container, list]) => startGroup(runtime, token, filter, container, list, snapshotArgsOf(container))));
    return new CaptureSession(runtime, token, groups);
  }

  get containers(): string[] {
    return this.groups.map((g) => g.container);
  }

  /** Per container, the kernel state read while its captures started. */
  get snapshots(): Map<string, string> {
    return new Map(this.groups.map((g) => [g.container, g.snapshot]));
  }

  private stopped?: Promise<StoppedCaptures>;

  /** Stop by PID and collect, one exec per container; `netnsOf` names the pods whose state is
   * read in the same exec (the "after" snapshot). Stopping twice stops once. */
  async stop(netnsOf: (container: string) => string[] = () => []): Promise<StoppedCaptures> {
    this.stopped ??= this.stopOnce(netnsOf);
    return this.stopped;
  }

  private async stopOnce(netnsOf: (container: string) => string[]): Promise<StoppedCaptures> {
    const snapshots = new Map<string, string>();
    const outputs: CaptureOutput[] = [];
    await Promise.all(
      this.groups.map(async (g) => {
        const stream = await this.runtime.execStream(g.container, ['sh', '-c', STOP_CAPTURES_SCRIPT, 'sh', this.token, ...snapshotArgs(netnsOf(g.container))]);
        const chunks: Buffer[] = [];
        stream.stdout.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
        stream.stderr.resume();
        await stream.exited;
        const { files, rest } = splitStopOutput(Buffer.concat(chunks));
        snapshots.set(g.container, rest);
        await g.exited;
        g.points.forEach((point, k) => {
          const error = g.errors.get(k);
          outputs.push({ point, bytes: files.get(k) ?? new Uint8Array(), ...(error ? { error } : {}) });
        });
      }),
    );
    return { outputs, snapshots };
  }
}

/** One exec per container: start its tcpdumps and wait until each has said "listening on" or
 * why it could not (an error names its interface). */
async function startGroup(runtime: ContainerRuntime, token: string, filter: string | undefined, container: string, list: CapturePoint[], snapshotArgs: string[]): Promise<ContainerGroup> {
  const group: ContainerGroup = { container, snapshot: '', points: list, pids: new Map(), errors: new Map() };
  const args = list.flatMap((p) => [p.netns ?? '-', p.iface]);
  // The captures end with this process however it ends (Ctrl-C, SIGKILL): stdin-bound.ts.
  const stream = await runtime.execStream(container, endingWithCaller(['sh', '-c', START_CAPTURES_SCRIPT, 'sh', token, filter ?? '-', String(list.length), ...args, ...snapshotArgs]), { holdStdin: true });
  group.exited = stream.exited;
  let out = '';
  let err = '';
  await new Promise<void>((resolve) => {
    let settled = false;
    const settle = () => {
      if (settled) return true;
      for (const m of out.matchAll(/^pid (\d+) (\d+)$/gm)) group.pids.set(Number(m[1]), Number(m[2]));
      const listening = (err.match(/listening on /g) ?? []).length;
      const failures = [...err.matchAll(/^tcpdump: (.*)$/gm)].map((m) => m[1]!).filter((line) => !line.startsWith('listening on'));
      if (listening + failures.length < list.length) return false;
      const snapshot = /\n@@snapshot\n([\s\S]*)\n@@end-snapshot\n/.exec(out);
      if (!snapshot) return false;
      group.snapshot = snapshot[1]!;
      for (const failure of failures) {
        const k = list.findIndex((p, i) => !group.errors.has(i) && failure.startsWith(`${p.iface}:`));
        if (k >= 0) group.errors.set(k, `tcpdump on ${list[k]!.ns}:${list[k]!.iface}: ${failure}`);
      }
      settled = true;
      return true;
    };
    const timer = setTimeout(() => {
      list.forEach((p, k) => {
        if (!group.errors.has(k)) group.errors.set(k, `tcpdump on ${p.ns}:${p.iface} did not say it listens within ${READY_TIMEOUT_MS / 1000} s`);
      });
      resolve();
    }, READY_TIMEOUT_MS);
    stream.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (settle()) {
        clearTimeout(timer);
        resolve();
      }
    });
    stream.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      if (settle()) {
        clearTimeout(timer);
        resolve();
      }
    });
    // Ended before every tcpdump said it listens, or the engine stopped answering (then stop()
    // fails with its timeout too, awaiting group.exited).
    const ended = (why?: unknown) => {
      clearTimeout(timer);
      settle();
      const said = why instanceof Error ? why.message : err.trim();
      list.forEach((p, k) => {
        if (!group.errors.has(k) && !group.pids.has(k)) group.errors.set(k, `tcpdump on ${p.ns}:${p.iface} did not start: ${said}`);
      });
      resolve();
    };
    stream.exited.then(() => ended(), ended);
  });
  return group;
}
