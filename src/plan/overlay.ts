// Pure: what an overlay network (host-gw, vxlan, udp) adds to a lab — the flannel state a static
// control plane programs itself, or the etcd config, agent configs and start commands of the
// etcd control plane. Kernel state comes from the agent's own pure functions, so both control
// planes produce the same routes, neighbours and FDB entries by construction. Every command is
// an argv array.
import {
  desiredLocalState,
  desiredPeerState,
  localCommandsArgv,
  mtuFor,
  peerCommandsArgv,
  peerRemovalArgv,
  type PeerStateBackend,
} from '../shared/peer-state.js';
import { renderNetworkConfig } from '../shared/flannel-lease.js';
import { renderSubnetEnv } from '../shared/subnet-env.js';
import { macForIp } from './resolve-lab.js';
import type { ResolvedExternal, ResolvedHost, ResolvedLab, ResolvedNetwork } from './resolved-lab.js';
import { comment, command, type PlanLine } from './node-plan.js';

export const ETCD_CLIENT_PORT = 2379;
export const AGENT_DIR = '/opt/overlab/agent';
/** AGENT_DIR's package.json: the agent and the CNI plugin there are CommonJS bundles
 * (scripts/bundle-host-programs.mjs); it is always written, so a folder an older overlab left
 * as ES modules is told otherwise. */
export const AGENT_DIR_PACKAGE_JSON = '{"type":"commonjs"}\n';
export const LEASE_TTL_SECONDS = 86_400;

/** flannel's backends (host-gw, vxlan, udp): what the agent or the static plan programs. */
export function isOverlay(network: ResolvedNetwork): boolean {
  return network.backend !== 'none' && network.backend !== 'bgp';
}

/** Calico's way: BIRD on every node (src/plan/bgp-plan.ts). */
export function isBgp(network: ResolvedNetwork): boolean {
  return network.backend === 'bgp';
}

export function usesAgent(network: ResolvedNetwork): boolean {
  return isOverlay(network) && network.controlPlane === 'etcd';
}

export function labUsesAgents(lab: ResolvedLab): boolean {
  return lab.networks.some(usesAgent);
}

/** flannel's etcd prefix; a lab with several pod networks gives each its own, as flannel's
 * --etcd-prefix would. */
export function etcdPrefix(lab: ResolvedLab, network: ResolvedNetwork): string {
  return lab.networks.length === 1 ? '/coreos.com/network' : `/coreos.com/network-${network.name}`;
}

/** Per-network file names inside a host; the single-network case keeps flannel's own paths. */
export function agentFiles(lab: ResolvedLab, network: ResolvedNetwork) {
  const suffix = lab.networks.length === 1 ? '' : `-${network.name}`;
  return {
    config: `/etc/overlab/agent${suffix}.json`,
    log: `/var/log/overlab-agent${suffix}.log`,
    subnetEnv: lab.networks.length === 1 ? '/run/flannel/subnet.env' : `/run/flannel/${network.name}.env`,
    stats: `/run/overlab/agent${suffix}-stats.json`,
    pid: `/run/overlab/agent${suffix}.pid`,
  };
}

/** The agent's status listener (TCP, on the host's underlay address; src/agent/status-server.ts):
 * 8471 for the first etcd-backed network, the next port for each further one. */
export const AGENT_STATUS_PORT = 8471;

export function agentStatusPort(lab: ResolvedLab, network: ResolvedNetwork): number {
  return AGENT_STATUS_PORT + Math.max(0, lab.networks.filter(usesAgent).findIndex((n) => n.name === network.name));
}

export function backendOf(network: ResolvedNetwork): PeerStateBackend {
  const type = network.backend as PeerStateBackend['type'];
  return { type, ...(type === 'vxlan' ? { vni: network.vni } : {}), ...(type !== 'host-gw' ? { port: network.port } : {}) };
}

export function hostSubnet(host: ResolvedHost, network: ResolvedNetwork): string {
  return host.networks.find((n) => n.network === network.name)!.subnet;
}

/** The VTEP MAC overlab pins for a host: Docker-style, from the VTEP address `<subnet>.0`. */
export function vtepMac(host: ResolvedHost, network: ResolvedNetwork): string {
  return macForIp(hostSubnet(host, network).split('/')[0]!);
}

export function vxlanDevice(network: ResolvedNetwork): string {
  return `flannel.${network.vni}`;
}

export function etcdNode(lab: ResolvedLab): ResolvedExternal | undefined {
  return lab.externals.find((e) => e.role === 'etcd');
}

export function etcdEndpoint(lab: ResolvedLab): string {
  const etcd = etcdNode(lab);
  if (!etcd) throw new Error(`lab ${lab.name} has no etcd node`);
  return `http://${etcd.underlayIp}:${ETCD_CLIENT_PORT}`;
}

/** Static control plane: the device and every peer's routes/neighbours/FDB, as flannel would. */
export function staticOverlayPlan(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork): PlanLine[] {
  const backend = backendOf(network);
  const self = { subnet: hostSubnet(host, network), publicIp: host.underlayIp, underlayIface: 'eth0' };
  const peers = lab.hosts
    .filter((h) => h.name !== host.name)
    .map((h) => ({ subnet: hostSubnet(h, network), publicIp: h.underlayIp, vtepMac: vtepMac(h, network) }));
  const local = desiredLocalState(backend, self, {
    network: network.cidr,
    underlayMtu: lab.underlay.mtu,
    ...(backend.type === 'vxlan' ? { vtepMac: vtepMac(host, network) } : {}),
  });
  const lines: PlanLine[] = [];
  const device = localCommandsArgv(local);
  if (device.length) lines.push(comment(`${network.backend}: the flannel device, programmed statically (no etcd, no agent)`), ...device.map((argv) => command(...argv)));
  const peerCommands = peerCommandsArgv(desiredPeerState(backend, self, peers));
  if (peerCommands.length) {
    const what = network.backend === 'vxlan' ? 'a permanent neighbour, an FDB entry and an onlink route' : 'a route via its host';
    lines.push(comment(`${network.backend}: per remote host, ${what}`), ...peerCommands.map((argv) => command(...argv)));
  }
  return lines;
}

export function networkConfigValue(network: ResolvedNetwork): string {
  return renderNetworkConfig(network.cidr, network.subnetLen, backendOf(network).type, {
    ...(network.backend === 'vxlan' ? { vni: network.vni } : {}),
    ...(network.backend !== 'host-gw' ? { port: network.port } : {}),
  });
}

/** The underlay a peer's PublicIP must lie in: the host's own segment, and on a routed underlay
 * every other segment too. */
function underlayCidrs(lab: ResolvedLab, host: ResolvedHost): { underlayCidr: string; otherSegmentCidrs?: string[] } {
  const segments = lab.underlay.segments;
  if (!segments || !host.links) return { underlayCidr: lab.underlay.subnet };
  const own = segments.find((s) => s.name === host.links![0]!.segment)!;
  return { underlayCidr: own.subnet, otherSegmentCidrs: segments.filter((s) => s !== own).map((s) => s.subnet) };
}

export interface AgentConfigOptions {
  leaseTtlSeconds?: number;
}

export function agentConfig(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork, options: AgentConfigOptions = {}) {
  const files = agentFiles(lab, network);
  return {
    host: host.name,
    publicIp: host.underlayIp,
    ...underlayCidrs(lab, host),
    underlayIface: 'eth0',
    underlayMtu: lab.underlay.mtu,
    etcdEndpoints: [etcdEndpoint(lab)],
    prefix: etcdPrefix(lab, network),
    leaseTtlSeconds: options.leaseTtlSeconds ?? network.leaseTtl ?? LEASE_TTL_SECONDS,
    logFile: files.log,
    bridge: network.bridge,
    ipMasq: network.nat,
    subnetEnvFile: files.subnetEnv,
    statsFile: files.stats,
    statsIntervalMs: 500,
    pidFile: files.pid,
    statusPort: agentStatusPort(lab, network),
    tunOpen: `${AGENT_DIR}/tun-open`,
  };
}

/** The files an agent needs before it starts (written through the engine's archive API, no
 * process): its config, and subnet.env seeded with the planned subnet — flannel reuses the
 * subnet of a previous subnet.env, so the lease the agent takes is the one the plan (and the
 * pods) expect. */
export function agentInputFiles(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork, options: AgentConfigOptions = {}): { path: string; content: string }[] {
  const files = agentFiles(lab, network);
  const subnet = hostSubnet(host, network);
  const len = subnet.split('/')[1];
  const gateway = host.networks.find((n) => n.network === network.name)!.bridgeIp;
  const env = renderSubnetEnv({
    network: network.cidr,
    subnet: `${gateway}/${len}`,
    mtu: mtuFor(backendOf(network).type, lab.underlay.mtu),
    ipMasq: network.nat,
  });
  return [
    { path: files.config, content: `${JSON.stringify(agentConfig(lab, host, network, options))}\n` },
    { path: files.subnetEnv, content: env.endsWith('\n') ? env : `${env}\n` },
  ];
}

/** The agent's command line; its stdout and stderr go to agentOutput(). */
export function agentArgv(lab: ResolvedLab, network: ResolvedNetwork): string[] {
  return ['node', `${AGENT_DIR}/main.js`, '--config', agentFiles(lab, network).config];
}

/** The agent's name for the host's supervisor (node-init.ts): one per etcd-backed network. */
export function agentDaemonName(lab: ResolvedLab, network: ResolvedNetwork): string {
  return lab.networks.length === 1 ? 'agent' : `agent-${network.name}`;
}

/** Where the agent's own stdout/stderr go (crashes before its log is open). */
export function agentOutput(lab: ResolvedLab, network: ResolvedNetwork): string {
  return agentFiles(lab, network).log.replace(/\.log$/, '.out');
}

export const ETCD_LOG = '/var/log/etcd.log';
/** etcd's name for the node's supervisor (node-init.ts). */
export const ETCD_DAEMON = 'etcd';
/** etcd's data directory: a tmpfs in the etcd container (containers.ts). A lab's etcd lives as
 * long as its container and holds nothing worth a disk; on disk, every lease write waited for a
 * WAL fsync (66–118 ms with 64 hosts, 198 ms with 128, on a shared machine), which made the agents'
 * lease acquisition the slowest step of a big lab's `up`. */
export const ETCD_DATA_DIR = '/var/lib/overlab-etcd';
/** Room for etcd's two preallocated 64 MiB WAL segments and its (small) database; mode 0700 as
 * etcd wants for its data directory. */
export const ETCD_DATA_TMPFS_OPTIONS = 'size=256m,mode=0700';

/** etcd's CPU weight: a host's (the engine's default, 1024) per host, so that when every agent of a
 * big lab starts at once on a small machine etcd still answers them (each lease is a few ms of
 * etcd's CPU, but it waited seconds for its turn among 64 starting agents). */
export function etcdCpuShares(lab: ResolvedLab): number {
  return Math.min(262_144, 1024 * Math.max(2, lab.hosts.length));
}

export function etcdArgv(lab: ResolvedLab): string[] {
  return [
    'etcd', '--name', lab.name, '--data-dir', ETCD_DATA_DIR,
    '--listen-client-urls', `http://0.0.0.0:${ETCD_CLIENT_PORT}`, '--advertise-client-urls', etcdEndpoint(lab),
    '--listen-peer-urls', 'http://127.0.0.1:2380',
  ];
}

/** Succeeds once etcd answers: the readiness probe `up` polls. */
export const ETCD_HEALTH_ARGV: readonly string[] = ['etcdctl', 'endpoint', 'health'];

/** The network config every agent reads, one put per etcd-backed network. */
export function etcdConfigPuts(lab: ResolvedLab): { network: string; argv: string[] }[] {
  return lab.networks.filter(usesAgent).map((network) => ({ network: network.name, argv: ['etcdctl', 'put', `${etcdPrefix(lab, network)}/config`, networkConfigValue(network)] }));
}

/** Static control plane, for peers of a host that joins or leaves: only the per-peer entries. */
export function staticPeerChangeCommands(lab: ResolvedLab, self: ResolvedHost, network: ResolvedNetwork, changed: ResolvedHost, change: 'add' | 'remove'): string[][] {
  const state = desiredPeerState(backendOf(network), { subnet: hostSubnet(self, network), publicIp: self.underlayIp, underlayIface: 'eth0' }, [
    { subnet: hostSubnet(changed, network), publicIp: changed.underlayIp, vtepMac: vtepMac(changed, network) },
  ]);
  return change === 'add' ? peerCommandsArgv(state) : peerRemovalArgv(state);
}
