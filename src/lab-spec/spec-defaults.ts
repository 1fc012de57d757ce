// Model building: the checked draft of a spec → the typed LabSpec, with every default applied.
// No validation here (src/lab-spec/lab-rules.ts does that); these functions only say what a spec means.
import type { DraftHost, DraftLab } from './draft.js';
import type { RawEngine, RawNetwork, RawNode } from './lab-schema.js';
import type { Backend, CheckSpec, EngineSpec, ExternalNodeSpec, FaultSpec, HostSpec, LabSpec, PodNetworkSpec, PodSpec, ServicesSpec } from './lab-spec.js';

export const DEFAULT_POD_CIDR = '172.16.0.0/16';
export const DEFAULT_SUBNET_LEN = 24;
export const DEFAULT_BRIDGE = 'docker0';
export const DEFAULT_MTU = 1500;
export const DEFAULT_VNI = 1;
export const DEFAULT_LEASE_TTL = 86_400;
/** Calico's defaults: IPv4 blocks of /26, AS 64512. */
export const DEFAULT_BLOCK_SIZE = 26;
export const DEFAULT_AS = 64512;

/** Default UDP port of an overlay backend; 0 for backends without one (none, host-gw). */
export function defaultPort(backend: Backend): number {
  if (backend === 'vxlan') return 8472;
  if (backend === 'udp') return 8285;
  return 0;
}

/** A pod network with its defaults; `single` for the `network:` form (always named "default"). */
export function networkSpec(raw: RawNetwork, index: number, single: boolean): PodNetworkSpec {
  const backend: Backend = raw.backend ?? 'none';
  return {
    name: single ? 'default' : (raw.name ?? `network${index}`),
    cidr: raw.cidr ?? DEFAULT_POD_CIDR,
    subnetLen: raw.subnetLen ?? DEFAULT_SUBNET_LEN,
    bridge: raw.bridge ?? DEFAULT_BRIDGE,
    backend,
    controlPlane: raw.controlPlane ?? (backend === 'vxlan' || backend === 'udp' ? 'etcd' : 'static'),
    vni: raw.vni ?? DEFAULT_VNI,
    port: raw.port ?? defaultPort(backend),
    nat: raw.nat ?? true,
    leaseTtl: raw.leaseTtl ?? DEFAULT_LEASE_TTL,
    podAttach: raw.podAttach ?? 'ip',
    ...(backend === 'bgp'
      ? {
          blockSize: raw.blockSize ?? DEFAULT_BLOCK_SIZE,
          bgp: { as: raw.bgp?.as ?? DEFAULT_AS, reflectors: [...(raw.bgp?.reflectors ?? [])] },
          ipipMode: raw.ipipMode ?? 'Never',
        }
      : {}),
  };
}

/** The raw networks of a draft, in order, with whether the spec used the single form. */
export function rawNetworks(lab: DraftLab): { single: boolean; raws: (RawNetwork | undefined)[] } {
  const single = lab.networks === undefined;
  return { single, raws: single ? [lab.network ?? {}] : lab.networks! };
}

/** A host: its fixed subnets per network (the single `subnet:` belongs to the first network) and its pods. */
export function hostSpec(raw: DraftHost, firstNetwork: string, multi: boolean): HostSpec {
  const host: HostSpec = { name: raw.name, subnets: {}, pods: [] };
  if (raw.underlayIp !== undefined) host.underlayIp = raw.underlayIp;
  if (raw.engine !== undefined) host.engine = raw.engine;
  if (raw.podAttach !== undefined) host.podAttach = raw.podAttach;
  if (raw.segment !== undefined) host.segment = raw.segment;
  if (raw.subnet !== undefined && !multi) host.subnets[firstNetwork] = raw.subnet;
  for (const [net, cidr] of Object.entries(raw.subnets ?? {})) host.subnets[net] = cidr;
  for (const p of raw.pods ?? []) {
    if (p === undefined) continue;
    host.pods.push(podSpec(p, firstNetwork));
  }
  return host;
}

export function podSpec(raw: string | { name: string; ip?: string; network?: string; serve?: { port: number; protocol?: 'TCP' | 'UDP' }[] }, firstNetwork: string): PodSpec {
  const obj = typeof raw === 'string' ? { name: raw } : raw;
  const pod: PodSpec = { name: obj.name, network: obj.network ?? firstNetwork };
  if (obj.ip !== undefined) pod.ip = obj.ip;
  if (obj.serve !== undefined) pod.serve = obj.serve.map((s) => ({ port: s.port, protocol: s.protocol ?? 'TCP' }));
  return pod;
}

export function externalSpec(raw: RawNode): ExternalNodeSpec {
  const spec: ExternalNodeSpec = { name: raw.name, role: raw.role };
  if (raw.underlayIp !== undefined) spec.underlayIp = raw.underlayIp;
  if (raw.engine !== undefined) spec.engine = raw.engine;
  if (raw.segments !== undefined) spec.segments = [...raw.segments];
  return spec;
}

export function labSpec(
  lab: DraftLab,
  file: string,
  parts: { networks: PodNetworkSpec[]; hosts: HostSpec[]; externals: ExternalNodeSpec[]; checks: CheckSpec[]; faults: FaultSpec[]; services?: ServicesSpec },
): LabSpec {
  const spec: LabSpec = {
    name: lab.name ?? '',
    file,
    networks: parts.networks,
    underlay: { mtu: lab.underlay?.mtu ?? DEFAULT_MTU },
    hosts: parts.hosts,
    externals: parts.externals,
    checks: parts.checks,
    ...(parts.faults.length ? { faults: parts.faults } : {}),
    ...(parts.services ? { services: parts.services } : {}),
  };
  if (lab.description !== undefined) spec.description = lab.description;
  if (lab.image !== undefined) spec.image = lab.image;
  if (lab.underlay?.subnet !== undefined) spec.underlay.subnet = lab.underlay.subnet;
  if (lab.underlay?.gateway !== undefined) spec.underlay.gateway = lab.underlay.gateway;
  if (lab.engines !== undefined) spec.engines = engineSpecs(lab.engines);
  if (lab.stitch !== undefined) spec.stitch = { ...lab.stitch };
  if (lab.underlay?.segments !== undefined) {
    spec.underlay.segments = lab.underlay.segments.map((s) => ({ name: s.name, ...(s.subnet !== undefined ? { subnet: s.subnet } : {}), ...(s.gateway !== undefined ? { gateway: s.gateway } : {}) }));
  }
  return spec;
}

/** `engines:` in spec order (YAML mappings keep it), the first the primary. */
export function engineSpecs(raw: Record<string, RawEngine | undefined>): EngineSpec[] {
  return Object.entries(raw)
    .filter((e): e is [string, RawEngine] => e[1] !== undefined && e[1] !== null)
    .map(([name, e]) => {
      const spec: EngineSpec = { name };
      for (const key of ['host', 'context', 'address', 'certPath', 'tlsVerify'] as const) if (e[key] !== undefined) (spec as unknown as Record<string, unknown>)[key] = e[key];
      return spec;
    });
}
