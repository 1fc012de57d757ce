// lease: the host's subnet lease exists in etcd with flannel's key and value layout, under an etcd lease.
import { readLeases, type LeaseRecord } from '../../core/lab-facts.js';
import { hostSubnet } from '../../plan/overlay.js';
import type { ResolvedHost, ResolvedNetwork } from '../../plan/resolved-lab.js';
import type { LeaseCheckSpec } from '../../spec/model.js';
import { defineCheckKind } from '../check-kind.js';
import { labHost, labNetwork, overlayNodes } from '../overlay-facts.js';

/** Pure: is this lease what flannel would have written for the host? */
export function leaseProblems(lease: LeaseRecord | undefined, h: ResolvedHost, net: ResolvedNetwork): string[] {
  if (!lease) return [`no lease with PublicIP ${h.underlayIp}`];
  const problems: string[] = [];
  if (lease.subnet !== hostSubnet(h, net)) problems.push(`subnet ${lease.subnet}, expected ${hostSubnet(h, net)}`);
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
  footprint: (spec, names) => ({ nodes: overlayNodes(names.lab, spec.network, spec.host), captures: [] }),
  run: async (spec, { runtime, lab }) => {
    const net = labNetwork(lab, spec.network);
    const host = labHost(lab, spec.host);
    const lease = (await readLeases(runtime, lab, net)).find((l) => l.publicIp === host.underlayIp);
    return { host, net, lease };
  },
  verdict: (_spec, { host, net, lease }) => {
    const problems = leaseProblems(lease, host, net);
    const seen = lease ? `${lease.key} = ${JSON.stringify(lease.raw)} (etcd lease ${lease.leaseId ?? 'none'})` : `no lease for ${host.name}`;
    return problems.length
      ? { status: 'fail', seen, reason: `${host.name}'s lease: ${problems.join('; ')}`, details: { lease } }
      : { status: 'pass', seen, details: { lease } };
  },
});
