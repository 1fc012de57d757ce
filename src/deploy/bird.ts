// BGP at run time: write each node's BIRD configuration and declare BIRD to the node's supervisor
// (one archive, no process; the supervisor starts it and keeps it running, like the agent), and
// wait — by reading the kernel, not by sleeping — until every node routes every block it must. Also the check that refuses IP-in-IP on a kernel
// without `ipip`.
import { readFile } from 'node:fs/promises';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedExternal, ResolvedHost, ResolvedLab } from '../plan/resolved-lab.js';
import { tarEntries, type TarEntry } from '../runtime/tar.js';
import { bounded } from '../plan/process-argv.js';
import { declarationEntries } from '../plan/node-init.js';
import { wakeDaemons } from './node-daemons.js';
import { BIRD_DAEMON, BIRD_LOG, BIRD_OUTPUT, bgpExpectations, bgpNeighbourEntries, bgpNetwork, bgpNodes, birdConfigFile, type BgpNodeExpectation } from '../plan/bgp-plan.js';
import { environmentError, interruptedError } from '../base/errors.js';
import { tolerated } from '../base/debug-log.js';
import { isEngineFailure } from '../runtime/engine-errors.js';
import { readBgpState } from '../probes/bird-state.js';
import { judgeBgp } from '../probes/bgp-verdict.js';

type Node = ResolvedHost | ResolvedExternal;

/** What one node's BIRD reads, for `/`: its configuration and the run directory. */
function birdEntries(lab: ResolvedLab, node: string): TarEntry[] {
  const file = birdConfigFile(lab, node);
  return [{ name: 'etc/bird/' }, { name: 'run/bird/' }, { name: file.path.replace(/^\//, ''), content: Buffer.from(file.content) }];
}

/** A node's BIRD configuration as one tar for `/` (a running BIRD re-reads it on `birdc configure`). */
function birdTar(lab: ResolvedLab, node: string): Buffer {
  return tarEntries(birdEntries(lab, node));
}

/** Install each node's configuration and BIRD's declaration; its supervisor starts it. */
export async function startBird(runtime: ContainerRuntime, lab: ResolvedLab, nodes: Node[] = bgpNodes(lab), signal?: AbortSignal): Promise<void> {
  const options = signal ? { signal } : {};
  await Promise.all(
    nodes.map(async (node) => {
      const tar = tarEntries([...birdEntries(lab, node.name), ...declarationEntries([BIRD_DAEMON], 'up')]);
      await runtime.putTar(node.container, '/', tar, options).catch((error: unknown) => {
        if (!isEngineFailure(error, 'unreachable')) throw error;
        return runtime.putTar(node.container, '/', tar, options);
      });
      await wakeDaemons(runtime, node.container, options);
    }),
  );
}

/** Constant text: wait until the kernel holds at least $1 routes BIRD wrote (learned ones and
 * the own blackholes), reading it every 0.2 s. Bounded by `timeout` around it. */
export const BIRD_ROUTES_WAIT_SCRIPT = 'while [ "$(ip -4 route show proto bird | wc -l)" -lt "$1" ]; do sleep 0.2; done';

const WAIT_BASE_MS = 30_000;
/** Per BGP node: 64 BIRDs starting together on a small machine need longer than a few. */
const WAIT_PER_NODE_MS = 500;

/** Wait until every node's kernel holds what BGP must have put there; on a timeout, name the
 * node and what it lacks, in BIRD's words. */
export async function waitForBgp(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, nodes: string[] = bgpNodes(lab).map((n) => n.name)): Promise<void> {
  const expectations = bgpExpectations(lab).filter((e) => nodes.includes(e.node));
  const seconds = (WAIT_BASE_MS + WAIT_PER_NODE_MS * expectations.length) / 1000;
  const results = await Promise.all(
    expectations.map(async (e) => {
      const container = containerOf(lab, e.node);
      const wanted = String(e.routes.length + e.blackholes.length);
      const r = await runtime.exec(container, bounded(['sh', '-c', BIRD_ROUTES_WAIT_SCRIPT, 'sh', wanted], seconds, 'TERM'), { signal });
      return { e, ok: r.exitCode === 0 };
    }),
  );
  if (signal.aborted) throw interruptedError();
  const late = results.filter((r) => !r.ok);
  if (!late.length) return;
  const first = late[0]!.e;
  throw environmentError(`BGP did not converge within ${Math.round(seconds)} s: ${await whyNot(runtime, lab, first, signal)}${late.length > 1 ? ` (and ${late.length - 1} more node(s))` : ''}`, `read it live: overlab exec ${lab.name} ${first.node} -- birdc show protocols all; its BIRD's own output is ${BIRD_OUTPUT}`);
}

async function whyNot(runtime: ContainerRuntime, lab: ResolvedLab, e: BgpNodeExpectation, signal: AbortSignal): Promise<string> {
  const state = await readBgpState(runtime, containerOf(lab, e.node), signal);
  const j = judgeBgp(e, state);
  return j.reason ?? `${e.node} holds every route now`;
}

function containerOf(lab: ResolvedLab, node: string): string {
  const found = [...lab.hosts, ...lab.externals].find((n) => n.name === node);
  if (!found) throw new RangeError(`no node ${node} in lab ${lab.name}`);
  return found.container;
}

/** IP-in-IP needs the kernel's ipip module: try to make a tunnel device (then remove it). */
export async function assertIpipAvailable(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal): Promise<void> {
  const mode = bgpNetwork(lab)?.ipipMode ?? 'Never';
  if (mode === 'Never') return;
  const probe = await runtime.exec(lab.underlay.switchContainer, ['ip', 'link', 'add', 'ol-ipip-probe', 'type', 'ipip', 'local', '192.0.2.1', 'remote', '192.0.2.2'], { signal });
  if (probe.exitCode === 0) {
    await runtime.exec(lab.underlay.switchContainer, ['ip', 'link', 'del', 'ol-ipip-probe'], { signal });
    throw environmentError(
      `ipipMode: ${mode} is not built by overlab: Calico's IP-in-IP routes need its own BIRD (krt_tunnel), which Debian's bird2 is not`,
      'use ipipMode: Never (plain routing, as this chapter shows)',
    );
  }
  const said = probe.stderr.trim().split('\n')[0] ?? `exit ${probe.exitCode}`;
  throw environmentError(
    `ipipMode: ${mode} needs IP-in-IP tunnels, and this kernel has no ipip module (ip link add … type ipip: "${said}")`,
    'use ipipMode: Never — BGP routes pods plainly, no encapsulation; or run on a kernel with CONFIG_NET_IPIP (modprobe ipip)',
  );
}

/** The kernel's neighbour table is one for every network namespace on the machine; its hard
 * limit (`net.ipv4.neigh.default.gc_thresh3`). */
const NEIGHBOUR_LIMIT_FILE = '/proc/sys/net/ipv4/neigh/default/gc_thresh3';

/** Pure: why a lab's BGP sessions cannot all come up on a kernel whose neighbour table holds
 * `limit` entries, or undefined when they fit. */
export function neighbourRoomProblem(lab: ResolvedLab, needed: number, limit: number): { message: string; hint: string } | undefined {
  if (!(needed > limit)) return undefined;
  const network = bgpNetwork(lab)!;
  const nodes = bgpNodes(lab).length;
  const how = network.bgp!.reflectors.length ? `${nodes} BGP nodes` : `a full mesh of ${nodes} BGP nodes`;
  return {
    message: `${how} keeps ${needed} neighbour (ARP) entries in use, and this kernel's neighbour table holds ${limit} for every network namespace on the machine (net.ipv4.neigh.default.gc_thresh3): the sessions could not come up ("neighbor table overflow!", "No route to host"), and the other labs on this engine would lose their ARP entries too`,
    hint: network.bgp!.reflectors.length
      ? 'fewer hosts per segment, or a larger gc_thresh3 on the machine'
      : 'use route reflectors (network.bgp.reflectors: a router node, or a few hosts: each host then keeps a session or two, as Calico advises beyond about 100 nodes), fewer hosts, or a larger gc_thresh3 on the machine',
  };
}

/** The kernel's neighbour-table limit: a container's namespace hides the table-wide settings
 * (only the machine's own namespace shows them), so an engine on a unix socket — this machine's
 * kernel — is read here; another engine's, in the lab's switch if that kernel shows it. */
async function neighbourLimit(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal): Promise<number | undefined> {
  const r = await runtime.exec(lab.underlay.switchContainer, ['cat', NEIGHBOUR_LIMIT_FILE], { signal });
  const text = r.exitCode === 0 ? r.stdout : runtime.endpoint.startsWith('/') ? await readFile(NEIGHBOUR_LIMIT_FILE, 'utf8').catch(tolerated('deploy', `read ${NEIGHBOUR_LIMIT_FILE}`, '')) : '';
  const limit = Number(text.trim());
  return text.trim() && Number.isInteger(limit) && limit > 0 ? limit : undefined;
}

/** Refuse a lab whose BGP sessions would overflow the kernel's neighbour table (read in the switch:
 * the engine's kernel, not necessarily this machine's). */
export async function assertNeighbourRoom(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal): Promise<void> {
  const needed = bgpNeighbourEntries(lab);
  const limit = await neighbourLimit(runtime, lab, signal);
  if (limit === undefined) return; // not readable: BIRD's own errors will say it
  const problem = neighbourRoomProblem(lab, needed, limit);
  if (problem) throw environmentError(problem.message, problem.hint);
}

/** `up`'s phase for a bgp network: refuse IP-in-IP this kernel cannot do and a mesh its
 * neighbour table cannot hold, start every BIRD, and wait until every node routes every block. */
export function bgpPhases(runtime: ContainerRuntime, lab: ResolvedLab): { title: string; run(signal: AbortSignal): Promise<void> }[] {
  const network = bgpNetwork(lab);
  if (!network) return [];
  const nodes = bgpNodes(lab);
  const how = network.bgp!.reflectors.length ? `route reflectors ${network.bgp!.reflectors.join(', ')}` : 'a full mesh';
  return [
    {
      title: `Start BIRD on ${nodes.length} nodes (AS ${network.bgp!.as}, ${how}) and wait until every node routes every block`,
      async run(signal) {
        if (signal.aborted) throw interruptedError();
        await assertIpipAvailable(runtime, lab, signal);
        await assertNeighbourRoom(runtime, lab, signal);
        await startBird(runtime, lab, nodes, signal);
        await waitForBgp(runtime, lab, signal);
      },
    },
  ];
}

/** Nodes whose configuration differs between two versions of a lab (a host joined or left):
 * each gets the new file and re-reads it (`birdc configure`). */
export async function reconfigureBird(runtime: ContainerRuntime, before: ResolvedLab, after: ResolvedLab, signal: AbortSignal): Promise<string[]> {
  const changed = bgpNodes(after).filter((n) => bgpNodes(before).some((b) => b.name === n.name) && birdConfigFile(before, n.name).content !== birdConfigFile(after, n.name).content);
  await Promise.all(
    changed.map(async (n) => {
      await runtime.putTar(n.container, '/', birdTar(after, n.name), { signal });
      const r = await runtime.exec(n.container, ['birdc', 'configure'], { signal });
      if (r.exitCode !== 0 || !/Reconfigur/.test(r.stdout)) throw environmentError(`BIRD on ${n.name} did not take its new configuration: ${(r.stdout + r.stderr).trim().split('\n').at(-1)}`);
    }),
  );
  return changed.map((n) => n.name);
}

/** Pure: the time (ms, as the log's clock reads it) of the first line of a BIRD log at or after
 * `since` that matches. BIRD writes `2026-12-07 17:46:27.147 <TRACE> kernel1.ipv4 < added …`. */
export function birdLogTime(log: string, pattern: RegExp, since = -Infinity): number | undefined {
  for (const line of log.split('\n')) {
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3}) /.exec(line);
    if (!m || !pattern.test(line)) continue;
    const t = Date.parse(`${m[1]}T${m[2]}Z`);
    if (t >= since) return t;
  }
  return undefined;
}

/** Pure: the last time a line matching `pattern` was logged. */
export function lastBirdLogTime(log: string, pattern: RegExp): number | undefined {
  let last: number | undefined;
  for (const line of log.split('\n')) {
    const t = birdLogTime(line, pattern);
    if (t !== undefined) last = t;
  }
  return last;
}

export async function readBirdLog(runtime: ContainerRuntime, container: string): Promise<string> {
  return runtime.readFile(container, BIRD_LOG).then((b) => b.toString('utf8'), () => '');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** What a node's BIRD logs when it writes a block into its kernel, or takes it out. */
export function kernelRouteLine(block: string, change: 'added' | 'removed'): RegExp {
  return new RegExp(`<TRACE> kernel1\\.ipv4 < ${change} (?:\\[[a-z]+\\] )?${escapeRe(block)} .* unicast$`);
}
