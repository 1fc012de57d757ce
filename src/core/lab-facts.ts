// Read what only the running lab knows from etcd: the agents' leases (flannel's layout).
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab, ResolvedNetwork } from '../plan/resolved-lab.js';
import type { LabFacts } from '../checks/lab-names.js';
import { etcdNode, etcdPrefix, usesAgent } from '../plan/overlay.js';

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

/** Pure: `etcdctl get --prefix … -w json` output → leases. Keys look like …/subnets/10.244.1.0-24. */
export function parseLeases(output: string): LeaseRecord[] {
  const parsed = JSON.parse(output || '{}') as EtcdGetJson;
  const leases: LeaseRecord[] = [];
  for (const kv of parsed.kvs ?? []) {
    const key = b64(kv.key);
    const m = /\/subnets\/(\d+\.\d+\.\d+\.\d+)-(\d+)$/.exec(key);
    if (!m) continue;
    try {
      const value = JSON.parse(b64(kv.value)) as { PublicIP?: string; BackendType?: string; BackendData?: { VtepMAC?: string } };
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
      // a value that is not JSON is not a flannel lease
    }
  }
  return leases;
}

export async function readLeases(runtime: ContainerRuntime, lab: ResolvedLab, network: ResolvedNetwork): Promise<LeaseRecord[]> {
  const etcd = etcdNode(lab);
  if (!etcd) return [];
  const r = await runtime.exec(etcd.container, ['etcdctl', 'get', '--prefix', `${etcdPrefix(lab, network)}/subnets/`, '-w', 'json']);
  if (r.exitCode !== 0) throw new Error(`reading leases from etcd failed: ${r.stderr.trim()}`);
  return parseLeases(r.stdout);
}

export async function readLabFacts(runtime: ContainerRuntime, lab: ResolvedLab): Promise<LabFacts> {
  const vtepMacs: Record<string, string> = {};
  for (const network of lab.networks.filter((n) => usesAgent(n) && n.backend === 'vxlan')) {
    const leases = await readLeases(runtime, lab, network).catch(() => []);
    for (const host of lab.hosts) {
      const lease = leases.find((l) => l.publicIp === host.underlayIp);
      if (lease?.vtepMac) vtepMacs[`${host.name}/${network.name}`] = lease.vtepMac;
    }
  }
  return { vtepMacs };
}
