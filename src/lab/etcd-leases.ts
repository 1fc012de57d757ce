// Read what only the running lab knows from etcd: the agents' leases (flannel's layout). Every
// read is one argv exec of etcdctl in the etcd node; a failure says which part of the lab is missing.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab, ResolvedNetwork } from '../plan/resolved-lab.js';
import type { LabFacts } from './lab-references.js';
import { etcdNode, etcdPrefix, usesAgent } from '../plan/overlay.js';
import { LabPartMissing } from './lab-part-missing.js';
import type { NodeAvailability } from './node-availability.js';

export interface LeaseRecord {
  key: string;
  subnet: string; // "10.244.1.0/24"
  publicIp: string;
  backendType: string;
  vtepMac?: string;
  leaseId?: string;
  raw: unknown;
}

interface EtcdGetJson {
  kvs?: { key: string; value: string; lease?: number | string }[];
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** A key under …/subnets/ whose value is not a flannel lease (garbage, or not a JSON object). */
export interface UnreadableLease {
  key: string;
  problem: string;
}

/** Pure: `etcdctl get --prefix … -w json` output → the leases (keys look like
 * …/subnets/10.244.1.0-24), and the keys whose values are not leases (a lease problem to report as one). */
export function parseLeaseEntries(output: string): { leases: LeaseRecord[]; unreadable: UnreadableLease[] } {
  const parsed = JSON.parse(output || '{}') as EtcdGetJson;
  const leases: LeaseRecord[] = [];
  const unreadable: UnreadableLease[] = [];
  for (const kv of parsed.kvs ?? []) {
    const key = b64(kv.key);
    const m = /\/subnets\/(\d+\.\d+\.\d+\.\d+)-(\d+)$/.exec(key);
    if (!m) continue;
    try {
      const value = JSON.parse(b64(kv.value)) as { PublicIP?: string; BackendType?: string; BackendData?: { VtepMAC?: string } } | null;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        unreadable.push({ key, problem: 'its value is JSON but not an object' });
        continue;
      }
      leases.push({
        key,
        subnet: `${m[1]}/${m[2]}`,
        publicIp: value.PublicIP ?? '',
        backendType: value.BackendType ?? '',
        ...(value.BackendData?.VtepMAC ? { vtepMac: value.BackendData.VtepMAC.toLowerCase() } : {}),
        ...(kv.lease !== undefined ? { leaseId: String(kv.lease) } : {}),
        raw: value,
      });
    } catch {
      unreadable.push({ key, problem: 'its value is not JSON' });
    }
  }
  return { leases, unreadable };
}

/** Reads a network's leases from the lab's etcd node (`etcdctl … -w json`, an argv exec). Throws
 * LabPartMissing when the lab has no etcd node or etcd cannot answer. */
export async function readLeases(runtime: ContainerRuntime, lab: ResolvedLab, network: ResolvedNetwork): Promise<LeaseRecord[]> {
  return (await readLeaseEntries(runtime, lab, network)).leases;
}

/** readLeases, with the keys under …/subnets/ whose values are not leases. */
export async function readLeaseEntries(runtime: ContainerRuntime, lab: ResolvedLab, network: ResolvedNetwork): Promise<ReturnType<typeof parseLeaseEntries>> {
  const etcd = etcdNode(lab);
  if (!etcd) throw new LabPartMissing(`lab ${lab.name} has no etcd node, so network ${network.name} has no leases to read`);
  let r;
  try {
    r = await runtime.exec(etcd.container, ['etcdctl', 'get', '--prefix', `${etcdPrefix(lab, network)}/subnets/`, '-w', 'json']);
  } catch (e) {
    throw new LabPartMissing(`etcd (container ${etcd.container}) cannot be reached: ${firstLine(e)}`);
  }
  if (r.exitCode !== 0) throw new LabPartMissing(`reading leases from etcd (container ${etcd.container}) failed: ${r.stderr.trim().split('\n')[0]}`);
  try {
    return parseLeaseEntries(r.stdout);
  } catch (e) {
    throw new LabPartMissing(`etcd (container ${etcd.container}) answered with something that is not etcdctl JSON: ${firstLine(e)}`);
  }
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** The VTEP MACs the agents published, per host and vxlan network; for a network whose leases
 * cannot be read, why (so a check that needs one says so instead of guessing). */
export async function readLabFacts(runtime: ContainerRuntime, lab: ResolvedLab, unavailable: NodeAvailability = new Map()): Promise<LabFacts> {
  const vtepMacs: Record<string, string> = {};
  const unreadable: Record<string, string> = {};
  const etcd = etcdNode(lab);
  for (const network of lab.networks.filter((n) => usesAgent(n) && n.backend === 'vxlan')) {
    const down = etcd ? unavailable.get(etcd.name)?.reason : undefined;
    if (down) {
      unreadable[network.name] = down;
      continue;
    }
    let leases: LeaseRecord[];
    try {
      leases = await readLeases(runtime, lab, network);
    } catch (e) {
      unreadable[network.name] = firstLine(e)!;
      continue;
    }
    for (const host of lab.hosts) {
      const lease = leases.find((l) => l.publicIp === host.underlayIp);
      if (lease?.vtepMac) vtepMacs[`${host.name}/${network.name}`] = lease.vtepMac;
    }
  }
  return Object.keys(unreadable).length ? { vtepMacs, unreadable } : { vtepMacs };
}
