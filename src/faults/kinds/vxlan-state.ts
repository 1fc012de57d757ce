// del-fdb, del-neigh and vni: the VXLAN state flannel programs per peer (an FDB entry VtepMAC →
// PublicIP, a permanent neighbour <subnet>.0 → VtepMAC on flannel.<VNI>), or the VTEP itself.
import { inputError } from '../../base/errors.js';
import { hostSubnet, vxlanDevice } from '../../plan/overlay.js';
import type { ResolvedLab } from '../../plan/resolved-lab.js';
import { defineFaultKind, type ApplyContext, type FaultContext } from '../fault-kind.js';
import { nodeNamespace, type Namespace } from '../namespace.js';
import { routeArgs } from '../restore-plan.js';
import type { LinkState, NetnsState } from '../snapshot.js';
import { expectArgs, intArg } from '../values.js';
import { linkOf, read, resolveNetwork, run, stateOf, vxlanNetwork } from './targets.js';

export interface PeerFaultSpec {
  on: string;
  peer: string;
  network?: string;
}

export interface VniSpec {
  on: string;
  vni: number;
  network?: string;
}

function host(lab: ResolvedLab, name: string) {
  const h = lab.hosts.find((x) => x.name === name);
  if (!h) throw inputError(`"${name}" is not a host of lab ${lab.name}`, `its hosts: ${lab.hosts.map((x) => x.name).join(', ')}`);
  return h;
}

function peerTarget(lab: ResolvedLab, spec: PeerFaultSpec, kind: string) {
  const net = vxlanNetwork(lab, spec.network, kind);
  const self = host(lab, spec.on);
  const peer = host(lab, spec.peer);
  if (self.name === peer.name) throw inputError(`${kind}: a host holds no VXLAN state for itself`, 'name another host as the peer');
  const ns = nodeNamespace(lab, self.name)!;
  return { net, self, peer, ns, dev: vxlanDevice(net) };
}

const peerSchema = (k: Parameters<Parameters<typeof defineFaultKind>[0]['schema']>[0], what: string) =>
  k.T.Object(
    {
      on: k.nodeName('The host whose VXLAN state loses the entry.'),
      peer: k.nodeName('The remote host the entry is for.'),
      network: k.T.Optional(k.networkName('The VXLAN pod network (default: the first).')),
    },
    { additionalProperties: false, description: what },
  );

function resolvePeer(raw: PeerFaultSpec, scope: Parameters<Parameters<typeof defineFaultKind>[0]['resolve']>[1], at: (string | number)[]): PeerFaultSpec {
  scope.hostRef(raw.on, [...at, 'on']);
  scope.hostRef(raw.peer, [...at, 'peer']);
  if (raw.on === raw.peer) scope.err([...at, 'peer'], 'a host holds no VXLAN state for itself.', 'Name another host as peer.');
  resolveNetwork(scope, raw.network, [...at, 'network'], (b) => b === 'vxlan', 'a VXLAN network');
  return { on: raw.on, peer: raw.peer, ...(raw.network ? { network: raw.network } : {}) };
}

function peerArgs(kind: string, args: readonly string[]): PeerFaultSpec {
  expectArgs(kind, '<host> <peer> [<network>]', args, 2, 1);
  return { on: args[0]!, peer: args[1]!, ...(args[2] ? { network: args[2] } : {}) };
}

type PeerTarget = ReturnType<typeof peerTarget>;

/** A fault that deletes one peer's entry from a host's VXLAN state: all but what it deletes and
 * how it says so is the same for each. */
function peerEntryKind<K extends string>(key: K, text: { help: string; schema: string; describe: (spec: PeerFaultSpec) => string }, remove: (target: PeerTarget, spec: PeerFaultSpec, context: ApplyContext) => Promise<void>) {
  return defineFaultKind({
    key,
    summary: `${key}: {on, peer}`,
    args: '<host> <peer>',
    help: text.help,
    schema: (k) => peerSchema(k, text.schema),
    fromArgs: (args) => peerArgs(key, args),
    resolve: resolvePeer,
    describe: text.describe,
    nodes: (spec) => [spec.on],
    namespaces: (spec, lab) => [nodeNamespace(lab, spec.on)!],
    apply: async (spec, context) => {
      const target = peerTarget(context.lab, spec, key);
      linkOf(context, target.ns, target.dev);
      await remove(target, spec, context);
      return undefined;
    },
  });
}

const NOT_PROGRAMMED_HINT = 'is the peer programmed? `overlab verify <lab>` runs the kernel checks';

export const delFdbKind = peerEntryKind(
  'del-fdb',
  {
    help: "delete the FDB entry that sends a peer's VTEP traffic to the peer's host (VXLAN)",
    schema: 'Delete the FDB entry VtepMAC → PublicIP for a peer (VXLAN).',
    describe: (spec) => `${spec.on} has no FDB entry for ${spec.peer}`,
  },
  async ({ ns, dev, peer }, spec, context) => {
    const entries = stateOf(context, ns).fdb.filter((f) => f.ifname === dev && f.dst === peer.underlayIp);
    if (!entries.length) throw inputError(`${spec.on} has no FDB entry for ${spec.peer} (${peer.underlayIp}) on ${dev}`, NOT_PROGRAMMED_HINT);
    for (const f of entries) await run(context, ns, ['bridge', 'fdb', 'del', f.mac, 'dev', dev, 'dst', f.dst!, ...(f.self ? ['self'] : [])]);
  },
);

export const delNeighKind = peerEntryKind(
  'del-neigh',
  {
    help: "delete the permanent neighbour entry of a peer's VTEP (VXLAN)",
    schema: 'Delete the permanent neighbour <peer subnet>.0 → VtepMAC (VXLAN).',
    describe: (spec) => `${spec.on} has no neighbour entry for ${spec.peer}'s VTEP`,
  },
  async ({ ns, dev, peer, net }, spec, context) => {
    const vtepIp = hostSubnet(peer, net).split('/')[0]!;
    const entries = stateOf(context, ns).neighbours.filter((n) => n.dev === dev && n.dst === vtepIp);
    if (!entries.length) throw inputError(`${spec.on} has no permanent neighbour ${vtepIp} (${spec.peer}'s VTEP) on ${dev}`, NOT_PROGRAMMED_HINT);
    await run(context, ns, ['ip', 'neigh', 'del', vtepIp, 'dev', dev]);
  },
);

/** Recreate a VXLAN device as it was (MAC, MTU, local, dev, port, learning) with `id`, then put
 * back its addresses, neighbours, FDB entries and routes from `state`. */
export async function recreateVxlan(context: FaultContext, ns: Namespace, link: LinkState, id: number, state: NetnsState): Promise<void> {
  const v = link.vxlan ?? {};
  const argv = ['ip', 'link', 'add', link.ifname, ...(link.address ? ['address', link.address] : []), 'type', 'vxlan', 'id', String(id)];
  if (typeof v.local === 'string') argv.push('local', v.local);
  if (typeof v.link === 'string') argv.push('dev', v.link);
  if (typeof v.port === 'number') argv.push('dstport', String(v.port));
  if (v.learning === false) argv.push('nolearning');
  if (typeof v.ttl === 'number' && v.ttl > 0) argv.push('ttl', String(v.ttl));
  if (typeof v.ageing === 'number') argv.push('ageing', String(v.ageing));
  await read(context, ns, ['ip', 'link', 'del', 'dev', link.ifname]); // gone already is fine
  await run(context, ns, argv);
  await run(context, ns, ['ip', 'link', 'set', 'dev', link.ifname, 'mtu', String(link.mtu)]);
  for (const a of state.addrs.filter((x) => x.ifname === link.ifname)) await run(context, ns, ['ip', 'addr', 'add', `${a.local}/${a.prefixlen}`, 'dev', link.ifname]);
  if (link.up) await run(context, ns, ['ip', 'link', 'set', 'dev', link.ifname, 'up']);
  for (const n of state.neighbours.filter((x) => x.dev === link.ifname)) await run(context, ns, ['ip', 'neigh', 'replace', n.dst, ...(n.lladdr ? ['lladdr', n.lladdr] : []), 'dev', n.dev, 'nud', 'permanent']);
  for (const f of state.fdb.filter((x) => x.ifname === link.ifname && x.dst)) await run(context, ns, ['bridge', 'fdb', 'append', f.mac, 'dev', f.ifname, 'dst', f.dst!, 'self', f.state === 'static' ? 'static' : 'permanent']);
  for (const r of state.routes.filter((x) => x.dev === link.ifname && x.protocol !== 'kernel')) await run(context, ns, ['ip', 'route', 'replace', ...routeArgs(r)]);
}

export interface VniUndo {
  link: LinkState;
  state: NetnsState;
}

export const vniKind = defineFaultKind({
  key: 'vni',
  summary: 'vni: {on, vni}',
  args: '<host> <vni>',
  help: "give one host's VTEP another VNI (it no longer hears its peers)",
  schema: (k) =>
    k.T.Object(
      {
        on: k.nodeName('The host whose VTEP gets the other VNI.'),
        vni: k.T.Integer({ minimum: 0, maximum: 16777215, description: 'The VNI it gets.' }),
        network: k.T.Optional(k.networkName('The VXLAN pod network (default: the first).')),
      },
      { additionalProperties: false, description: "Give one host's VTEP another VNI." },
    ),
  fromArgs: (args) => {
    expectArgs('vni', '<host> <vni> [<network>]', args, 2, 1);
    return { on: args[0]!, vni: intArg('vni', 'the VNI', args[1]!, 0, 16777215), ...(args[2] ? { network: args[2] } : {}) };
  },
  resolve: (raw, scope, at): VniSpec => {
    scope.hostRef(raw.on, [...at, 'on']);
    resolveNetwork(scope, raw.network, [...at, 'network'], (b) => b === 'vxlan', 'a VXLAN network');
    return { on: raw.on, vni: raw.vni, ...(raw.network ? { network: raw.network } : {}) };
  },
  describe: (spec) => `${spec.on}'s VTEP has VNI ${spec.vni}`,
  nodes: (spec) => [spec.on],
  namespaces: (spec, lab) => [nodeNamespace(lab, spec.on)!],
  apply: async (spec, context: ApplyContext): Promise<VniUndo> => {
    const net = vxlanNetwork(context.lab, spec.network, 'vni');
    host(context.lab, spec.on);
    const ns = nodeNamespace(context.lab, spec.on)!;
    const link = linkOf(context, ns, vxlanDevice(net));
    if (link.vxlan?.id === spec.vni) throw inputError(`${spec.on}'s ${link.ifname} already has VNI ${spec.vni}`, `its peers use ${net.vni}; pick another VNI`);
    const state = stateOf(context, ns);
    await recreateVxlan(context, ns, link, spec.vni, state);
    return { link, state };
  },
  undo: async (spec, data, context) => {
    const ns = nodeNamespace(context.lab, spec.on)!;
    const r = await context.runtime.exec(ns.container, ['ip', '-j', '-d', 'link', 'show', 'dev', data.link.ifname], { signal: context.signal });
    const now = r.exitCode === 0 ? (JSON.parse(r.stdout) as { linkinfo?: { info_data?: { id?: number } } }[])[0]?.linkinfo?.info_data?.id : undefined;
    if (now === data.link.vxlan?.id) return; // already mended
    await recreateVxlan(context, ns, data.link, Number(data.link.vxlan?.id), data.state);
  },
});
