// agentCost (udp backend): the context switches the host's agent (and its C data path) makes per
// forwarded packet while a ping runs, read from /proc — why flannel's UDP mode is slow.
import type { ResolvedLab, ResolvedNetwork } from '../../plan/resolved-lab.js';
import type { PingResult } from '../../probes/ping.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import type { AgentCostSpec } from '../../lab-spec/lab-spec.js';
import { defineCheckKind } from '../check-kind.js';
import { LabPartMissing } from '../../lab/lab-part-missing.js';

interface ProcCounters {
  voluntary: number;
  involuntary: number;
}

/** Pure: context-switch counters from /proc/<pid>/status. */
export function parseContextSwitches(status: string): ProcCounters {
  const read = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { voluntary: read('voluntary_ctxt_switches'), involuntary: read('nonvoluntary_ctxt_switches') };
}

/** Pure: sum the context-switch counters of every task in concatenated /proc/…/status files. */
export function sumContextSwitches(statusFiles: string): ProcCounters {
  return statusFiles
    .split(/(?=^Name:)/m)
    .filter((t) => t.trim())
    .map(parseContextSwitches)
    .reduce((a, b) => ({ voluntary: a.voluntary + b.voluntary, involuntary: a.involuntary + b.involuntary }), { voluntary: 0, involuntary: 0 });
}

/** Pure: context switches attributable to forwarding — those during the traffic minus what the
 * agent's own timers cost over the same time, measured idle just before. */
export function forwardingSwitches(idle: { switches: number; ms: number }, busy: { switches: number; ms: number }): number {
  const idleRate = idle.ms > 0 ? idle.switches / idle.ms : 0;
  return Math.max(0, busy.switches - idleRate * busy.ms);
}

const switchesBetween = (a: ProcCounters, b: ProcCounters) => b.voluntary - a.voluntary + (b.involuntary - a.involuntary);

/** argv that prints the status file of every thread of `pid` (no shell: find runs cat itself). */
export function taskStatusArgv(pid: number): string[] {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`not a process id: ${pid}`);
  return ['find', `/proc/${pid}/task`, '-mindepth', '2', '-maxdepth', '2', '-name', 'status', '-exec', 'cat', '{}', '+'];
}

async function agentSample(runtime: ContainerRuntime, container: string, lab: ResolvedLab, net: ResolvedNetwork) {
  const { agentFiles } = await import('../../plan/overlay.js');
  const files = agentFiles(lab, net);
  const statsRead = await runtime.exec(container, ['cat', files.stats]);
  if (statsRead.exitCode !== 0) throw new LabPartMissing(`the agent's stats file ${files.stats} cannot be read in ${container}: ${statsRead.stderr.trim()}`);
  const stats = JSON.parse(statsRead.stdout || '{}') as { pid?: unknown; dataPathPid?: unknown; dataPath?: string; packets?: { tunToUdp?: number; udpToTun?: number } };
  // Every thread of the agent (libuv's pool included) and of its data path (the C proxy, when
  // it forwards): the packet's whole userspace round trip.
  const pids = [stats.pid, stats.dataPathPid].filter((p): p is number => typeof p === 'number' && Number.isSafeInteger(p) && p > 0);
  const statuses = await Promise.all(pids.map((pid) => runtime.exec(container, taskStatusArgv(pid))));
  const counters = sumContextSwitches(statuses.map((s) => s.stdout).join(''));
  const packets = stats.packets ?? {};
  return { ...counters, forwarded: (packets.tunToUdp ?? 0) + (packets.udpToTun ?? 0), dataPath: stats.dataPath ?? 'node' };
}

interface AgentCostObservation {
  host: string;
  dataPath: string;
  forwarded: number;
  idle: { switches: number; ms: number };
  busy: { switches: number; ms: number };
  ping: PingResult;
}

export const agentCostKind = defineCheckKind({
  key: 'agentCost',
  label: 'agent-cost',
  summary: 'agentCost: {on, during}',
  schema: (k) =>
    k.T.Object(
      {
        on: k.nodeName('The host whose agent is measured.'),
        network: k.T.Optional(k.networkName('Pod network name (default: the first udp network).')),
        during: k.during('Traffic to measure.'),
      },
      {
        additionalProperties: false,
        description: "udp backend: the context switches the host's agent makes per forwarded packet while a ping runs (from /proc).",
      },
    ),
  resolve: (raw, scope, at): AgentCostSpec => {
    const network = scope.overlayNetwork(raw.network, [...at, 'network'], (b) => b === 'udp', 'the udp backend');
    scope.hostRef(raw.on, [...at, 'on']);
    return { on: raw.on, network, during: { ping: scope.ping(raw.during.ping, [...at, 'during', 'ping']) } };
  },
  footprint: (spec, names) => ({
    nodes: names.nodesOf(spec.on, spec.during.ping.from, spec.during.ping.to),
    captures: [],
    traffic: [{ from: spec.during.ping.from, to: spec.during.ping.to }],
    measures: [spec.on],
  }),
  run: async (spec, { runtime, lab, names }, signal): Promise<AgentCostObservation> => {
    const [{ labHost, labNetwork }, { pollUntil }, { ping }] = await Promise.all([
      import('../overlay-facts.js'),
      import('../../base/poll.js'),
      import('../../probes/ping.js'),
    ]);
    const net = labNetwork(lab, spec.network);
    const h = labHost(lab, spec.on);
    const from = names.endpoint(spec.during.ping.from);
    const target = names.probeTarget(spec.during.ping.to);
    // A dense burst, so forwarding dominates the agent's idle timers; still one packet in flight at
    // a time (a round trip through the agent takes 0.1–0.25 ms here). Measured at 5, 2 and 1 ms:
    // 1.0–1.1 switches per packet at each, and 2.7 s → 1.2 s for the check with 200 packets.
    const intervalSeconds = 0.001;
    const pingMs = spec.during.ping.count * intervalSeconds * 1000;
    // The idle window is the measurement's baseline (the agent's timers), not a wait for readiness.
    const idleStart = await agentSample(runtime, h.container, lab, net);
    const idleT0 = Date.now();
    await new Promise((r) => setTimeout(r, pingMs));
    const busyStart = await agentSample(runtime, h.container, lab, net);
    const idleMs = Date.now() - idleT0;
    const busyT0 = Date.now();
    const result = await ping(runtime, from, target, { count: spec.during.ping.count, intervalSeconds, signal });
    let after = await agentSample(runtime, h.container, lab, net);
    const busyMs = Date.now() - busyT0;
    // The agent publishes its counters on its own schedule: poll until this traffic shows up.
    await pollUntil(
      async () => {
        after = await agentSample(runtime, h.container, lab, net);
        return after.forwarded - busyStart.forwarded >= result.received * 2;
      },
      { timeoutMs: 3000, signal },
    );
    return {
      host: h.name,
      dataPath: after.dataPath,
      forwarded: after.forwarded - busyStart.forwarded,
      idle: { switches: switchesBetween(idleStart, busyStart), ms: idleMs },
      busy: { switches: switchesBetween(busyStart, after), ms: busyMs },
      ping: result,
    };
  },
  verdict: (_spec, o) => {
    const switches = forwardingSwitches(o.idle, o.busy);
    const perPacket = o.forwarded > 0 ? switches / o.forwarded : NaN;
    const seen =
      `${o.host}'s agent (${o.dataPath} data path) forwarded ${o.forwarded} packets (tun→udp and udp→tun): ` +
      `${Number.isFinite(perPacket) ? perPacket.toFixed(1) : '–'} context switches per packet ` +
      `(${o.busy.switches} during the ping, ${o.idle.switches} in as long idle); ping avg ${o.ping.rttAvgMs?.toFixed(3) ?? '–'} ms`;
    const details = { idle: o.idle, busy: o.busy, forwarded: o.forwarded, contextSwitches: switches, perPacket, ping: o.ping };
    if (o.forwarded === 0) return { status: 'fail', seen, reason: `${o.host}'s agent forwarded nothing while the ping ran`, details };
    return { status: 'pass', seen, details };
  },
});
