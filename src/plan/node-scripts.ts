// Pure rendering of what `up` does inside each container, as the shell commands a student could
// type themselves. One script per container, run with one `docker exec` (DESIGN.md "Batch the
// kernel work").
import type { ResolvedExternal, ResolvedHost, ResolvedLab, ResolvedNetwork } from './resolved-lab.js';
import { mtuFor } from '../agent/peer-state.js';
import { agentPreparationLines, etcdStartLines, isOverlay, staticOverlayLines, usesAgent } from './overlay.js';

export interface NodeScript {
  node: string;
  container: string;
  /** Shell lines; lines starting with '#' explain the step that follows. */
  lines: string[];
}

/** How the switch script names a container's PID: a number at run time, a shell expansion in --dry-run. */
export type PidReference = (container: string) => string;

export const dryRunPid: PidReference = (container) => `$(docker inspect -f '{{.State.Pid}}' ${container})`;

interface UnderlayPort {
  name: string;
  container: string;
  mac: string;
}

function underlayPorts(lab: ResolvedLab): UnderlayPort[] {
  return [
    ...lab.hosts.map((h) => ({ name: h.name, container: h.container, mac: h.underlayMac })),
    ...lab.externals.map((e) => ({ name: e.name, container: e.container, mac: e.underlayMac })),
  ];
}

/** The switch itself: one Linux bridge. */
export function renderSwitchBridgeScript(lab: ResolvedLab): NodeScript {
  const u = lab.underlay;
  return {
    node: 'switch',
    container: u.switchContainer,
    lines: [
      `# the underlay switch: a Linux bridge; every node's eth0 is a veth whose other end is a port here`,
      `ip link add ${u.bridge} type bridge`,
      `ip link set ${u.bridge} up`,
    ],
  };
}

/** One cable: a veth pair from a switch port to the node's eth0 (run in the switch container). */
export function renderCableScript(lab: ResolvedLab, node: string, pid: PidReference): NodeScript {
  const u = lab.underlay;
  const port = underlayPorts(lab).find((p) => p.name === node);
  if (!port) throw new Error(`no node ${node} in lab ${lab.name}`);
  return {
    node: 'switch',
    container: u.switchContainer,
    lines: [
      `# cable to ${port.name}: port "${port.name}" here, "eth0" in ${port.container}`,
      `ip link add ${port.name} mtu ${u.mtu} type veth peer name eth0 address ${port.mac} mtu ${u.mtu} netns ${pid(port.container)}`,
      `ip link set ${port.name} master ${u.bridge} up`,
    ],
  };
}

/** The whole underlay at once, as --dry-run shows it. */
export function renderSwitchScript(lab: ResolvedLab, pid: PidReference): NodeScript {
  const lines = [...renderSwitchBridgeScript(lab).lines];
  for (const port of underlayPorts(lab)) lines.push(...renderCableScript(lab, port.name, pid).lines);
  return { node: 'switch', container: lab.underlay.switchContainer, lines };
}

function underlayLines(ip: string, lab: ResolvedLab): string[] {
  return [
    `# underlay address on eth0`,
    `ip link set lo up`,
    `ip addr add ${ip}/${lab.underlay.prefixLen} dev eth0`,
    `ip link set eth0 up`,
  ];
}

function bridgeLines(host: ResolvedHost, network: ResolvedNetwork): string[] {
  const hostNetwork = host.networks.find((hn) => hn.network === network.name)!;
  const prefix = hostNetwork.subnet.split('/')[1];
  return [
    `# the bridge ${hostNetwork.bridge}: the pods' switch, and their gateway ${hostNetwork.bridgeIp}`,
    `ip link add ${hostNetwork.bridge} type bridge`,
    `ip link set ${hostNetwork.bridge} address ${hostNetwork.bridgeMac}`,
    `ip addr add ${hostNetwork.bridgeIp}/${prefix} dev ${hostNetwork.bridge}`,
    `ip link set ${hostNetwork.bridge} up`,
  ];
}

/** Pods get the overlay's MTU, as flannel's CNI plugin sets it from FLANNEL_MTU. */
function podMtu(lab: ResolvedLab, network: ResolvedNetwork): number {
  return isOverlay(network) ? mtuFor(network.backend as 'vxlan' | 'udp' | 'host-gw', lab.underlay.mtu) : lab.underlay.mtu;
}

function podLines(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork): string[] {
  const lines: string[] = [];
  const mtu = podMtu(lab, network);
  for (const pod of host.pods.filter((p) => p.network === network.name)) {
    lines.push(
      `# pod ${pod.name}: a network namespace, cabled to ${network.bridge} by a veth pair`,
      `ip netns add ${pod.name}`,
      `ip link add ${pod.hostVeth} mtu ${mtu} type veth peer name eth0 address ${pod.mac} mtu ${mtu} netns ${pod.name}`,
      `ip link set ${pod.hostVeth} master ${network.bridge} up`,
      `ip -n ${pod.name} link set lo up`,
      `ip -n ${pod.name} addr add ${pod.ip}/${pod.prefixLen} dev eth0`,
      `ip -n ${pod.name} link set eth0 up`,
      `ip -n ${pod.name} route add default via ${pod.gateway}`,
    );
  }
  return lines;
}

function natLines(network: ResolvedNetwork): string[] {
  if (!network.nat) return [];
  return [
    `# NAT: pod traffic leaving the pod network ${network.cidr} takes the host's address`,
    `iptables -t nat -A POSTROUTING -s ${network.cidr} ! -d ${network.cidr} -o eth0 -j MASQUERADE`,
  ];
}

/** What the network's control plane needs in this host, beyond bridge and pods. */
function controlPlaneLines(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork): string[] {
  if (!isOverlay(network)) return natLines(network);
  if (usesAgent(network)) return agentPreparationLines(lab, host, network); // the agent adds NAT (ipMasq)
  return [...staticOverlayLines(lab, host, network), ...natLines(network)];
}

/** Several pod networks on one host are tenants: the VNI keeps them apart on the wire, and in
 * the host (one routing table for all) a firewall rule does what a VRF would. */
function tenantIsolationLines(lab: ResolvedLab): string[] {
  if (lab.networks.length < 2) return [];
  const lines = [`# tenants: the host routes for every network, so forwarding between them is dropped`];
  for (const a of lab.networks) {
    for (const b of lab.networks) if (a !== b) lines.push(`iptables -I FORWARD -s ${a.cidr} -d ${b.cidr} -j DROP`);
  }
  return lines;
}

export function renderHostScript(lab: ResolvedLab, host: ResolvedHost): NodeScript {
  const lines = [...underlayLines(host.underlayIp, lab)];
  if (lab.underlay.gateway) {
    lines.push(`# default route: the underlay router`, `ip route add default via ${lab.underlay.gateway}`);
  }
  for (const network of lab.networks) {
    lines.push(...bridgeLines(host, network), ...podLines(lab, host, network), ...controlPlaneLines(lab, host, network));
  }
  lines.push(...tenantIsolationLines(lab));
  return { node: host.name, container: host.container, lines };
}

export function renderExternalScript(lab: ResolvedLab, node: ResolvedExternal): NodeScript {
  const lines = [...underlayLines(node.underlayIp, lab)];
  if (node.role === 'router') {
    lines.push(`# a router that knows only the underlay: no route to any pod network`);
  }
  if (node.role === 'etcd') lines.push(...etcdStartLines(lab));
  return { node: node.name, container: node.container, lines };
}

export function renderNodeScripts(lab: ResolvedLab): NodeScript[] {
  return [...lab.hosts.map((h) => renderHostScript(lab, h)), ...lab.externals.map((e) => renderExternalScript(lab, e))];
}
