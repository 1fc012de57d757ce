// Rules for the pod networks and the underlay subnet: CIDRs, room for the hosts, bridges, and
// overlays that would collide on the wire (same VNI on one port, two backends on one port).
import { cidrOf, cidrsOverlap, formatCidr, prefixSize, subnetCount } from '../shared/ipv4.js';
import { networkSpec, rawNetworks } from './spec-defaults.js';
import type { PodNetworkSpec } from './lab-spec.js';
import { bridgeNameProblem } from './name-rules.js';
import type { NetInfo, RuleState } from './rule-state.js';
import { formatPath, type PathSeg } from './yaml-source.js';

export const UNDERLAY_MIN_PREFIX = 16;
export const UNDERLAY_MAX_PREFIX = 29;

export function checkNetworks(st: RuleState): void {
  const { single, raws } = rawNetworks(st.draft.lab);
  const byName = new Map<string, PathSeg[]>();
  const byBridge = new Map<string, NetInfo>();
  raws.forEach((r, i) => {
    if (r === undefined) return; // unreadable: reported by the schema
    const path: PathSeg[] = single ? ['network'] : ['networks', i];
    const spec = networkSpec(r, i, single);
    const broken = st.draft.brokenNetworks.has(i);
    const info: NetInfo = { spec, path, raw: r, splittable: false, broken };
    if (broken) {
      // Only its name is trusted; everything that depends on its fields is skipped.
      if (typeof r.name === 'string' || single) st.nets.push(info);
      return;
    }
    if (spec.backend === 'udp' && r.controlPlane === 'static') {
      st.err(
        [...path, 'controlPlane'],
        'the udp backend forwards every packet through the userspace agent, which learns its peers from etcd; it has no static form.',
        'Use controlPlane: etcd (the default for udp), or backend: vxlan or host-gw for a static control plane.',
      );
    }
    if (!single) {
      const first = byName.get(spec.name);
      if (first) st.err([...path, 'name'], `duplicate network name "${spec.name}"; ${formatPath(first)} already uses it.`);
      else byName.set(spec.name, path);
    }
    info.cidr = st.cidr([...path, 'cidr'], spec.cidr);
    if (info.cidr && spec.backend === 'bgp') {
      // cut into blocks (bgp-rules.ts), not subnetLen slices
    } else if (info.cidr) {
      if (spec.subnetLen < info.cidr.prefix) {
        st.err(
          [...path, 'subnetLen'],
          `subnetLen ${spec.subnetLen} is shorter than the prefix of ${spec.cidr} (/${info.cidr.prefix}); host subnets must fit inside the network.`,
          `Use a subnetLen between ${info.cidr.prefix} and 30.`,
        );
      } else {
        info.splittable = true; // subnetLen == prefix: one host gets the whole network
      }
    }
    const bridgeProblem = r.bridge === undefined ? undefined : bridgeNameProblem(spec.bridge);
    if (bridgeProblem) st.err([...path, 'bridge'], `${bridgeProblem}.`);
    const sameBridge = byBridge.get(spec.bridge);
    if (sameBridge)
      st.err(
        [...path, 'bridge'],
        `bridge "${spec.bridge}"${r.bridge === undefined ? ' (the default)' : ''} is already used by network "${sameBridge.spec.name}"; each pod network needs its own bridge.`,
        `Set bridge: to another name, e.g. "cni${i}".`,
      );
    else byBridge.set(spec.bridge, info);

    for (const other of st.nets) if (!other.broken) networkPair(st, other, info);
    st.nets.push(info);
  });

  const hostCount = st.draft.lab.hosts.length;
  for (const n of st.nets) {
    if (!n.cidr || !n.splittable) continue;
    const room = subnetCount(n.cidr.prefix, n.spec.subnetLen);
    if (hostCount > room)
      st.err(
        [...n.path, 'cidr'],
        `${n.spec.cidr} has room for ${room} /${n.spec.subnetLen} host ${room === 1 ? 'subnet' : 'subnets'}, but the lab has ${hostCount} hosts.`,
        'Use a larger cidr or a longer subnetLen.',
      );
  }
}

/** Conflicts between two pod networks (b comes after a in the file; b gets the error). */
function networkPair(st: RuleState, a: NetInfo, b: NetInfo): void {
  if (a.cidr && b.cidr && cidrsOverlap(a.cidr, b.cidr))
    st.err([...b.path, 'cidr'], `${b.spec.cidr} overlaps network "${a.spec.name}" (${a.spec.cidr}).`, 'Pod networks must not share addresses.');
  const x = a.spec;
  const y = b.spec;
  const overlay = (n: PodNetworkSpec) => n.backend === 'vxlan' || n.backend === 'udp';
  if (!overlay(x) || !overlay(y) || x.port !== y.port) return;
  const portNote = b.raw.port === undefined ? ' (the default)' : '';
  if (x.backend === 'vxlan' && y.backend === 'vxlan') {
    if (x.vni === y.vni)
      st.err(
        [...b.path, 'vni'],
        `VNI ${y.vni}${b.raw.vni === undefined ? ' (the default)' : ''} on port ${y.port} is already used by network "${x.name}"; two vxlan networks on one port need different VNIs.`,
        `Set vni: ${Math.max(x.vni, y.vni) + 1 > 16777215 ? 0 : Math.max(x.vni, y.vni) + 1}, for example.`,
      );
  } else if (x.backend !== y.backend) {
    st.err([...b.path, 'port'], `port ${y.port}${portNote} is already used by network "${x.name}" (${x.backend}); a ${y.backend} network cannot share it.`, 'Set another port.');
  } else {
    st.err([...b.path, 'port'], `port ${y.port}${portNote} is already used by network "${x.name}"; two udp networks cannot share a port.`, 'Set another port.');
  }
}

export function checkUnderlaySubnet(st: RuleState): void {
  const s = st.draft.lab.underlay?.subnet;
  if (s === undefined) return;
  const path: PathSeg[] = ['underlay', 'subnet'];
  const c = st.cidr(path, s);
  if (!c) return;
  if (c.prefix < UNDERLAY_MIN_PREFIX || c.prefix > UNDERLAY_MAX_PREFIX) {
    st.err(
      path,
      `${s} is a /${c.prefix}; the underlay subnet must be between /${UNDERLAY_MIN_PREFIX} and /${UNDERLAY_MAX_PREFIX}.`,
      c.prefix < UNDERLAY_MIN_PREFIX ? `Use a smaller network, e.g. ${formatCidr(cidrOf(c.network, 24))}.` : 'Use a larger network, e.g. a /24.',
    );
    return;
  }
  st.underlay = c;
  for (const n of st.nets) {
    if (n.cidr && cidrsOverlap(c, n.cidr))
      st.err(path, `${s} overlaps pod network "${n.spec.name}" (${n.spec.cidr}).`, 'The underlay and the pod networks must not share addresses.');
  }
  const members = st.draft.lab.hosts.length + (st.draft.lab.nodes?.length ?? 0);
  const room = prefixSize(c.prefix) - 3; // network, the reserved .1, broadcast
  if (members > room) st.err(path, `${s} has room for ${room} hosts and nodes, but the lab has ${members}.`, 'Use a larger underlay subnet.');
}
