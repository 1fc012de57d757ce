// What the overlay checks compare against: a host's and network's resolved facts, and a peer's
// facts from its lease in etcd (or from the static plan, which pins them).
import type { ResolvedHost, ResolvedLab, ResolvedNetwork } from '../plan/resolved-lab.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { hostSubnet, usesAgent, vtepMac } from '../plan/overlay.js';
import { readLeases } from '../lab/etcd-leases.js';
import { LabPartMissing } from '../lab/lab-part-missing.js';

export function labHost(lab: ResolvedLab, name: string): ResolvedHost {
  const found = lab.hosts.find((h) => h.name === name);
  if (!found) throw new LabPartMissing(`lab ${lab.name} has no host ${name} (was it removed with \`overlab node rm\`?)`);
  return found;
}

export function labNetwork(lab: ResolvedLab, name: string): ResolvedNetwork {
  const found = lab.networks.find((n) => n.name === name);
  if (!found) throw new LabPartMissing(`lab ${lab.name} has no pod network ${name}`);
  return found;
}

export interface PeerFacts {
  source: string;
  subnet: string;
  publicIp: string;
  vtepMac?: string;
}

/** Where the peer's facts come from: its lease in etcd, or the static plan. undefined: no lease. */
export async function peerFacts(runtime: ContainerRuntime, lab: ResolvedLab, net: ResolvedNetwork, peer: ResolvedHost): Promise<PeerFacts | undefined> {
  if (!usesAgent(net)) {
    return { source: 'the static plan', subnet: hostSubnet(peer, net), publicIp: peer.underlayIp, vtepMac: vtepMac(peer, net) };
  }
  const lease = (await readLeases(runtime, lab, net)).find((l) => l.publicIp === peer.underlayIp);
  if (!lease) return undefined;
  return { source: `its lease ${lease.key}`, subnet: lease.subnet, publicIp: lease.publicIp, ...(lease.vtepMac ? { vtepMac: lease.vtepMac } : {}) };
}
