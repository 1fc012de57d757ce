// Rules for a pod network with `backend: bgp` (Calico's way) and for overlays on a routed
// underlay: one bgp network per lab, IPAM blocks that fit the pod network and the hosts, fixed pod
// addresses that can live in a block, reflectors that exist and run BGP; and host-gw, which cannot
// be programmed statically across segments (the kernel refuses the route: the lab that shows it
// runs flannel's agents, so the refusal is the agent's).
import { cidrContains, formatCidr, intToIp, ipToInt, prefixSize, cidrOf } from '../shared/ipv4.js';
import type { RuleState } from './rule-state.js';
import { closest } from './suggest.js';
import type { PathSeg } from './yaml-source.js';

export function checkBgp(st: RuleState): void {
  const lab = st.draft.lab;
  const bgp = st.nets.filter((n) => !n.broken && n.spec.backend === 'bgp');
  if (lab.underlay?.segments && lab.underlay.segments.length > 1) {
    for (const n of st.nets) {
      if (n.broken || n.spec.backend !== 'host-gw' || n.spec.controlPlane !== 'static') continue;
      st.err(
        [...n.path, 'backend'],
        'host-gw with controlPlane: static on a routed underlay: overlab would ask the kernel for "pod subnet via host" routes to hosts in other segments, which it refuses (the next hop is on no link of the host).',
        'Use controlPlane: etcd to watch flannel\'s agent meet that refusal (labs/host-gw-racks.yaml), or backend: bgp, which routes across segments.',
      );
    }
  }
  if (bgp.length === 0) return;
  if (st.nets.length > 1) {
    for (const n of bgp) st.err([...n.path, 'backend'], 'backend bgp needs a lab with one pod network (the pool its blocks are cut from).', 'Use the single network: form.');
    return;
  }
  const net = bgp[0]!;
  const raw = net.raw;
  const path = net.path;
  if (raw.controlPlane !== undefined && raw.controlPlane !== 'static')
    st.err([...path, 'controlPlane'], 'backend bgp has no etcd control plane here: BIRD on every node is its control plane.', 'Remove controlPlane:.', 'key');
  if (raw.subnetLen !== undefined)
    st.err([...path, 'subnetLen'], 'backend bgp cuts the pod network into IPAM blocks, not one subnet per host.', 'Use blockSize: (default 26) instead.', 'key');
  if (raw.podAttach === 'cni' || lab.hosts.some((h) => h?.podAttach === 'cni'))
    st.err([...path, 'podAttach'], 'backend bgp attaches pods with overlab\'s own wiring: Calico\'s CNI plugin is not among Debian\'s CNI plugins.', 'Remove podAttach: cni.');
  const blockSize = net.spec.blockSize!;
  const hostCount = lab.hosts.length;
  if (net.cidr) {
    if (blockSize < net.cidr.prefix)
      st.err([...path, 'blockSize'], `blockSize ${blockSize} is shorter than the prefix of ${net.spec.cidr} (/${net.cidr.prefix}); blocks must fit inside the pod network.`, `Use a blockSize between ${net.cidr.prefix} and 30.`);
    else if (hostCount > 2 ** (blockSize - net.cidr.prefix))
      st.err([...path, 'cidr'], `${net.spec.cidr} holds ${2 ** (blockSize - net.cidr.prefix)} /${blockSize} blocks, but the lab has ${hostCount} hosts (each needs at least one).`, 'Use a larger cidr or a longer blockSize.');
  }
  const reflectors = net.spec.bgp!.reflectors;
  reflectors.forEach((r, i) => {
    const at: PathSeg[] = [...path, 'bgp', 'reflectors', i];
    const m = st.members.get(r);
    if (!m) {
      if (st.draft.gaps.anyMember || st.draft.gaps.members.has(r)) return;
      const close = closest(r, [...st.members.keys()]);
      st.err(at, `unknown node "${r}".`, close ? `Did you mean "${close}"?` : 'Name a host or a router node.');
    } else if (m.kind === 'node' && m.role !== 'router') st.err(at, `"${r}" has role ${m.role}; a route reflector is a host or a router (they run BIRD).`);
  });
  if (raw.bgp?.as !== undefined && raw.bgp.as === 23456)
    st.err([...path, 'bgp', 'as'], 'AS 23456 is AS_TRANS, the placeholder 4-byte AS speakers send to old ones; it is no one\'s AS.', 'Use a private AS, e.g. 64512 (Calico\'s default).');

  // Fixed pod addresses: inside the pool, not a block's network, bridge or broadcast address,
  // and a block belongs to one host.
  if (!net.cidr || blockSize < net.cidr.prefix) return;
  const owner = new Map<string, string>();
  const seen = new Map<number, string>();
  lab.hosts.forEach((h, hi) => {
    if (!h) return;
    (h.pods ?? []).forEach((p, pi) => {
      if (p === undefined || typeof p === 'string' || p.ip === undefined) return;
      const at: PathSeg[] = ['hosts', hi, 'pods', pi, 'ip'];
      const n = ipToInt(p.ip);
      if (!cidrContains(net.cidr!, n)) return st.err(at, `${p.ip} is outside the pod network ${net.spec.cidr}.`);
      const block = cidrOf(n, blockSize);
      const blockText = formatCidr(block);
      const range = `Use an address from ${intToIp(block.network + 2)} to ${intToIp(block.network + prefixSize(blockSize) - 2)}.`;
      if (n === block.network) return st.err(at, `${p.ip} is the network address of block ${blockText}.`, range);
      if (n === block.network + 1) return st.err(at, `${p.ip} is the bridge's address in block ${blockText} (the pods' gateway).`, range);
      if (n === block.network + prefixSize(blockSize) - 1) return st.err(at, `${p.ip} is the broadcast address of block ${blockText}.`, range);
      const held = owner.get(blockText);
      if (held !== undefined && held !== h.name) return st.err(at, `${p.ip} is in block ${blockText}, which ${held} holds (a pod of ${held} has a fixed address there).`, 'A block belongs to one host: pick an address in another block.');
      owner.set(blockText, h.name);
      const first = seen.get(n);
      if (first !== undefined) return st.err(at, `${p.ip} is already the address of ${first}.`);
      seen.set(n, `${h.name}/${p.name}`);
      st.knownIps.add(n);
    });
    if (h.subnet !== undefined) st.err(['hosts', hi, 'subnet'], 'backend bgp gives hosts IPAM blocks, not a fixed subnet.', 'Remove subnet:, or fix a pod\'s address (its block becomes the host\'s).', 'key');
  });
}
