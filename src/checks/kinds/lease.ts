// lease: the host's subnet lease exists in etcd with flannel's key and value layout, under an etcd lease.
import type { LeaseRecord, UnreadableLease } from '../../lab/etcd-leases.js';
import type { ResolvedNetwork } from '../../plan/resolved-lab.js';
import type { LeaseCheckSpec } from '../../lab-spec/lab-spec.js';
import { defineCheckKind } from '../check-kind.js';

/** What flannel would have written for the host: its subnet and public address. */
export interface LeaseExpectation {
  host: string;
  underlayIp: string;
  subnet: string;
}

/** Pure: is this lease what flannel would have written for the host? `atItsKey` is what sits at
 * the host's own key when that is not a lease at all (garbage written over it). */
export function leaseProblems(lease: LeaseRecord | undefined, h: LeaseExpectation, net: ResolvedNetwork, atItsKey?: UnreadableLease | LeaseRecord): string[] {
  if (!lease && atItsKey && 'problem' in atItsKey) return [`the key ${atItsKey.key} holds no flannel lease: ${atItsKey.problem}`];
  if (!lease && atItsKey && 'publicIp' in atItsKey) return [`the key ${atItsKey.key} names PublicIP ${atItsKey.publicIp || '(none)'}, not ${h.host}'s ${h.underlayIp}`];
  if (!lease) return [`no lease with PublicIP ${h.underlayIp}`];
  const problems: string[] = [];
  if (lease.subnet !== h.subnet) problems.push(`subnet ${lease.subnet}, expected ${h.subnet}`);
  if (lease.backendType !== net.backend) problems.push(`BackendType ${lease.backendType}, expected ${net.backend}`);
  if (net.backend === 'vxlan') {
    const data = (lease.raw as { BackendData?: { VNI?: number; VtepMAC?: string } }).BackendData;
    if (data?.VNI !== net.vni) problems.push(`BackendData.VNI ${data?.VNI}, expected ${net.vni}`);
    if (!data?.VtepMAC) problems.push('BackendData.VtepMAC is missing');
  }
  if (!lease.leaseId || lease.leaseId === '0') problems.push('the key is not attached to an etcd lease (no TTL)');
  return problems;
}

export const leaseKind = defineCheckKind({
  key: 'lease',
  label: 'lease',
  summary: 'lease: {host}',
  schema: (k) =>
    k.T.Object(
      {
        host: k.nodeName('The host whose lease is read.'),
        network: k.T.Optional(k.networkName('Pod network name (default: the first overlay network).')),
      },
      {
        additionalProperties: false,
        description:
          "The host's subnet lease exists in etcd at <prefix>/subnets/<subnet>-<len> with flannel's JSON (PublicIP, BackendType, BackendData) under an etcd lease.",
      },
    ),
  resolve: (raw, scope, at): LeaseCheckSpec => {
    const network = scope.overlayNetwork(raw.network, [...at, 'network'], (b, cp) => b !== 'none' && cp === 'etcd', 'an overlay with controlPlane: etcd');
    scope.hostRef(raw.host, [...at, 'host']);
    return { host: raw.host, network };
  },
  footprint: (spec, names) => ({ nodes: names.overlayNodes(spec.network, spec.host), captures: [], traffic: [] }),
  run: async (spec, { runtime, lab }) => {
    const [{ labHost, labNetwork }, { readLeaseEntries }, { hostSubnet, etcdPrefix }] = await Promise.all([
      import('../overlay-facts.js'),
      import('../../lab/etcd-leases.js'),
      import('../../plan/overlay.js'),
    ]);
    const net = labNetwork(lab, spec.network);
    const h = labHost(lab, spec.host);
    const { leases, unreadable } = await readLeaseEntries(runtime, lab, net);
    const lease = leases.find((l) => l.publicIp === h.underlayIp);
    const host: LeaseExpectation = { host: h.name, underlayIp: h.underlayIp, subnet: hostSubnet(h, net) };
    const ownKey = `${etcdPrefix(lab, net)}/subnets/${host.subnet.replace('/', '-')}`;
    const atItsKey = unreadable.find((u) => u.key === ownKey) ?? leases.find((l) => l.key === ownKey);
    return { host, net, lease, ...(atItsKey ? { atItsKey } : {}) };
  },
  verdict: (_spec, { host, net, lease, atItsKey }) => {
    const problems = leaseProblems(lease, host, net, atItsKey);
    const seen = lease ? `${lease.key} = ${JSON.stringify(lease.raw)} (etcd lease ${lease.leaseId ?? 'none'})` : `no lease for ${host.host}`;
    return problems.length
      ? { status: 'fail', seen, reason: `${host.host}'s lease: ${problems.join('; ')}`, details: { lease } }
      : { status: 'pass', seen, details: { lease } };
  },
});
