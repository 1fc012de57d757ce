// Pure: what `up` does inside each container, as argv commands (node-plan.ts) a student could
// type themselves. One plan per container, run with one `docker exec` (step-runner.ts).
//
// The underlay: the switch container holds one Linux bridge (one per segment on a routed
// underlay). Every node, started while the switch starts (not after it), first receives the
// switch's network namespace over a unix socket on the lab's share (`netns-share get`; the switch
// runs `netns-share serve` until every node has it) and binds it at UNDERLAY_NETNS, then makes its
// own cables: a veth pair whose `eth<k>` end stays in the node and whose other end is created
// straight in the switch's namespace, then enslaved to the bridge from there (nsenter --net). No
// shared PID namespace: `ps` in the switch shows only the switch.
import { SHARE_DIR } from './container-names.js';
import type { ResolvedExternal, ResolvedHost, ResolvedLab, ResolvedLink, ResolvedNetwork } from './resolved-lab.js';
import { blockGateway } from './ipam-blocks.js';
import { mtuFor } from '../shared/peer-state.js';
import { isOverlay, staticOverlayPlan, usesAgent } from './overlay.js';
import { comment, command, type NodePlan, type PlanLine } from './node-plan.js';
import { usesCni } from './cni-plan.js';

/** Where the switch's network namespace file is bound in every other node of the lab. */
export const UNDERLAY_NETNS = '/run/overlab/underlay.netns';
/** The helper on the lab's share (native/netns-share.c), and the socket it hands the namespace over. */
export const NETNS_SHARE = `${SHARE_DIR}/netns-share`;
export const UNDERLAY_SOCKET = `${SHARE_DIR}/underlay.sock`;
/** How long a node waits for the switch to hand over its namespace (the switch starts meanwhile). */
export const NETNS_WAIT_SECONDS = 120;

/** In the switch: hand its network namespace to the next `count` nodes that ask, then stop. */
export function netnsServeArgv(count: number): string[] {
  return [NETNS_SHARE, 'serve', UNDERLAY_SOCKET, String(Math.max(1, count)), String(NETNS_WAIT_SECONDS + 60)];
}

/** The bridges of a lab's switch: one, or one per segment of a routed underlay. */
export function switchBridges(lab: ResolvedLab): string[] {
  const u = lab.underlay;
  return u.segments ? u.segments.map((s) => s.bridge) : [u.bridge];
}

/** The switch itself: one Linux bridge — or, on a routed underlay, one per segment (rack); only
 * `bridges` of them when given. */
export function renderSwitchPlan(lab: ResolvedLab, bridges: readonly string[] = switchBridges(lab)): NodePlan {
  const u = lab.underlay;
  const lines: PlanLine[] = u.segments
    ? [comment(`the underlay switch of a routed underlay: one Linux bridge per segment (rack), joined only through the router nodes`)]
    : [comment(`the underlay switch: a Linux bridge; every node's eth0 is a veth whose other end is a port here`)];
  for (const bridge of bridges) {
    lines.push(command('ip', 'link', 'add', 'name', bridge, 'type', 'bridge'), command('ip', 'link', 'set', 'dev', bridge, 'up'));
  }
  return { node: 'switch', container: u.switchContainer, lines };
}

/** A node's links: eth0 on the one underlay, or one per segment it is on. */
function nodeLinks(lab: ResolvedLab, node: { name: string; underlayIp: string; underlayMac: string; links?: ResolvedLink[] }): { iface: string; ip: string; mac: string; port: string; bridge: string; prefixLen: number; segment?: string }[] {
  const u = lab.underlay;
  if (!node.links) return [{ iface: 'eth0', ip: node.underlayIp, mac: node.underlayMac, port: node.name, bridge: u.bridge, prefixLen: u.prefixLen }];
  return node.links.map((l) => {
    const s = u.segments!.find((x) => x.name === l.segment)!;
    return { iface: l.iface, ip: l.ip, mac: l.mac, port: l.port, bridge: s.bridge, prefixLen: s.prefixLen, segment: s.name };
  });
}

/** A node's cables, made by the node itself: eth<k> here, port `<node>` (`<node>.<k>`) on the
 * switch's bridge (its segment's), and the address on it. */
function underlayLines(lab: ResolvedLab, node: { name: string; underlayIp: string; underlayMac: string; links?: ResolvedLink[] }): PlanLine[] {
  const mtu = String(lab.underlay.mtu);
  const links = nodeLinks(lab, node);
  const lines: PlanLine[] = [
    comment(`the switch's network namespace, handed over ${UNDERLAY_SOCKET}, bound at ${UNDERLAY_NETNS}`),
    command(NETNS_SHARE, 'get', UNDERLAY_SOCKET, UNDERLAY_NETNS, String(NETNS_WAIT_SECONDS)),
  ];
  for (const l of links) {
    const where = l.segment ? `on the bridge of segment ${l.segment}` : 'on the underlay switch';
    lines.push(
      comment(`cable: ${l.iface} here, port "${l.port}" ${where} (its network namespace is bound at ${UNDERLAY_NETNS})`),
      command('ip', 'link', 'add', 'name', l.iface, 'address', l.mac, 'mtu', mtu, 'type', 'veth', 'peer', 'name', l.port, 'mtu', mtu, 'netns', UNDERLAY_NETNS),
      command('nsenter', `--net=${UNDERLAY_NETNS}`, 'ip', 'link', 'set', 'dev', l.port, 'master', l.bridge, 'up'),
    );
  }
  lines.push(comment(`underlay address${links.length > 1 ? 'es' : ''} on ${links.map((l) => l.iface).join(', ')}`), command('ip', 'link', 'set', 'dev', 'lo', 'up'));
  for (const l of links) lines.push(command('ip', 'addr', 'add', `${l.ip}/${l.prefixLen}`, 'dev', l.iface), command('ip', 'link', 'set', 'dev', l.iface, 'up'));
  return lines;
}

/** A node's default route on a routed underlay: its segment's router (none for a router). */
function segmentGatewayLines(lab: ResolvedLab, node: { links?: ResolvedLink[] }): PlanLine[] {
  const segment = node.links && lab.underlay.segments?.find((s) => s.name === node.links![0]!.segment);
  if (!segment?.gateway) return [];
  return [comment(`default route: ${segment.gatewayNode}, the router of segment ${segment.name}`), command('ip', 'route', 'add', 'default', 'via', segment.gateway)];
}

function bridgeLines(host: ResolvedHost, network: ResolvedNetwork): PlanLine[] {
  const hostNetwork = host.networks.find((hn) => hn.network === network.name)!;
  const prefix = hostNetwork.subnet.split('/')[1];
  const bridge = hostNetwork.bridge;
  const lines = [
    comment(`the bridge ${bridge}: the pods' switch, and their gateway ${hostNetwork.bridgeIp}`),
    command('ip', 'link', 'add', 'name', bridge, 'type', 'bridge'),
    command('ip', 'link', 'set', 'dev', bridge, 'address', hostNetwork.bridgeMac),
    command('ip', 'addr', 'add', `${hostNetwork.bridgeIp}/${prefix}`, 'dev', bridge),
  ];
  const more = (hostNetwork.blocks ?? []).slice(1);
  if (more.length) lines.push(comment(`more IPAM blocks of ${host.name}: the bridge is the gateway in each`));
  for (const block of more) lines.push(command('ip', 'addr', 'add', `${blockGateway(block)}/${block.split('/')[1]}`, 'dev', bridge));
  lines.push(command('ip', 'link', 'set', 'dev', bridge, 'up'));
  return lines;
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
  const lines = [...underlayLines(lab, host), ...segmentGatewayLines(lab, host)];
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
  const lines = underlayLines(lab, node);
  if (node.role === 'router') {
    lines.push(comment(`a router that knows only the underlay: no route to any pod network`));
    if (node.routes?.length) lines.push(comment(`routes to the segments ${node.name} is not on, via the next router`));
    for (const r of node.routes ?? []) lines.push(command('ip', 'route', 'add', r.dst, 'via', r.via, 'dev', r.dev));
  } else lines.push(...segmentGatewayLines(lab, node));
  return { node: node.name, container: node.container, lines };
}

/** Every node's plan except the switch's. */
export function renderNodePlans(lab: ResolvedLab): NodePlan[] {
  return [...lab.hosts.map((h) => renderHostPlan(lab, h)), ...lab.externals.map((e) => renderExternalPlan(lab, e))];
}
