// Hosts joining and leaving a running lab (`overlab node add|rm`): the new host gets a lease and
// every peer programs it; a removed host's lease goes and every peer drops its entries. Reports
// how long the change took to reach the last peer.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab, ResolvedNetwork } from '../plan/resolved-lab.js';
import { allocateJoiningHost } from '../plan/resolve-lab.js';
import { containerSpecs } from '../plan/containers.js';
import { renderHostPlan } from '../plan/node-plans.js';
import { command, type NodePlan } from '../plan/node-plan.js';
import { agentDaemonName, agentFiles, etcdNode, hostSubnet, isOverlay, staticPeerChangeCommands, usesAgent } from '../plan/overlay.js';
import { stopDaemons } from '../deploy/node-daemons.js';
import { NAME_RULES } from '../lab-spec/name-rules.js';
import { MAX_HOSTS } from '../lab-spec/limits.js';
import { assertName, assertNewNodeName } from '../lab-spec/name-assert.js';
import { environmentError, inputError } from '../base/errors.js';
import { pollUntil } from '../base/poll.js';
import { bringUpNode, runningSwitch } from '../deploy/node-bringup.js';
import { withRunRollback } from './lab-up.js';
import { newRunId } from './run-id.js';
import { compilePlan, runPlan } from '../deploy/run-steps.js';
import { agentDropped, startAgents, waitForAgents, watchAgents } from '../deploy/agents.js';
import { readLeases } from '../lab/etcd-leases.js';
import { usesCni } from '../plan/cni-plan.js';
import { attachCniPods, detachHostPods } from '../deploy/cni-attach.js';
import { birdLogTime, kernelRouteLine, lastBirdLogTime, readBirdLog, reconfigureBird, startBird, waitForBgp } from '../deploy/bird.js';
import { BIRD_DAEMON_NAME, bgpNetwork, bgpNodes } from '../plan/bgp-plan.js';
import { joiningEngine, type JoiningEngine } from '../plan/engine-placement.js';
import { RoutedRuntime } from '../runtime/routed-runtime.js';
import { OverlabError } from '../base/errors.js';

export interface MembershipResult {
  lab: string;
  host: ResolvedHost;
  change: 'add' | 'remove';
  /** A lab across engines: the engine the host runs on, and whether it was asked for or dealt in turn. */
  engine?: JoiningEngine;
  /** Per overlay network: ms from the lease write (or delete) to the last peer programmed. */
  propagation: { network: string; ms: number; peers: number; measuredFrom: string }[];
}

/** Refuse a name `node add` was given before anything is created: the same rules as a spec. */
export function checkJoiningNames(lab: ResolvedLab, name: string, pods: string[]): void {
  assertNewNodeName(name, 'host');
  if ([...lab.hosts, ...lab.externals].some((n) => n.name === name)) throw inputError(`lab ${lab.name} already has a node "${name}"`);
  if (lab.underlay.segments?.some((s) => s.name === name)) throw inputError(`"${name}" is a segment of lab ${lab.name} (its bridge in the switch is called so, beside every node's port)`, 'use another host name');
  if (lab.hosts.length >= MAX_HOSTS) {
    throw inputError(`lab ${lab.name} already has ${lab.hosts.length} hosts, the most a lab may have (${MAX_HOSTS})`, `remove one first with \`overlab node rm ${lab.name} <host>\`, or split the hosts over two labs`);
  }
  if (pods.length === 0) throw inputError('--pods: no pod name given', `e.g. --pods ${NAME_RULES.pod.example}`);
  for (const pod of pods) assertName('pod', pod, '--pods');
  const twice = pods.find((pod, i) => pods.indexOf(pod) !== i);
  if (twice) throw inputError(`--pods: "${twice}" is given twice`);
}

/** A peer's plan for a static overlay change: only its per-peer entries. */
function peerChangePlan(peer: ResolvedHost, commands: string[][]): NodePlan {
  return { node: peer.name, container: peer.container, lines: commands.map((argv) => command(...argv)) };
}

/** Pure: the timestamp of the first agent log line matching `pattern` logged at or after `since`
 * (ms). A log holds a whole history: a host removed and added again under the same name has the
 * same subnet, so its peers' logs already hold a line for it from the first time. */
export function logTime(log: string, pattern: RegExp, since = -Infinity): number | undefined {
  for (const line of log.split('\n')) {
    if (!pattern.test(line)) continue;
    const t = Date.parse(line.split(' ')[0] ?? '');
    if (!Number.isNaN(t) && t >= since) return t;
  }
  return undefined;
}

/** Log timestamps have millisecond resolution; the CLI's clock is read between two of them. */
const LOG_CLOCK_SLACK_MS = 1;

const DROP_TIMEOUT_MS = 30_000;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

async function agentLog(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork): Promise<string> {
  return (await runtime.exec(host.container, ['cat', agentFiles(lab, network).log])).stdout;
}

/** What a peer logs when it has programmed (or dropped) a subnet. */
function peerEvent(network: ResolvedNetwork, subnet: string, change: 'add' | 'remove'): RegExp {
  if (change === 'remove') return new RegExp(`lease removed: ${escape(subnet)}`);
  return network.backend === 'udp' ? new RegExp(`lease added: ${escape(subnet)}`) : new RegExp(`programmed: ip route replace ${escape(subnet)} `);
}

/** The engine a joining host goes to (joiningEngine), asked whether it answers before anything is
 * created: one that does not is an environment error naming it (exit 3). */
export async function placeJoiningHost(runtime: ContainerRuntime, lab: ResolvedLab, asked: string | undefined, signal: AbortSignal): Promise<JoiningEngine | undefined> {
  const placed = joiningEngine(lab, asked);
  if (!placed || !(runtime instanceof RoutedRuntime)) return placed;
  const engine = runtime.engine(placed.engine);
  try {
    await engine.info({ signal });
  } catch (error) {
    if (error instanceof OverlabError && error.kind === 'interrupted') throw error;
    const why = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw environmentError(
      `engine ${placed.engine} (${engine.endpoint}) of lab ${lab.name} does not answer, so no host can join there; nothing was created: ${why}`,
      `once it answers, run the command again; or put the host on another of the lab's engines: --engine ${lab.engines!.map((e) => e.name).filter((n) => n !== placed.engine).join('|')}`,
    );
  }
  return placed;
}

export interface AddHostOptions {
  /** A routed underlay: the segment the host stands on. */
  segment?: string;
  /** A lab across engines: the engine it runs on (placeJoiningHost); without it, the next in turn. */
  engine?: JoiningEngine;
}

export async function addHost(runtime: ContainerRuntime, lab: ResolvedLab, name: string, pods: string[], signal: AbortSignal, options: AddHostOptions = {}): Promise<MembershipResult> {
  const { segment } = options;
  checkJoiningNames(lab, name, pods);
  if (segment !== undefined) assertName('segment', segment, '--segment');
  const placed = options.engine ?? joiningEngine(lab);
  const host: ResolvedHost = { ...allocateJoiningHost(lab, name, pods, segment), ...(placed ? { engine: placed.engine } : {}) };
  // Cabled into the switch of its engine (each engine's switch is stitched to the others').
  const switchContainer = lab.engines?.find((e) => e.name === placed?.engine)?.switchContainer ?? lab.underlay.switchContainer;
  const grown: ResolvedLab = { ...lab, hosts: [...lab.hosts, host] };
  // Labelled with a run id of its own: a failed join removes only what this run made, never a
  // container of that name someone else's run made meanwhile.
  const run = newRunId();
  const spec = containerSpecs(grown, run).find((s) => s.name === host.container)!;
  const plan = compilePlan(renderHostPlan(grown, host)); // refused before anything is created
  let agentsFrom = Date.now();
  await withRunRollback(runtime, lab.name, run, signal, async () => {
    await bringUpNode(runtime, grown, spec, plan, await runningSwitch(runtime, lab, 1, switchContainer), signal);
    for (const network of lab.networks.filter((n) => isOverlay(n) && !usesAgent(n))) {
      await Promise.all(lab.hosts.map((peer) => runPlan(runtime, peerChangePlan(peer, staticPeerChangeCommands(grown, peer, network, host, 'add')), signal)));
    }
    if (grown.networks.some(usesAgent)) {
      agentsFrom = Date.now() - LOG_CLOCK_SLACK_MS;
      await startAgents(runtime, grown, [host]);
      await waitForAgents(runtime, grown, signal);
    }
    if (usesCni(host)) await attachCniPods(runtime, grown, signal, [host]); // its pods, as its kubelet would
    if (bgpNetwork(grown)) {
      // the peers that must know it first (a full mesh: all; reflectors: its rack's), then its BIRD
      await reconfigureBird(runtime, lab, grown, signal);
      await startBird(runtime, grown, [host], signal);
      await waitForBgp(runtime, grown, signal);
    }
  });
  const propagation: MembershipResult['propagation'] = [];
  const bgp = bgpNetwork(grown);
  if (bgp) {
    // From the moment the new BIRD started (its log) to the last peer writing its block into its kernel (theirs).
    const started = birdLogTime(await readBirdLog(runtime, host.container), /<INFO> Started$/);
    const blocks = host.networks[0]!.blocks ?? [];
    const peers = bgpNodes(lab);
    const written = await Promise.all(
      peers.map(async (peer) => {
        const log = await readBirdLog(runtime, peer.container);
        const times = blocks.map((b) => birdLogTime(log, kernelRouteLine(b, 'added'), started));
        return times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : undefined;
      }),
    );
    if (started !== undefined && written.every((t) => t !== undefined)) {
      propagation.push({ network: bgp.name, ms: Math.max(...(written as number[])) - started, peers: peers.length, measuredFrom: "BIRD logs: the new host's BIRD started → last peer wrote its block into its kernel" });
    }
  }
  for (const network of grown.networks.filter(usesAgent)) {
    const subnet = hostSubnet(host, network);
    // From the moment the new agent sent its lease to etcd (an agent that reused a live lease wrote
    // nothing: then from its "reusing" line).
    const joinerLog = await agentLog(runtime, grown, host, network);
    const leased = logTime(joinerLog, /\bwriting lease /, agentsFrom) ?? logTime(joinerLog, /\b(acquired|reusing) lease /, agentsFrom);
    const programmed = await Promise.all(lab.hosts.map(async (peer) => logTime(await agentLog(runtime, grown, peer, network), peerEvent(network, subnet, 'add'), agentsFrom)));
    if (leased !== undefined && programmed.every((t) => t !== undefined)) {
      propagation.push({ network: network.name, ms: Math.max(...(programmed as number[])) - leased, peers: lab.hosts.length, measuredFrom: 'agent logs: lease write sent → last peer programmed' });
    }
  }
  return { lab: lab.name, host, change: 'add', ...(placed ? { engine: placed } : {}), propagation };
}

/** A bgp host leaving: its BIRD stopped (SIGTERM: it withdraws its blocks), every peer drops
 * them; timed from its BIRD's "Shutting down" to the last peer's removal, both from BIRD's logs. */
async function removeBgpHost(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, signal: AbortSignal): Promise<MembershipResult['propagation']> {
  const network = bgpNetwork(lab)!;
  const blocks = host.networks[0]!.blocks ?? [];
  const peers = bgpNodes(lab).filter((n) => n.name !== host.name);
  // through its supervisor, which would otherwise start it again (and it would announce its blocks again)
  await stopDaemons(runtime, host.container, [BIRD_DAEMON_NAME], signal);
  const stoppedLog = async () => birdLogTime(await readBirdLog(runtime, host.container), /<FATAL> Shutdown completed$/) !== undefined;
  await pollUntil(stoppedLog, { timeoutMs: DROP_TIMEOUT_MS, signal });
  const stopped = lastBirdLogTime(await readBirdLog(runtime, host.container), /<INFO> Shutting down$/);
  const gone = await pollUntil(
    async () => {
      const tables = await Promise.all(peers.map(async (p) => (await runtime.exec(p.container, ['ip', '-4', 'route', 'show', 'proto', 'bird'], { signal })).stdout));
      return tables.every((t) => !blocks.some((b) => t.split('\n').some((l) => l.startsWith(`${b} `))));
    },
    { timeoutMs: DROP_TIMEOUT_MS, signal },
  );
  if (!gone) throw environmentError(`a peer still routes ${host.name}'s blocks ${DROP_TIMEOUT_MS / 1000} s after its BIRD stopped`, `overlab exec ${lab.name} ${peers[0]!.name} -- birdc show route all`);
  if (stopped === undefined) return [];
  const removed = await Promise.all(
    peers.map(async (peer) => {
      const log = await readBirdLog(runtime, peer.container);
      const times = blocks.map((b) => birdLogTime(log, kernelRouteLine(b, 'removed'), stopped));
      return times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : undefined;
    }),
  );
  if (!removed.every((t) => t !== undefined)) return [];
  return [{ network: network.name, ms: Math.max(...(removed as number[])) - stopped, peers: peers.length, measuredFrom: "BIRD logs: the host's BIRD shutting down → last peer removed its block from its kernel" }];
}

export async function removeHost(runtime: ContainerRuntime, lab: ResolvedLab, name: string, signal: AbortSignal): Promise<MembershipResult> {
  assertName('node', name, 'host');
  const host = lab.hosts.find((h) => h.name === name);
  if (!host) throw inputError(`lab ${lab.name} has no host "${name}"`, `the hosts: ${lab.hosts.map((h) => h.name).join(', ')}`);
  if (lab.hosts.length === 1) throw inputError(`${name} is the last host of lab ${lab.name}`, `overlab down ${lab.name}`);
  const peers = lab.hosts.filter((h) => h.name !== name);
  const propagation: MembershipResult['propagation'] = [];
  const etcd = etcdNode(lab);
  const deletedAt = new Map<string, number>();
  if (usesCni(host)) await detachHostPods(runtime, lab, host, signal); // drained first: DEL for every pod
  for (const network of lab.networks.filter(usesAgent)) {
    // The agent is stopped first (flannel keeps its lease on exit), then its lease is deleted —
    // what removing a node does; peers see the delete in their watch.
    // Through its supervisor, which would otherwise start it again (and it would take its lease back).
    await stopDaemons(runtime, host.container, [agentDaemonName(lab, network)], signal);
    const lease = (await readLeases(runtime, lab, network)).find((l) => l.publicIp === host.underlayIp);
    if (lease && etcd) {
      deletedAt.set(network.name, Date.now());
      const r = await runtime.exec(etcd.container, ['etcdctl', 'del', lease.key]);
      if (r.exitCode !== 0) throw new Error(`deleting ${lease.key} failed: ${r.stderr.trim()}`);
    }
  }
  if (bgpNetwork(lab)) propagation.push(...(await removeBgpHost(runtime, lab, host, signal)));
  await runtime.remove(host.container);
  if (bgpNetwork(lab)) await reconfigureBird(runtime, lab, { ...lab, hosts: peers }, signal);
  for (const network of lab.networks.filter((n) => isOverlay(n) && !usesAgent(n))) {
    await Promise.all(peers.map((peer) => runPlan(runtime, peerChangePlan(peer, staticPeerChangeCommands(lab, peer, network, host, 'remove')), signal)));
  }
  for (const network of lab.networks.filter(isOverlay)) {
    const subnet = hostSubnet(host, network);
    let dropped: boolean;
    if (usesAgent(network)) {
      // the agents say when they dropped it: one collector process, not a process per peer per round
      const targets = peers.map((peer) => ({ host: peer, network }));
      dropped = (await watchAgents(runtime, lab, targets, (_t, stats) => agentDropped(stats, subnet), { timeoutMs: DROP_TIMEOUT_MS, signal })).pending.length === 0;
    } else {
      dropped = await pollUntil(
        async () => {
          const routes = await Promise.all(peers.map(async (p) => (await runtime.exec(p.container, ['ip', '-j', 'route'])).stdout));
          return routes.every((r) => !r.includes(`"dst":"${subnet}"`));
        },
        { timeoutMs: DROP_TIMEOUT_MS, signal },
      );
    }
    if (!dropped) throw environmentError(`a peer still routes ${subnet} ${DROP_TIMEOUT_MS / 1000} s after ${name} left`, `overlab logs ${lab.name} ${peers[0]!.name}`);
    const start = deletedAt.get(network.name);
    if (start !== undefined) {
      const removed = await Promise.all(peers.map(async (peer) => logTime(await agentLog(runtime, lab, peer, network), peerEvent(network, subnet, 'remove'), start - LOG_CLOCK_SLACK_MS)));
      if (removed.every((t) => t !== undefined)) {
        propagation.push({ network: network.name, ms: Math.max(...(removed as number[])) - start, peers: peers.length, measuredFrom: 'etcdctl del → last peer logged the removal' });
      }
    }
  }
  return { lab: lab.name, host, change: 'remove', propagation };
}
