// The etcd control plane at run time: install the agent in each host (one archive), start it as
// a daemon (an argv), and wait (by polling kernel state, not by sleeping) until every host has
// programmed every peer.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab, ResolvedNetwork } from '../plan/resolved-lab.js';
import { tarEntries, type TarEntry } from '../runtime/tar.js';
import { isEngineFailure } from '../runtime/engine-errors.js';
import { readReplacedFile } from '../runtime/replaced-file.js';
import { AGENT_DIR_PACKAGE_JSON, agentArgv, agentDaemonName, agentFiles, agentInputFiles, agentOutput, hostSubnet, usesAgent } from '../plan/overlay.js';
import { declarationEntries, type DaemonDeclaration } from '../plan/node-init.js';
import { wakeDaemons } from './node-daemons.js';
import { createInterface } from 'node:readline';
import { fileTail } from './file-tail.js';
import { environmentError, interruptedError } from '../base/errors.js';
import { realClock, type Clock } from '../base/poll.js';
import { ProgressDeadline } from './progress-deadline.js';
import { parseAgentStats, type AgentStats as AgentStatsFile } from '../shared/agent-stats.js';
import { agentStatusPort, etcdNode } from '../plan/overlay.js';
import { announcedPid, PROBE_PID_DIR } from '../plan/process-argv.js';
import { parseCollectorLine, statusCollectorArgv, targetKey } from './agent-status.js';
import { tolerated } from '../base/debug-log.js';
import { endingWithCaller } from '../probes/stdin-bound.js';

/** What a host gets at /opt/overlab/agent/: the bundled programs (scripts/bundle-host-programs.mjs). */
const HOST_AGENT_DIR = fileURLToPath(new URL('../host/agent/', import.meta.url));
const NATIVE = fileURLToPath(new URL('../native/', import.meta.url));
/** Static helpers: tun-open attaches the TUN (Node has no ioctl); udp-proxy is the udp backend's
 * data path in C, as flannel's own proxy.c is. */
const NATIVE_HELPERS = ['tun-open', 'udp-proxy'];
/** How long the wait for the agents may go without any of them making progress (answering for the
 * first time, taking its lease, accepting another peer, getting in sync). */
const READY_TIMEOUT_MS = 30_000;
/** Per agent started: 64 agents starting together on a small machine need more than 30 s. */
const READY_MS_PER_AGENT = 500;
const POLL_MS = 200;
/** The collector asks every agent once per interval: 200 ms for a few agents, longer for many (64
 * agents answering 5 times a second cost a third of a core). */
const pollInterval = (targets: number) => Math.min(1000, Math.max(POLL_MS, 15 * targets));
/** A collector that ends this soon with an error is broken, not unlucky (three in a row: give up). */
const QUICK_EXIT_MS = 1000;

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw interruptedError();
}

/** The agent as tar entries under opt/overlab/agent/: the one bundled file it runs, the folder's
 * package.json (CommonJS) and, when a udp network needs them, the static helpers (1.4 MB a host that vxlan
 * and host-gw agents never run). */
export function agentBundleEntries(withNativeHelpers = true): TarEntry[] {
  if (!existsSync(`${HOST_AGENT_DIR}main.js`)) {
    throw environmentError('the agent is not built (dist/host/agent/main.js is missing)', 'npm run build');
  }
  const helpers = withNativeHelpers ? NATIVE_HELPERS : [];
  const missing = helpers.filter((helper) => !existsSync(`${NATIVE}${helper}`));
  if (missing.length) {
    throw environmentError(`the native helpers are not built (dist/native/${missing.join(', dist/native/')} missing)`, 'bash scripts/build-native.sh');
  }
  return [
    { name: 'opt/overlab/' },
    { name: 'opt/overlab/agent/' },
    { name: 'opt/overlab/agent/main.js', content: readFileSync(`${HOST_AGENT_DIR}main.js`) },
    { name: 'opt/overlab/agent/package.json', content: Buffer.from(AGENT_DIR_PACKAGE_JSON) },
    ...helpers.map((helper) => ({ name: `opt/overlab/agent/${helper}`, content: readFileSync(`${NATIVE}${helper}`), mode: 0o755 })),
  ];
}

/** Directories the agent's files live in (created by the tar, not by a process). */
const AGENT_DIRECTORIES = ['etc/overlab/', 'run/flannel/', 'run/overlab/'];

/** A host's agents as daemons of its supervisor (node-init.ts), one per etcd-backed network. */
export function agentDaemons(lab: ResolvedLab): DaemonDeclaration[] {
  return lab.networks.filter(usesAgent).map((network) => ({ name: agentDaemonName(lab, network), output: agentOutput(lab, network), argv: agentArgv(lab, network) }));
}

/** Everything one host's agents need, as one tar for `/`: the bundle, each network's config and
 * seeded subnet.env, and the agents' declarations for the host's supervisor. */
export function agentTar(bundle: TarEntry[], lab: ResolvedLab, host: ResolvedHost, options: { seedSubnetEnv?: boolean } = {}): Buffer {
  const files = lab.networks
    .filter(usesAgent)
    .flatMap((network) => agentInputFiles(lab, host, network))
    // A host that already ran its agent keeps the subnet.env the agent wrote (flannel's way of
    // keeping a subnet across restarts); it is seeded only when the agent is installed.
    .filter((f) => options.seedSubnetEnv !== false || !f.path.startsWith('/run/flannel/'));
  return tarEntries([
    ...bundle,
    ...AGENT_DIRECTORIES.map((name) => ({ name })),
    ...files.map((f) => ({ name: f.path.replace(/^\//, ''), content: Buffer.from(f.content) })),
    ...declarationEntries(agentDaemons(lab), 'up'),
  ]);
}

/** Install the agents (one archive per host, no process) and have each host's supervisor start them. */
export async function startAgents(runtime: ContainerRuntime, lab: ResolvedLab, hosts: ResolvedHost[] = lab.hosts): Promise<void> {
  const start = agentStarter(runtime, lab);
  await Promise.all(hosts.map((host) => start(host)));
}

/** Starts one host's agents: its install archive (with their declarations for its supervisor),
 * then a wake-up; the bundle is read once for all the hosts it is used for. `up` starts each
 * host's agents as soon as that host is wired and etcd answers, while other hosts still start. */
export function agentStarter(runtime: ContainerRuntime, lab: ResolvedLab): (host: ResolvedHost) => Promise<void> {
  const networks = lab.networks.filter(usesAgent);
  let bundle: TarEntry[] | undefined;
  return async (host) => {
    if (networks.length === 0) return;
    bundle ??= agentBundleEntries(networks.some((n) => n.backend === 'udp'));
    const tar = agentTar(bundle, lab, host);
    // Copying the same files again is harmless; once, under 64 uploads at a time, the engine
    // dropped one connection mid-upload (EPIPE): one more try before failing the whole `up`.
    await runtime.putTar(host.container, '/', tar).catch((error: unknown) => {
      if (!isEngineFailure(error, 'unreachable')) throw error;
      return runtime.putTar(host.container, '/', tar);
    });
    await wakeDaemons(runtime, host.container);
  };
}

/** The agent's stats as overlab reads them (agent-stats.ts): any field may be missing (an older
 * agent, a state not reached yet). */
export type AgentStats = Partial<AgentStatsFile>;

export interface RouteJson {
  dst?: string;
  dev?: string;
}

/** One agent: a host's agent for one etcd-backed network. */
export interface AgentTarget {
  host: ResolvedHost;
  network: ResolvedNetwork;
}

/** Is this agent done: its lease taken, every peer's lease accepted and the kernel (or the udp
 * table) in step with them, by its own account (its last sync applied everything and none is
 * queued)? Pure. */
export function agentProgrammed(
  lab: ResolvedLab,
  host: ResolvedHost,
  network: ResolvedNetwork,
  stats: AgentStats | undefined,
  peers: ResolvedHost[] = lab.hosts,
): boolean {
  if (!stats || stats.subnet !== hostSubnet(host, network)) return false;
  if (stats.peerSync?.inSync !== true && !onlyForeseenRefusals(lab, host, network, stats)) return false;
  const known = new Set((Array.isArray(stats.peers) ? stats.peers : []).map((p) => `${p?.subnet} ${p?.publicIp}`));
  return peers.filter((h) => h.name !== host.name).every((peer) => known.has(`${hostSubnet(peer, network)} ${peer.underlayIp}`));
}

/**
 * host-gw on a routed underlay: the kernel refuses a route via a peer on another segment
 * ("Nexthop has invalid gateway") — the lesson of labs/host-gw-racks.yaml, not a failure to wait
 * out. An agent whose every refusal is one of those has done all it can. Pure.
 */
export function onlyForeseenRefusals(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork, stats: AgentStats): boolean {
  const refused = stats.peerSync?.refused;
  if (network.backend !== 'host-gw' || !Array.isArray(refused) || refused.length === 0) return false;
  const away = unreachableNextHops(lab, host);
  return refused.every((r) => typeof r?.command === 'string' && away.some((ip) => r.command.includes(` via ${ip} `)));
}

/** The peers' addresses a host cannot use as next hops: on a routed underlay, those on a
 * segment the host is not on. */
export function unreachableNextHops(lab: ResolvedLab, host: ResolvedHost): string[] {
  const mine = host.links?.[0]?.segment;
  if (!mine) return [];
  return lab.hosts.filter((h) => h.links?.[0] && h.links[0].segment !== mine).map((h) => h.underlayIp);
}

/** Has this agent dropped `subnet` (no longer a peer, and the drop applied)? Pure. */
export function agentDropped(stats: AgentStats | undefined, subnet: string): boolean {
  if (!stats || stats.peerSync?.inSync !== true) return false;
  return !(Array.isArray(stats.peers) ? stats.peers : []).some((p) => p?.subnet === subnet);
}

/** Where an agent stands, for a person: "no status yet", "lease 10.244.3.0/24, 40 of 63 peers, syncing". */
export function agentProgress(lab: ResolvedLab, host: ResolvedHost, stats: AgentStats | undefined, peers: ResolvedHost[] = lab.hosts): string {
  if (!stats) return 'its status listener never answered';
  const others = peers.filter((h) => h.name !== host.name).length;
  const known = Array.isArray(stats.peers) ? stats.peers.length : 0;
  const sync = stats.peerSync;
  const syncText = !sync || sync.syncs === 0 ? 'no peer sync yet' : sync.inSync ? 'in sync' : sync.failures ? `${sync.failures} failed command(s), syncing` : 'syncing';
  return `${stats.subnet ? `lease ${stats.subnet}` : 'no lease yet'}, ${known} of ${others} peers accepted, ${syncText}`;
}

/** How far an agent has come toward `agentProgrammed`, as a number that grows while it works:
 * 1 for answering, then 1 for its planned lease, 1 per planned peer accepted, 1 for in sync. Pure. */
export function agentProgressScore(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork, stats: AgentStats, peers: ResolvedHost[] = lab.hosts): number {
  if (stats.subnet !== hostSubnet(host, network)) return 1;
  const known = new Set((Array.isArray(stats.peers) ? stats.peers : []).map((p) => `${p?.subnet} ${p?.publicIp}`));
  const accepted = peers.filter((h) => h.name !== host.name && known.has(`${hostSubnet(h, network)} ${h.underlayIp}`)).length;
  return 2 + accepted + (stats.peerSync?.inSync === true ? 1 : 0);
}

/** Reads of a stats file that came back whole but unparsable before one is believed. */
const STATS_READS = 3;
const STATS_REREAD_MS = 50;

/** The agent's stats file through the archive API (no process). The agent replaces it by rename,
 * which the archive read can tear (readReplacedFile): seen once in CI as "agent knows 0 peer(s)"
 * just after the agent had every peer. Undefined when it is not there or never parses. */
async function readAgentStats(runtime: ContainerRuntime, container: string, path: string, clock: Clock) {
  const text = await readReplacedFile(runtime, container, path, (t) => parseAgentStats(t) !== null, {
    tries: STATS_READS,
    between: () => clock.sleep(STATS_REREAD_MS, new AbortController().signal),
  }).catch(tolerated('deploy', `read ${path} in ${container} (not written yet?)`));
  return (text === undefined ? null : parseAgentStats(text)) ?? undefined;
}

/** A host's routes (one exec) and its agent's stats file (the archive API, no process). */
export async function readAgentState(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork, clock: Clock = realClock) {
  const files = agentFiles(lab, network);
  const [routesResult, stats] = await Promise.all([runtime.exec(host.container, ['ip', '-j', 'route']), readAgentStats(runtime, host.container, files.stats, clock)]);
  const routesText = routesResult.stdout;
  let routes: RouteJson[];
  try {
    routes = JSON.parse(routesText?.trim() || '[]') as RouteJson[];
  } catch {
    routes = [];
  }
  return { routes, stats };
}

/** The end of the agent's log, or of its own output when the log is empty (a crash before the log
 * opened; the agent echoes its log there too, so both would say the same twice). */
export async function agentLogTail(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork, lines = 5): Promise<string> {
  const log = await fileTail(runtime, host.container, agentFiles(lab, network).log, lines);
  return log || (await fileTail(runtime, host.container, agentOutput(lab, network), lines));
}

/** Constant shell text: stop the collector ($1, a PID) and drop its PID file (in $2). */
const STOP_COLLECTOR_SCRIPT = 'kill -TERM "$1" 2>/dev/null; rm -f -- "$2/$1"';

export interface WatchOptions {
  /** How long the watch may go without progress: a target answering for the first time, beating
   * its best `progress` score, or done (progress-deadline.ts). */
  timeoutMs: number;
  signal: AbortSignal;
  intervalMs?: number;
  /** How far a target has come (a score that grows while it works); by default only its first
   * answer and its being done count. */
  progress?: (target: AgentTarget, stats: AgentStats) => number;
  clock?: Clock;
}

/**
 * Watches agents through one collector process in the lab's etcd node (agent-status.ts) until
 * `done` holds for each. Returns the agents still not done when `timeoutMs` passed without
 * progress (none: all done), the last status each reported and how long the watch took.
 */
export async function watchAgents(
  runtime: ContainerRuntime,
  lab: ResolvedLab,
  targets: AgentTarget[],
  done: (target: AgentTarget, stats: AgentStats) => boolean,
  { timeoutMs, signal, intervalMs = pollInterval(targets.length), progress = () => 0, clock = realClock }: WatchOptions,
): Promise<{ pending: AgentTarget[]; last: Map<AgentTarget, AgentStats>; elapsedMs: number }> {
  const etcd = etcdNode(lab);
  if (!etcd) throw new Error(`lab ${lab.name} has agents but no etcd node`);
  const pending = new Map(targets.map((t) => [targetKey({ ip: t.host.underlayIp, port: agentStatusPort(lab, t.network) }), t]));
  const last = new Map<AgentTarget, AgentStats>();
  const deadline = new ProgressDeadline(clock, timeoutMs);
  let quickFailures = 0;
  while (pending.size > 0) {
    throwIfAborted(signal);
    // The collector runs until the deadline as it stands; when progress moved the deadline on, the
    // next collector takes the wait from there.
    const remaining = deadline.remainingMs();
    if (remaining <= 0) break;
    const started = clock.now();
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const argv = statusCollectorArgv(
        [...pending.values()].map((t) => ({ ip: t.host.underlayIp, port: agentStatusPort(lab, t.network) })),
        remaining,
        intervalMs,
      );
      const run = await runtime.execStream(etcd.container, endingWithCaller(argv), { signal: stop.signal, holdStdin: true });
      let stderr = '';
      run.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
      });
      const lines = createInterface({ input: run.stdout, crlfDelay: Infinity });
      for await (const line of lines) {
        const parsed = parseCollectorLine(line);
        if (parsed.kind !== 'status') continue;
        const target = pending.get(parsed.target);
        if (!target) continue;
        last.set(target, parsed.stats);
        if (done(target, parsed.stats)) {
          pending.delete(parsed.target);
          deadline.note(parsed.target, Infinity);
        } else {
          deadline.note(parsed.target, progress(target, parsed.stats));
        }
        if (pending.size === 0) break;
      }
      lines.close();
      if (pending.size === 0) {
        const pid = announcedPid(stderr);
        if (pid) await runtime.exec(etcd.container, ['sh', '-c', STOP_COLLECTOR_SCRIPT, 'sh', String(pid), PROBE_PID_DIR]).catch(tolerated('deploy', `stop the stats collector ${pid} in ${etcd.container}`));
        stop.abort();
        await run.exited;
        break;
      }
      const code = await run.exited;
      throwIfAborted(signal);
      if (code !== 0 && clock.now() - started < QUICK_EXIT_MS && ++quickFailures >= 3) {
        const said = stderr.replace(/^pid \d+\n/, '').trim();
        throw environmentError(`watching the agents from ${etcd.name} failed (exit ${code})${said ? `: ${said}` : ''}`, `overlab logs ${lab.name} ${targets[0]?.host.name ?? ''}`.trim());
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      stop.abort();
    }
    if (pending.size > 0) await clock.sleep(intervalMs, signal);
  }
  return { pending: [...pending.values()], last, elapsedMs: deadline.elapsedMs() };
}

/** Waits until every agent on `hosts` has programmed its peers; gives up only when none of them
 * made progress for 30 s + 0.5 s per agent, however long they all take. */
export async function waitForAgents(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, hosts: ResolvedHost[] = lab.hosts, clock: Clock = realClock): Promise<void> {
  const targets = hosts.flatMap((host) => lab.networks.filter(usesAgent).map((network) => ({ host, network })));
  if (targets.length === 0) return;
  const timeoutMs = READY_TIMEOUT_MS + READY_MS_PER_AGENT * targets.length;
  const { pending, last, elapsedMs } = await watchAgents(runtime, lab, targets, (t, stats) => agentProgrammed(lab, t.host, t.network, stats), {
    timeoutMs,
    signal,
    clock,
    progress: (t, stats) => agentProgressScore(lab, t.host, t.network, stats),
  });
  if (pending.length === 0) return;
  const { host, network } = pending[0]!;
  const tail = await agentLogTail(runtime, lab, host, network).catch(tolerated('deploy', `read the log of the agent on ${host.name}`, ''));
  const others = pending.length > 1 ? ` (and ${pending.length - 1} other agent(s))` : '';
  throw environmentError(
    `the agent on ${host.name} (${network.name}) did not program its peers: no agent made progress for ${timeoutMs / 1000} s (${Math.round(elapsedMs / 1000)} s in all)${others}: ${agentProgress(lab, host, last.get(pending[0]!))}` +
      (tail ? `; its log ends:\n${tail}` : ''),
    `overlab logs ${lab.name} ${host.name}`,
  );
}
