// Where a live trace listens: every interface of the predicted path, the textbook path of the
// source and the destination (pod eth0, host veth, bridge, flannel device, eth0), every port of
// the underlay switch and the underlay bridge itself, and the routers — the places a packet could
// go astray. Pure.
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { vxlanDevice } from '../plan/overlay.js';
import type { CapturePoint } from './capture-session.js';
import type { WalkResult } from './predict-path.js';
import { nsKey, underlayBridges, underlayPorts, type TraceWorld } from './trace-world.js';
import { labSwitches, stitchTunnels, switchKeyOf } from '../plan/engine-placement.js';

function textbookInterfaces(world: TraceWorld, ns: string): { ns: string; iface: string }[] {
  const [node, pod] = ns.split('/');
  const out: { ns: string; iface: string }[] = [];
  const hostLinks = world.ns(node!).state.links;
  if (pod) {
    out.push({ ns, iface: 'eth0' });
    const peer = world.peerOf(ns, 'eth0');
    if (peer) {
      out.push(peer);
      const master = world.link(peer.ns, peer.iface)?.master;
      if (master) out.push({ ns: node!, iface: master });
    }
  } else {
    for (const l of hostLinks.filter((x) => x.kind === 'bridge')) out.push({ ns: node!, iface: l.name });
  }
  for (const l of hostLinks.filter((x) => x.kind === 'vxlan' || x.kind === 'tun')) out.push({ ns: node!, iface: l.name });
  out.push({ ns: node!, iface: 'eth0' });
  return out;
}

export function planCaptures(world: TraceWorld, walk: WalkResult, fromNs: string, destNs: string | undefined, alsoDest: string[] = []): CapturePoint[] {
  const wanted: { ns: string; iface: string }[] = [];
  for (const o of walk.observations) wanted.push({ ns: o.node, iface: o.iface });
  wanted.push(...textbookInterfaces(world, fromNs));
  for (const ns of [...(destNs ? [destNs] : []), ...alsoDest]) wanted.push(...textbookInterfaces(world, ns));
  const lab = world.lab;
  wanted.push(...underlayPoints(lab));

  const points: CapturePoint[] = [];
  const seen = new Set<string>();
  for (const w of wanted) {
    const key = `${w.ns}:${w.iface}`;
    if (seen.has(key) || !world.link(w.ns, w.iface)) continue;
    seen.add(key);
    const view = world.ns(w.ns);
    points.push({ ns: w.ns, container: view.container, ...(view.netns ? { netns: view.netns } : {}), iface: w.iface });
  }
  return points;
}


/** Every switch port but etcd's, each router's links and the switch's bridges. */
function underlayPoints(lab: ResolvedLab): { ns: string; iface: string }[] {
  const out: { ns: string; iface: string }[] = [];
  for (const host of lab.hosts) for (const p of underlayPorts(host)) out.push({ ns: switchKeyOf(lab, host.engine), iface: p.port });
  for (const node of lab.externals.filter((e) => e.role !== 'etcd')) {
    for (const p of underlayPorts(node)) {
      out.push({ ns: switchKeyOf(lab, node.engine), iface: p.port });
      if (node.role === 'router') out.push({ ns: node.name, iface: p.iface });
    }
  }
  for (const sw of labSwitches(lab)) {
    for (const bridge of underlayBridges(lab)) out.push({ ns: sw.key, iface: bridge });
    // Across engines: each switch's tunnels to the others (the stitched hop).
    if (sw.engine) for (const t of stitchTunnels(lab)) out.push({ ns: sw.key, iface: t.device });
  }
  return out;
}

/** The namespace that holds an address, from the lab's plan alone (no kernel read yet). */
export function plannedOwnerOfIp(lab: ResolvedLab, ip: string): string | undefined {
  for (const host of lab.hosts) {
    if (host.underlayIp === ip || host.networks.some((n) => n.bridgeIp === ip)) return host.name;
    const pod = host.pods.find((p) => p.ip === ip);
    if (pod) return nsKey(host.name, pod.name);
  }
  return lab.externals.find((e) => e.underlayIp === ip || e.links?.some((l) => l.ip === ip))?.name;
}

function plannedTextbook(lab: ResolvedLab, ns: string): { ns: string; iface: string }[] {
  const [node, podName] = ns.split('/');
  const host = lab.hosts.find((h) => h.name === node);
  if (!host) return [{ ns: node!, iface: 'eth0' }];
  const out: { ns: string; iface: string }[] = [];
  const pod = host.pods.find((p) => p.name === podName);
  if (pod) out.push({ ns, iface: 'eth0' }, { ns: node!, iface: pod.hostVeth }, { ns: node!, iface: host.networks.find((n) => n.network === pod.network)!.bridge });
  else out.push(...host.networks.map((n) => ({ ns: node!, iface: n.bridge })));
  for (const network of lab.networks) {
    if (network.backend === 'vxlan') out.push({ ns: node!, iface: vxlanDevice(network) });
    if (network.backend === 'udp') out.push({ ns: node!, iface: 'flannel0' });
  }
  out.push({ ns: node!, iface: 'eth0' });
  return out;
}

/** Where to listen from the lab's plan alone, so captures start while the kernels are read:
 * the textbook path of source and destination (every endpoint of a Service), every switch port but etcd's, the underlay
 * bridge and the routers. */
export function plannedCaptures(lab: ResolvedLab, fromNs: string, destNs: string | undefined, alsoDest: string[] = []): CapturePoint[] {
  const wanted = [...plannedTextbook(lab, fromNs), ...[...(destNs ? [destNs] : []), ...alsoDest].flatMap((ns) => plannedTextbook(lab, ns))];
  wanted.push(...underlayPoints(lab));
  const containerOf = (ns: string) => {
    const node = ns.split('/')[0]!;
    const sw = labSwitches(lab).find((x) => x.key === node);
    if (sw) return sw.container;
    return [...lab.hosts, ...lab.externals].find((n) => n.name === node)!.container;
  };
  const seen = new Set<string>();
  return wanted.flatMap((w) => {
    const key = `${w.ns}:${w.iface}`;
    if (seen.has(key)) return [];
    seen.add(key);
    const netns = w.ns.split('/')[1];
    return [{ ns: w.ns, container: containerOf(w.ns), ...(netns ? { netns } : {}), iface: w.iface }];
  });
}
