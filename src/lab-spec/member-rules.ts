// Rules for hosts and external nodes: one namespace of names, host subnets inside their network,
// pod addresses inside their host's subnet, underlay addresses, and the underlay gateway.
import { broadcastOf, cidrContains, cidrOf, cidrsOverlap, formatCidr, intToIp, ipToInt, prefixSize, type Cidr } from '../shared/ipv4.js';
import { externalSpec, hostSpec } from './spec-defaults.js';
import type { ExternalNodeSpec, HostSpec } from './lab-spec.js';
import type { NetInfo, RuleState } from './rule-state.js';
import { formatPath, type PathSeg } from './yaml-source.js';
import { closest } from './suggest.js';

interface HostSubnet {
  host: string;
  cidr: Cidr;
}

/** Registers host and node names (one namespace); returns the external nodes. */
export function checkNames(st: RuleState): ExternalNodeSpec[] {
  st.draft.lab.hosts.forEach((h, i) => {
    if (h === undefined) return;
    const path: PathSeg[] = ['hosts', i];
    const first = st.members.get(h.name);
    if (first) st.err([...path, 'name'], `duplicate host name "${h.name}"; ${formatPath(first.path)} already uses it.`);
    else st.members.set(h.name, { kind: 'host', path, pods: (h.pods ?? []).filter((p) => p !== undefined).map((p) => (typeof p === 'string' ? p : p.name)) });
  });
  const externals: ExternalNodeSpec[] = [];
  (st.draft.lab.nodes ?? []).forEach((n, i) => {
    if (n === undefined) return;
    const path: PathSeg[] = ['nodes', i];
    const first = st.members.get(n.name);
    if (first?.kind === 'host')
      st.err([...path, 'name'], `"${n.name}" is already the name of ${formatPath(first.path)}; hosts and external nodes share one namespace.`, 'Use another name.');
    else if (first) st.err([...path, 'name'], `duplicate node name "${n.name}"; ${formatPath(first.path)} already uses it.`);
    else st.members.set(n.name, { kind: 'node', path, role: n.role, pods: [] });
    externals.push(externalSpec(n));
  });
  return externals;
}

export function checkHosts(st: RuleState): HostSpec[] {
  const multi = st.draft.lab.networks !== undefined;
  const firstNet = st.nets[0]?.spec.name ?? 'default';
  const netNames = st.nets.map((n) => n.spec.name);
  const subnetsByNet = new Map<string, HostSubnet[]>();
  const podIps = new Map<number, string>();
  const out: HostSpec[] = [];

  st.draft.lab.hosts.forEach((h, hi) => {
    if (h === undefined) return;
    const hpath: PathSeg[] = ['hosts', hi];
    const host = hostSpec(h, firstNet, multi);

    // Subnets, per network.
    const given: { net: string; cidr: string; path: PathSeg[] }[] = [];
    if (h.subnet !== undefined && h.subnets !== undefined) st.err([...hpath, 'subnets'], '"subnet" and "subnets" are both given.', 'Use one of them.', 'key');
    if (h.subnet !== undefined) {
      if (multi)
        st.err([...hpath, 'subnet'], '"subnet" is for labs with a single "network"; this lab has "networks".', `Write subnets: {${firstNet}: ${h.subnet}}.`, 'key');
      else given.push({ net: firstNet, cidr: h.subnet, path: [...hpath, 'subnet'] });
    }
    for (const [net, cidr] of Object.entries(h.subnets ?? {})) {
      const path: PathSeg[] = [...hpath, 'subnets', net];
      if (!netNames.includes(net)) {
        if (st.draft.gaps.anyNetwork) continue;
        const close = closest(net, netNames);
        st.err(path, `unknown network "${net}".`, close ? `Did you mean "${close}"?` : `Networks: ${netNames.join(', ')}.`, 'key');
        continue;
      }
      given.push({ net, cidr, path });
    }
    const hostCidrs = new Map<string, Cidr>();
    for (const g of given) {
      const c = hostSubnet(st, h.name, g.net, g.cidr, g.path, subnetsByNet);
      if (c) hostCidrs.set(g.net, c);
    }

    // Pods.
    const seen = new Map<string, PathSeg[]>();
    const perNet = new Map<string, number>();
    (h.pods ?? []).forEach((p, pi) => {
      if (p === undefined) return;
      const ppath: PathSeg[] = [...hpath, 'pods', pi];
      const obj = typeof p === 'string' ? { name: p } : p;
      const namePath = typeof p === 'string' ? ppath : [...ppath, 'name'];
      const network = obj.network ?? firstNet;
      const first = seen.get(obj.name);
      if (first) st.err(namePath, `duplicate pod name "${obj.name}" in ${h.name}; ${formatPath(first)} already uses it.`);
      else seen.set(obj.name, namePath);

      const net = st.net(network);
      if (!net) {
        if (st.draft.gaps.anyNetwork) return;
        const close = closest(network, netNames);
        st.err([...ppath, 'network'], `unknown network "${network}".`, close ? `Did you mean "${close}"?` : `Networks: ${netNames.join(', ')}.`);
        return;
      }
      perNet.set(network, (perNet.get(network) ?? 0) + 1);
      // bgp: pods take addresses from their host's blocks (bgp-rules.ts)
      if (obj.ip !== undefined && net.spec.backend !== 'bgp') podIp(st, h.name, obj.name, obj.ip, [...ppath, 'ip'], net, hostCidrs.get(network), multi);
    });
    for (const [netName, count] of perNet) {
      const net = st.net(netName);
      if (!net || net.broken || net.spec.backend === 'bgp') continue;
      const room = prefixSize(net.spec.subnetLen) - 3; // network, bridge, broadcast
      if (count > room)
        st.err(
          [...hpath, 'pods'],
          `${h.name} has ${count} pods on network "${netName}", but a /${net.spec.subnetLen} host subnet holds only ${room}.`,
          'Use a smaller subnetLen (larger host subnets).',
        );
    }
    out.push(host);
  });
  return out;

  function podIp(st: RuleState, host: string, pod: string, ip: string, path: PathSeg[], net: NetInfo, hostCidr: Cidr | undefined, multi: boolean): void {
    const n = ipToInt(ip);
    if (!net.cidr) return;
    if (!cidrContains(net.cidr, n)) {
      st.err(path, `${ip} is outside network "${net.spec.name}" (${net.spec.cidr}).`);
      return;
    }
    if (!hostCidr) {
      const hostRaw = st.draft.lab.hosts.find((x) => x?.name === host);
      const explicit = multi ? hostRaw?.subnets?.[net.spec.name] : hostRaw?.subnet;
      if (explicit !== undefined) return; // the subnet itself is wrong; reported there
      const suggestion = formatCidr(cidrOf(n, net.spec.subnetLen));
      st.err(
        path,
        `${ip} is a fixed pod address, but ${host} has no fixed subnet on network "${net.spec.name}".`,
        multi ? `Add subnets: {${net.spec.name}: ${suggestion}} to ${host}.` : `Add subnet: ${suggestion} to ${host}.`,
      );
      return;
    }
    const sub = formatCidr(hostCidr);
    const range = `Use an address from ${intToIp(hostCidr.network + 2)} to ${intToIp(broadcastOf(hostCidr) - 1)}.`;
    if (!cidrContains(hostCidr, n)) return st.err(path, `${ip} is outside ${host}'s subnet ${sub}.`, range);
    if (n === hostCidr.network) return st.err(path, `${ip} is the network address of ${host}'s subnet ${sub}.`, range);
    if (n === hostCidr.network + 1) return st.err(path, `${ip} is the address of the bridge ${net.spec.bridge} in ${host}'s subnet ${sub}.`, range);
    if (n === broadcastOf(hostCidr)) return st.err(path, `${ip} is the broadcast address of ${host}'s subnet ${sub}.`, range);
    const first = podIps.get(n);
    if (first !== undefined) return st.err(path, `${ip} is already the address of ${first}.`);
    podIps.set(n, `${host}/${pod}`);
    st.knownIps.add(n);
  }
}

function hostSubnet(st: RuleState, host: string, netName: string, s: string, path: PathSeg[], byNet: Map<string, HostSubnet[]>): Cidr | undefined {
  const net = st.net(netName);
  const c = st.cidr(path, s);
  if (!c || !net || !net.cidr) return c;
  const len = net.spec.subnetLen;
  const where = `network "${netName}" (${net.spec.cidr})`;
  if (!cidrContains(net.cidr, c.network)) {
    st.err(path, `${s} is outside ${where}.`);
    return undefined;
  }
  if (c.prefix !== len) {
    const suggestion = formatCidr(cidrOf(c.network, len));
    st.err(path, `${s} is a /${c.prefix}, but ${where} gives each host a /${len} (subnetLen).`, `Use a /${len}, e.g. ${suggestion}.`);
    return undefined;
  }
  const list = byNet.get(netName) ?? [];
  const clash = list.find((o) => cidrsOverlap(o.cidr, c));
  if (clash) {
    st.err(path, `${s} overlaps the subnet of ${clash.host} (${formatCidr(clash.cidr)}) on network "${netName}".`, 'Each host needs its own subnet.');
    return undefined;
  }
  list.push({ host, cidr: c });
  byNet.set(netName, list);
  return c;
}

export function checkUnderlayIps(st: RuleState): void {
  if (st.draft.underlayUnknown) return;
  // A routed underlay's addresses are checked per segment (segment-rules.ts).
  if (st.draft.lab.underlay?.segments !== undefined) return;
  const seen = new Map<number, string>();
  const entries: { name: string; ip?: string; path: PathSeg[] }[] = [
    ...st.draft.lab.hosts.flatMap((h, i) => (h ? [{ name: h.name, ip: h.underlayIp, path: ['hosts', i, 'underlayIp'] as PathSeg[] }] : [])),
    ...(st.draft.lab.nodes ?? []).flatMap((n, i) => (n ? [{ name: n.name, ip: n.underlayIp, path: ['nodes', i, 'underlayIp'] as PathSeg[] }] : [])),
  ];
  for (const e of entries) {
    if (e.ip === undefined) continue;
    const n = ipToInt(e.ip);
    const u = st.underlay;
    if (u) {
      const range = `Use an address from ${intToIp(u.network + 2)} to ${intToIp(broadcastOf(u) - 1)}.`;
      if (!cidrContains(u, n)) {
        st.err(e.path, `${e.ip} is outside the underlay subnet ${formatCidr(u)}.`, range);
        continue;
      }
      if (n === u.network) {
        st.err(e.path, `${e.ip} is the network address of the underlay subnet ${formatCidr(u)}.`, range);
        continue;
      }
      if (n === broadcastOf(u)) {
        st.err(e.path, `${e.ip} is the broadcast address of the underlay subnet ${formatCidr(u)}.`, range);
        continue;
      }
      if (n === u.network + 1) {
        st.err(e.path, `${e.ip} is reserved: Docker gives the first address of the underlay subnet to its bridge.`, range);
        continue;
      }
    } else {
      const inPod = st.nets.find((net) => net.cidr && cidrContains(net.cidr, n));
      if (inPod) {
        st.err(e.path, `${e.ip} lies inside pod network "${inPod.spec.name}" (${inPod.spec.cidr}).`, 'Underlay addresses must be outside the pod networks.');
        continue;
      }
    }
    const first = seen.get(n);
    if (first !== undefined) {
      st.err(e.path, `${e.ip} is already the underlay address of ${first}.`);
      continue;
    }
    seen.set(n, e.name);
    st.knownIps.add(n);
  }
}

export function checkGateway(st: RuleState): void {
  const gw = st.draft.lab.underlay?.gateway;
  if (gw === undefined) return;
  const path: PathSeg[] = ['underlay', 'gateway'];
  const m = st.members.get(gw);
  if (!m) {
    if (st.draft.gaps.anyMember || st.draft.gaps.members.has(gw)) return;
    const routers = [...st.members].filter(([, x]) => x.role === 'router').map(([name]) => name);
    const close = closest(gw, routers);
    st.err(path, `unknown node "${gw}".`, close ? `Did you mean "${close}"?` : `Define it under nodes: with role: router.`);
  } else if (m.kind === 'host') {
    st.err(path, `"${gw}" is a host; the gateway must be an external node with role router.`);
  } else if (m.role !== 'router') {
    st.err(path, `node "${gw}" has role ${m.role}; the gateway must be a router.`, `Set role: router on ${formatPath(m.path)}.`);
  }
}

/** A pod serves each port once per protocol. */
export function checkServePorts(st: RuleState): void {
  st.draft.lab.hosts.forEach((h, hi) => {
    (h?.pods ?? []).forEach((p, pi) => {
      if (p === undefined || typeof p === 'string') return;
      const seen = new Set<string>();
      (p.serve ?? []).forEach((s, si) => {
        const key = `${s.protocol ?? 'TCP'} ${s.port}`;
        if (seen.has(key)) st.err(['hosts', hi, 'pods', pi, 'serve', si], `${h!.name}/${p.name} serves ${key} twice.`);
        seen.add(key);
      });
    });
  });
}
