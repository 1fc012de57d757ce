// Rules for a routed underlay (`underlay.segments`): segment names and subnets, which segment each
// host and node stands on, routers that join every segment to the others, and the gateways. A
// spec without segments meets none of these (one segment, as always).
import { broadcastOf, cidrContains, cidrsOverlap, formatCidr, intToIp, ipToInt, type Cidr } from '../shared/ipv4.js';
import type { RuleState } from './rule-state.js';
import { UNDERLAY_MAX_PREFIX, UNDERLAY_MIN_PREFIX } from './network-rules.js';
import { closest } from './suggest.js';
import { formatPath, type PathSeg } from './yaml-source.js';

/** A node on several segments names its k-th port `<node>.<k>` in the switch: 15 bytes at most. */
export const MULTI_SEGMENT_NAME_MAX = 13;

export function checkSegments(st: RuleState): void {
  const lab = st.draft.lab;
  const segments = lab.underlay?.segments;
  const hosts = lab.hosts.map((h, i) => ({ h, i })).filter((x) => x.h !== undefined);
  const nodes = (lab.nodes ?? []).map((n, i) => ({ n, i })).filter((x) => x.n !== undefined);
  if (segments === undefined) {
    for (const { h, i } of hosts) {
      if (h!.segment !== undefined) st.err(['hosts', i, 'segment'], `"${h!.segment}" names a segment, but the lab has no underlay.segments.`, 'Add underlay.segments (a routed underlay), or remove segment:.', 'key');
    }
    for (const { n, i } of nodes) {
      if (n!.segments !== undefined) st.err(['nodes', i, 'segments'], 'segments: needs underlay.segments (a routed underlay).', 'Add underlay.segments, or remove segments:.', 'key');
    }
    return;
  }
  // Across engines every segment's bridge is stitched on a VNI of its own: stitch.vni, then the
  // next ones — all within 24 bits.
  const vni = lab.stitch?.vni;
  if (vni !== undefined && Object.keys(lab.engines ?? {}).length > 1 && vni + segments.length - 1 > 0xffffff)
    st.err(['stitch', 'vni'], `${vni} leaves no room for the ${segments.length} segments' tunnels (VNI ${vni} to ${vni + segments.length - 1}; the largest is 16777215).`, `Use at most ${0xffffff - segments.length + 1}.`);
  if (lab.underlay?.subnet !== undefined) st.err(['underlay', 'subnet'], 'underlay.subnet and underlay.segments are both given.', "Give each segment its own subnet: under segments.", 'key');
  if (lab.underlay?.gateway !== undefined) st.err(['underlay', 'gateway'], 'underlay.gateway and underlay.segments are both given.', "Give a segment its gateway: under segments (default: the first router on it).", 'key');

  const names = new Map<string, PathSeg[]>();
  const cidrs: { name: string; cidr: Cidr; path: PathSeg[] }[] = [];
  segments.forEach((s, i) => {
    const path: PathSeg[] = ['underlay', 'segments', i];
    const first = names.get(s.name);
    if (first) st.err([...path, 'name'], `duplicate segment name "${s.name}"; ${formatPath(first)} already uses it.`);
    else names.set(s.name, path);
    const member = st.members.get(s.name);
    if (member) st.err([...path, 'name'], `"${s.name}" is also the name of ${formatPath(member.path)}; a segment names its bridge in the switch, beside every node's port.`, 'Use another segment name, e.g. rack1.');
    if (s.name === 'lo') st.err([...path, 'name'], '"lo" is the switch\'s loopback; a segment names its bridge there.', 'Use another segment name.');
    if (s.subnet !== undefined) {
      const c = st.cidr([...path, 'subnet'], s.subnet);
      if (!c) return;
      if (c.prefix < UNDERLAY_MIN_PREFIX || c.prefix > UNDERLAY_MAX_PREFIX) {
        st.err([...path, 'subnet'], `${s.subnet} is a /${c.prefix}; a segment's subnet must be between /${UNDERLAY_MIN_PREFIX} and /${UNDERLAY_MAX_PREFIX}.`, 'Use a /24, for example.');
        return;
      }
      for (const other of cidrs) if (cidrsOverlap(other.cidr, c)) st.err([...path, 'subnet'], `${s.subnet} overlaps segment "${other.name}" (${formatCidr(other.cidr)}).`, 'Each segment needs its own subnet.');
      for (const n of st.nets) if (n.cidr && cidrsOverlap(n.cidr, c)) st.err([...path, 'subnet'], `${s.subnet} overlaps pod network "${n.spec.name}" (${n.spec.cidr}).`, 'The underlay and the pod networks must not share addresses.');
      cidrs.push({ name: s.name, cidr: c, path });
    }
  });
  const known = [...names.keys()];
  const unknown = (path: PathSeg[], name: string) => {
    const close = closest(name, known);
    st.err(path, `unknown segment "${name}".`, close ? `Did you mean "${close}"?` : `Segments: ${known.join(', ')}.`);
  };
  for (const { h, i } of hosts) if (h!.segment !== undefined && !names.has(h!.segment)) unknown(['hosts', i, 'segment'], h!.segment);
  const joins: { name: string; segments: string[] }[] = [];
  for (const { n, i } of nodes) {
    const node = n!;
    const mine = node.segments ?? [known[0]!];
    node.segments?.forEach((s, k) => {
      if (!names.has(s)) unknown(['nodes', i, 'segments', k], s);
    });
    if (mine.length > 1 && node.role !== 'router') st.err(['nodes', i, 'segments'], `${node.name} is an outside node on ${mine.length} segments; only a router joins several.`, 'Give it one segment, or role: router.');
    if (mine.length > 1 && node.name.length > MULTI_SEGMENT_NAME_MAX)
      st.err(['nodes', i, 'name'], `"${node.name}" is ${node.name.length} characters; a node on several segments has at most ${MULTI_SEGMENT_NAME_MAX} (its ports in the switch are ${node.name}, ${node.name}.1, …, at most 15 bytes).`, 'Use a shorter name, e.g. tor1.');
    if (node.role === 'router') joins.push({ name: node.name, segments: mine.filter((s) => names.has(s)) });
  }
  if (known.length > 1 && !st.draft.gaps.anyMember) {
    for (const s of unjoinedSegments(known, joins)) {
      st.err(['underlay', 'segments', known.indexOf(s)], `segment "${s}" is joined to "${known[0]}" by no router: its hosts could not reach the rest of the lab.`, 'Add a router node whose segments: include it and a segment joined to the others.');
    }
  }
  const subnetOf = new Map(cidrs.map((c) => [c.name, c.cidr]));
  const fixed = [
    ...hosts.map(({ h, i }) => ({ ip: h!.underlayIp, segment: h!.segment ?? known[0]!, path: ['hosts', i, 'underlayIp'] as PathSeg[] })),
    ...nodes.map(({ n, i }) => ({ ip: n!.underlayIp, segment: n!.segments?.[0] ?? known[0]!, path: ['nodes', i, 'underlayIp'] as PathSeg[] })),
  ];
  for (const f of fixed) {
    if (f.ip === undefined || !names.has(f.segment)) continue;
    const c = subnetOf.get(f.segment);
    const given = segments.find((x) => x.name === f.segment)?.subnet;
    if (!c) {
      if (given === undefined) st.err(f.path, `${f.ip} is a fixed address on segment "${f.segment}", whose subnet overlab chooses.`, `Give segment "${f.segment}" a subnet: too.`);
      continue;
    }
    if (!cidrContains(c, f.ip)) st.err(f.path, `${f.ip} is outside segment "${f.segment}" (${formatCidr(c)}).`, `Use an address from ${intToIp(c.network + 1)} to ${intToIp(broadcastOf(c) - 1)}.`);
    else if (ipToInt(f.ip) === c.network || ipToInt(f.ip) === broadcastOf(c)) st.err(f.path, `${f.ip} is the network or broadcast address of segment "${f.segment}" (${formatCidr(c)}).`);
  }

  segments.forEach((s, i) => {
    if (s.gateway === undefined) return;
    const m = st.members.get(s.gateway);
    const path: PathSeg[] = ['underlay', 'segments', i, 'gateway'];
    const router = nodes.find((x) => x.n!.name === s.gateway)?.n;
    if (!m) st.err(path, `unknown node "${s.gateway}".`, 'Name a router node on this segment.');
    else if (!router || router.role !== 'router') st.err(path, `"${s.gateway}" is not a router; a segment's gateway must be a router node.`);
    else if (!(router.segments ?? [known[0]!]).includes(s.name)) st.err(path, `router "${s.gateway}" is not on segment "${s.name}".`, `Add ${s.name} to its segments:.`);
  });
}

/** Segments no router joins to the first one. */
export function unjoinedSegments(segments: string[], routers: { segments: string[] }[]): string[] {
  const reached = new Set([segments[0]!]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of routers) {
      if (!r.segments.some((s) => reached.has(s))) continue;
      for (const s of r.segments) if (!reached.has(s)) grew = reached.add(s) !== undefined;
    }
  }
  return segments.filter((s) => !reached.has(s));
}
