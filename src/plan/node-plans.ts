// Pure: what `up` does inside each container, as argv commands (node-plan.ts) a student could
// type themselves. One plan per container, run with one `docker exec` (step-runner.ts).
//
// The underlay: the switch container holds one Linux bridge. Every other node is created with
// the switch's network namespace bound read-only at UNDERLAY_NETNS, and makes its own cable: a
// veth pair whose `eth0` end stays in the node and whose other end is created straight in the
// switch's namespace, then enslaved to the bridge from there (nsenter --net). So cabling needs
// no exec in the switch and no shared PID namespace: `ps` in the switch shows only the switch.
import type { BindMount } from '../runtime/runtime.js';
import type { ResolvedExternal, ResolvedHost, ResolvedLab, ResolvedNetwork } from './resolved-lab.js';
import { mtuFor } from '../shared/peer-state.js';
import { isOverlay, staticOverlayPlan, usesAgent } from './overlay.js';
import { comment, command, type NodePlan, type PlanLine } from './node-plan.js';
import { usesCni } from './cni-plan.js';

/** Where the switch's network namespace file is bound in every other node of the lab. */
export const UNDERLAY_NETNS = '/run/overlab/underlay.netns';

/** The switch itself: one Linux bridge. */
export function renderSwitchPlan(lab: ResolvedLab): NodePlan {
  const u = lab.underlay;
  return {
    node: 'switch',
    container: u.switchContainer,
    lines: [
      comment(`the underlay switch: a Linux bridge; every node's eth0 is a veth whose other end is a port here`),
      command('ip', 'link', 'add', 'name', u.bridge, 'type', 'bridge'),
      command('ip', 'link', 'set', 'dev', u.bridge, 'up'),
    ],
  };
}

/** A node's cable, made by the node itself: eth0 here, port `<node>` on the switch's bridge. */
function cableLines(lab: ResolvedLab, node: string, mac: string): PlanLine[] {
  const u = lab.underlay;
  return [
    comment(`cable: eth0 here, port "${node}" on the underlay switch (its network namespace is bound at ${UNDERLAY_NETNS})`),
    command('ip', 'link', 'add', 'name', 'eth0', 'address', mac, 'mtu', String(u.mtu), 'type', 'veth', 'peer', 'name', node, 'mtu', String(u.mtu), 'netns', UNDERLAY_NETNS),
    command('nsenter', `--net=${UNDERLAY_NETNS}`, 'ip', 'link', 'set', 'dev', node, 'master', u.bridge, 'up'),
  ];
}

function underlayLines(lab: ResolvedLab, node: string, mac: string, ip: string): PlanLine[] {
  return [
    ...cableLines(lab, node, mac),
    comment(`underlay address on eth0`),
    command('ip', 'link', 'set', 'dev', 'lo', 'up'),
    command('ip', 'addr', 'add', `${ip}/${lab.underlay.prefixLen}`, 'dev', 'eth0'),
    command('ip', 'link', 'set', 'dev', 'eth0', 'up'),
  ];
}

function bridgeLines(host: ResolvedHost, network: ResolvedNetwork): PlanLine[] {
  const hostNetwork = host.networks.find((hn) => hn.network === network.name)!;
  const prefix = hostNetwork.subnet.split('/')[1];
  const bridge = hostNetwork.bridge;
  return [
    comment(`the bridge ${bridge}: the pods' switch, and their gateway ${hostNetwork.bridgeIp}`),
    command('ip', 'link', 'add', 'name', bridge, 'type', 'bridge'),
    command('ip', 'link', 'set', 'dev', bridge, 'address', hostNetwork.bridgeMac),
    command('ip', 'addr', 'add', `${hostNetwork.bridgeIp}/${prefix}`, 'dev', bridge),
    command('ip', 'link', 'set', 'dev', bridge, 'up'),
  ];
}

/** Pods get the overlay's MTU, as flannel's CNI plugin sets it from FLANNEL_MTU. */
function podMtu(lab: ResolvedLab, network: ResolvedNetwork): number {
  return isOverlay(network) ? mtuFor(network.backend as 'vxlan' | 'udp' | 'host-gw', lab.underlay.mtu) : lab.underlay.mtu;
}

function podLines(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork): PlanLine[] {
  const lines: PlanLine[] = [];
  const mtu = String(podMtu(lab, network));
  for (const pod of host.pods.filter((p) => p.network === network.name)) {
    const ns = pod.name;
    lines.push(
      comment(`pod ${pod.name}: a network namespace, cabled to ${network.bridge} by a veth pair`),
      command('ip', 'netns', 'add', ns),
      command('ip', 'link', 'add', 'name', pod.hostVeth, 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'eth0', 'address', pod.mac, 'mtu', mtu, 'netns', ns),
      command('ip', 'link', 'set', 'dev', pod.hostVeth, 'master', network.bridge, 'up'),
      command('ip', '-n', ns, 'link', 'set', 'dev', 'lo', 'up'),
      command('ip', '-n', ns, 'addr', 'add', `${pod.ip}/${pod.prefixLen}`, 'dev', 'eth0'),
      command('ip', '-n', ns, 'link', 'set', 'dev', 'eth0', 'up'),
      command('ip', '-n', ns, 'route', 'add', 'default', 'via', pod.gateway),
    );
  }
  return lines;
}

function natLines(network: ResolvedNetwork): PlanLine[] {
  if (!network.nat) return [];
  return [
    comment(`NAT: pod traffic leaving the pod network ${network.cidr} takes the host's address`),
    command('iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', network.cidr, '!', '-d', network.cidr, '-o', 'eth0', '-j', 'MASQUERADE'),
  ];
}

/** What the network's control plane needs in this host, beyond bridge and pods. With etcd, the
 * agent does the rest (and adds NAT itself, as flannel's ipMasq does): see agents.ts. */
function controlPlaneLines(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork): PlanLine[] {
  if (!isOverlay(network)) return natLines(network);
  if (usesAgent(network)) return [];
  return [...staticOverlayPlan(lab, host, network), ...natLines(network)];
}

/** Several pod networks on one host are tenants: the VNI keeps them apart on the wire, and in
 * the host (one routing table for all) a firewall rule does what a VRF would. */
function tenantIsolationLines(lab: ResolvedLab): PlanLine[] {
  if (lab.networks.length < 2) return [];
  const lines = [comment(`tenants: the host routes for every network, so forwarding between them is dropped`)];
  for (const a of lab.networks) {
    for (const b of lab.networks) if (a !== b) lines.push(command('iptables', '-I', 'FORWARD', '-s', a.cidr, '-d', b.cidr, '-j', 'DROP'));
  }
  return lines;
}

export function renderHostPlan(lab: ResolvedLab, host: ResolvedHost): NodePlan {
  const lines = underlayLines(lab, host.name, host.underlayMac, host.underlayIp);
  if (lab.underlay.gateway) {
    lines.push(comment(`default route: the underlay router`), command('ip', 'route', 'add', 'default', 'via', lab.underlay.gateway));
  }
  for (const network of lab.networks) {
    // A CNI host's bridge and pods come from the plugins, after this plan (src/plan/cni-plan.ts).
    if (!usesCni(host)) lines.push(...bridgeLines(host, network), ...podLines(lab, host, network));
    else lines.push(comment(`${network.bridge} and the pods: attached through CNI once ${usesAgent(network) ? 'the agent has written' : 'overlab has written'} /run/flannel/subnet.env (see below)`));
    lines.push(...controlPlaneLines(lab, host, network));
  }
  lines.push(...tenantIsolationLines(lab));
  return { node: host.name, container: host.container, lines };
}

export function renderExternalPlan(lab: ResolvedLab, node: ResolvedExternal): NodePlan {
  const lines = underlayLines(lab, node.name, node.underlayMac, node.underlayIp);
  if (node.role === 'router') lines.push(comment(`a router that knows only the underlay: no route to any pod network`));
  return { node: node.name, container: node.container, lines };
}

/** Every node's plan except the switch's. */
export function renderNodePlans(lab: ResolvedLab): NodePlan[] {
  return [...lab.hosts.map((h) => renderHostPlan(lab, h)), ...lab.externals.map((e) => renderExternalPlan(lab, e))];
}

/** The switch's network namespace file, bound read-only into a node at UNDERLAY_NETNS. */
export function underlayMount(netnsFile: string): BindMount {
  return { source: netnsFile, target: UNDERLAY_NETNS, readonly: true };
}
