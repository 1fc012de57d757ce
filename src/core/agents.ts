// The etcd control plane at run time: install the agent in each host (one archive), start it as
// a daemon (an argv), and wait (by polling kernel state, not by sleeping) until every host has
// programmed every peer.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab, ResolvedNetwork } from '../plan/resolved-lab.js';
import { tarEntries, type TarEntry } from '../runtime/tar.js';
import { agentArgv, agentFiles, agentInputFiles, agentOutput, hostSubnet, usesAgent } from '../plan/overlay.js';
import { appendingOutputTo } from '../probes/process-argv.js';
import { fileTail } from './file-tail.js';
import { environmentError } from './errors.js';
import { pollUntil } from './poll.js';

const DIST_AGENT = fileURLToPath(new URL('../agent/', import.meta.url));
const NATIVE = fileURLToPath(new URL('../native/', import.meta.url));
/** Static helpers: tun-open attaches the TUN (Node has no ioctl); udp-proxy is the udp backend's
 * data path in C, as flannel's own proxy.c is. */
const NATIVE_HELPERS = ['tun-open', 'udp-proxy'];
const READY_TIMEOUT_MS = 30_000;
/** Per agent started: 64 agents starting together on a small machine need more than 30 s. */
const READY_MS_PER_AGENT = 500;
const POLL_MS = 200;

function agentEntries(directory: string, prefix: string): TarEntry[] {
  const entries: TarEntry[] = [{ name: `${prefix}/` }];
  for (const name of readdirSync(directory).sort()) {
    const path = `${directory}${name}`;
    if (statSync(path).isDirectory()) entries.push(...agentEntries(`${path}/`, `${prefix}/${name}`));
    else if (name.endsWith('.js')) entries.push({ name: `${prefix}/${name}`, content: readFileSync(path) });
  }
  return entries;
}

/** The agent as tar entries under opt/overlab/agent/: its compiled modules, an ESM package.json
 * and the static helpers. */
export function agentBundleEntries(): TarEntry[] {
  if (!existsSync(`${DIST_AGENT}main.js`)) {
    throw environmentError('the agent is not built (dist/agent/main.js is missing)', 'npm run build');
  }
  const missing = NATIVE_HELPERS.filter((helper) => !existsSync(`${NATIVE}${helper}`));
  if (missing.length) {
    throw environmentError(`the native helpers are not built (dist/native/${missing.join(', dist/native/')} missing)`, 'bash scripts/build-native.sh');
  }
  return [
    { name: 'opt/overlab/' },
    ...agentEntries(DIST_AGENT, 'opt/overlab/agent'),
    { name: 'opt/overlab/agent/package.json', content: Buffer.from('{"type":"module"}\n') },
    ...NATIVE_HELPERS.map((helper) => ({ name: `opt/overlab/agent/${helper}`, content: readFileSync(`${NATIVE}${helper}`), mode: 0o755 })),
  ];
}

/** Directories the agent's files live in (created by the tar, not by a process). */
const AGENT_DIRECTORIES = ['etc/overlab/', 'run/flannel/', 'run/overlab/'];

/** Everything one host's agents need, as one tar for `/`: the bundle, each network's config and
 * seeded subnet.env. */
export function agentTar(bundle: TarEntry[], lab: ResolvedLab, host: ResolvedHost): Buffer {
  const files = lab.networks.filter(usesAgent).flatMap((network) => agentInputFiles(lab, host, network));
  return tarEntries([
    ...bundle,
    ...AGENT_DIRECTORIES.map((name) => ({ name })),
    ...files.map((f) => ({ name: f.path.replace(/^\//, ''), content: Buffer.from(f.content) })),
  ]);
}

/** Install the agents (one archive per host, no process) and start each as a daemon. */
export async function startAgents(runtime: ContainerRuntime, lab: ResolvedLab, hosts: ResolvedHost[] = lab.hosts): Promise<void> {
  const networks = lab.networks.filter(usesAgent);
  if (networks.length === 0) return;
  const bundle = agentBundleEntries();
  await Promise.all(
    hosts.map(async (host) => {
      await runtime.putTar(host.container, '/', agentTar(bundle, lab, host));
      for (const network of networks) {
        await runtime.execDetached(host.container, appendingOutputTo(agentOutput(lab, network), agentArgv(lab, network)));
      }
    }),
  );
}

/** The part of the agent's stats file overlab reads. */
export interface AgentStats {
  subnet?: string | null;
  peers?: { subnet: string; publicIp: string }[];
}

export interface RouteJson {
  dst?: string;
  dev?: string;
}

/** Is this host's agent done: its lease taken and every peer programmed? Pure. */
export function agentReady(
  lab: ResolvedLab,
  host: ResolvedHost,
  network: ResolvedNetwork,
  routes: RouteJson[],
  stats: AgentStats | undefined,
  peers: ResolvedHost[] = lab.hosts,
): boolean {
  if (!stats || stats.subnet !== hostSubnet(host, network)) return false;
  const others = peers.filter((h) => h.name !== host.name);
  if (network.backend === 'udp') {
    return (stats.peers?.length ?? 0) >= others.length && routes.some((r) => r.dst === network.cidr && r.dev === 'flannel0');
  }
  return others.every((peer) => routes.some((r) => r.dst === hostSubnet(peer, network)));
}

/** A host's routes (one exec) and its agent's stats file (the archive API, no process). */
export async function readAgentState(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork) {
  const files = agentFiles(lab, network);
  const [routesResult, statsBuffer] = await Promise.all([
    runtime.exec(host.container, ['ip', '-j', 'route']),
    runtime.readFile(host.container, files.stats).catch(() => undefined), // not written yet
  ]);
  const routesText = routesResult.stdout;
  const statsText = statsBuffer?.toString('utf8');
  let routes: RouteJson[] = [];
  let stats: AgentStats | undefined;
  try {
    routes = JSON.parse(routesText?.trim() || '[]') as RouteJson[];
  } catch {
    routes = [];
  }
  try {
    stats = statsText?.trim() ? (JSON.parse(statsText) as typeof stats) : undefined;
  } catch {
    stats = undefined; // written atomically, but a reader may still race a rotation
  }
  return { routes, stats };
}

/** The end of the agent's log and of its own output (a crash before the log opened). */
export async function agentLogTail(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork, lines = 5): Promise<string> {
  const tails = await Promise.all([agentFiles(lab, network).log, agentOutput(lab, network)].map((path) => fileTail(runtime, host.container, path, lines)));
  return tails.filter(Boolean).join('\n');
}

export async function waitForAgents(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, hosts: ResolvedHost[] = lab.hosts): Promise<void> {
  const pending = hosts.flatMap((host) => lab.networks.filter(usesAgent).map((network) => ({ host, network })));
  const timeoutMs = READY_TIMEOUT_MS + READY_MS_PER_AGENT * pending.length;
  const ready = await pollUntil(
    async () => {
      const states = await Promise.all(pending.map(async (p) => ({ p, state: await readAgentState(runtime, lab, p.host, p.network) })));
      for (const { p, state } of states) if (agentReady(lab, p.host, p.network, state.routes, state.stats)) pending.splice(pending.indexOf(p), 1);
      return pending.length === 0;
    },
    { timeoutMs, intervalMs: POLL_MS, signal },
  );
  if (ready) return;
  const { host, network } = pending[0]!;
  const tail = await agentLogTail(runtime, lab, host, network).catch(() => '');
  throw environmentError(
    `the agent on ${host.name} (${network.name}) did not program its peers within ${timeoutMs / 1000} s` + (tail ? `; its log ends:\n${tail}` : ''),
    `overlab logs ${lab.name} ${host.name}`,
  );
}
