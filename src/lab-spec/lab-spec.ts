// The typed lab spec: what a YAML spec means once parsed and checked.
// Addresses the user left out are still undefined here; src/plan/resolve-lab.ts fills them in.

/** Where a value sits in the spec file, for error messages. */
export interface SourcePosition {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export type Backend = 'none' | 'host-gw' | 'vxlan' | 'udp' | 'bgp';
export type ControlPlane = 'static' | 'etcd';
export type ExternalRole = 'outside' | 'router';
/** How a host attaches its pods: overlab's own `ip` commands, or real CNI plugins as a kubelet
 * runs them (docs/cni.md). */
export type PodAttach = 'ip' | 'cni';

/** One pod network (flannel's "Network"). Most labs have one; the tenants lab has two. */
export interface PodNetworkSpec {
  name: string; // "default" when the spec uses the single `network:` form
  cidr: string; // e.g. "172.16.0.0/16"
  subnetLen: number; // per-host subnet prefix length, e.g. 24
  bridge: string; // Linux bridge in each host: "docker0", "cni0", ...
  backend: Backend;
  controlPlane: ControlPlane; // only meaningful for vxlan / udp / host-gw
  vni: number; // vxlan only (default 1)
  port: number; // vxlan default 8472, udp default 8285
  nat: boolean; // masquerade pod traffic leaving the pod network
  leaseTtl: number; // seconds an agent's subnet lease lives without renewal (flannel: 24 h)
  podAttach: PodAttach; // the hosts' default (default ip)
  /** bgp only: the IPAM block size (prefix length, default 26). */
  blockSize?: number;
  /** bgp only: how the nodes peer. */
  bgp?: BgpSpec;
  /** bgp only: Calico's IP-in-IP mode; only Never is built (the kernel has no ipip). */
  ipipMode?: IpipMode;
}

export type IpipMode = 'Never' | 'Always' | 'CrossSubnet';

/** How the BGP nodes peer: one AS (iBGP), a full mesh or route reflectors. */
export interface BgpSpec {
  as: number;
  /** Node names; empty: full mesh. */
  reflectors: string[];
}

/** One segment of a routed underlay (a rack): its own subnet and bridge. */
export interface SegmentSpec {
  name: string;
  subnet?: string;
  /** The router the segment's hosts use as default route. */
  gateway?: string;
}

export interface PodSpec {
  name: string; // also the network namespace name inside the host
  network: string; // PodNetworkSpec.name
  ip?: string; // optional fixed address inside the host's subnet
  /** Ports a small server in the pod answers on (absent: the pod serves nothing). */
  serve?: ServePortSpec[];
}

export type ServiceProtocol = 'TCP' | 'UDP';

export interface ServePortSpec {
  port: number;
  protocol: ServiceProtocol;
}

/** How kube-proxy programs Services: its iptables mode, its nftables mode, or IPVS. */
export type ProxyMode = 'iptables' | 'nftables' | 'ipvs';

export interface ServicePortSpec {
  /** "" when the Service has one unnamed port (kube-proxy's "ns/name:" then). */
  name: string;
  port: number;
  targetPort: number;
  protocol: ServiceProtocol;
  /** type NodePort; allocated by resolve-lab when absent. */
  nodePort?: number;
}

export interface ServiceSpec {
  name: string;
  namespace: string;
  type: 'ClusterIP' | 'NodePort';
  /** Allocated from serviceCIDR by resolve-lab when absent. */
  clusterIP?: string;
  ports: ServicePortSpec[];
  /** Pods as "host/pod", in the spec's order. */
  endpoints: string[];
}

/** kube-proxy on every host: its mode, the Service CIDR and the Services. */
export interface ServicesSpec {
  proxyMode: ProxyMode;
  serviceCIDR: string;
  services: ServiceSpec[];
}

export interface HostSpec {
  name: string;
  /** The engine it runs on (a name in LabSpec.engines); default: dealt out in spec order. */
  engine?: string;
  /** Per-network fixed subnet, keyed by PodNetworkSpec.name; missing entries are allocated. */
  subnets: Record<string, string>;
  underlayIp?: string;
  pods: PodSpec[];
  /** Overrides the network's podAttach for this host. */
  podAttach?: PodAttach;
  /** Its segment of a routed underlay (absent: the first). */
  segment?: string;
}

export interface ExternalNodeSpec {
  name: string;
  role: ExternalRole;
  underlayIp?: string;
  /** The engine it runs on (a name in LabSpec.engines); default: the first. */
  engine?: string;
  /** Its segments of a routed underlay, in order (eth0, eth1, …); absent: the first. */
  segments?: string[];
}

export interface UnderlaySpec {
  subnet?: string; // undefined = choose automatically
  mtu: number; // default 1500
  /** Name of an external node (role router) the hosts use as default gateway. */
  gateway?: string;
  /** A routed underlay: several segments joined by routers (absent: one segment, as always). */
  segments?: SegmentSpec[];
}

/** A reference to something in the lab by name: "host1", "host1/pod1", "outside", "host1:eth0",
 * "host1/pod1:eth0", or a literal IPv4 / MAC address. Resolved against the resolved lab. */
export type Ref = string;

export type PingExpectation = 'reachable' | 'unreachable';

export interface PingSpec {
  from: Ref; // a host, pod or external node
  to: Ref; // a host, pod, external node or literal lab address
  count: number; // default 3
  expect: PingExpectation; // default reachable
}

export type PacketProto = 'icmp' | 'arp' | 'udp' | 'tcp' | 'vxlan' | 'flannel-udp' | 'ipv4';

/** Conditions a decoded packet must all meet to match. Every field is optional. */
export interface PacketMatchSpec {
  proto?: PacketProto;
  src?: Ref; // IPv4 source (outer)
  dst?: Ref; // IPv4 destination (outer)
  srcMac?: Ref;
  dstMac?: Ref;
  srcPort?: number;
  dstPort?: number;
  /** Either end's port: a TCP session whose side that connected is not known (BGP's 179). */
  port?: number;
  icmpType?: 'echo-request' | 'echo-reply' | 'unreachable' | number;
  vni?: number;
  /** For encapsulated packets (vxlan, flannel-udp): conditions on the inner packet. */
  inner?: PacketMatchSpec;
}

export interface CaptureSpec {
  on: Ref; // interface reference: "host1:eth0", "host1/pod1:eth0", "host1:docker0"
  during: { ping: PingSpec };
  expect: PacketMatchSpec[]; // each must be seen at least once
  absent: PacketMatchSpec[]; // none may be seen
}

/** Kernel state of host `on` for remote host `peer` (routes, neighbours, FDB), compared with
 * what the peer's lease in etcd (or the static plan) says it must be. */
export interface KernelCheckSpec {
  on: Ref; // a host
  peer: Ref; // another host
  network: string; // pod network name (default: the first overlay)
  /** refused: the agent asked and the kernel said no (host-gw across segments). */
  expect?: 'programmed' | 'refused';
}

/** The host's subnet lease exists in etcd with flannel's key and value layout. */
export interface LeaseCheckSpec {
  host: Ref;
  network: string;
}

/** udp backend: what forwarding costs the agent (context switches per forwarded packet). */
export interface AgentCostSpec {
  on: Ref; // a host whose agent forwards
  network: string;
  during: { ping: PingSpec };
}

/** One marked probe followed hop by hop (`overlab trace`), delivered or dropped where expected. */
export interface TraceCheckSpec {
  from: Ref;
  to: Ref;
  expect: 'delivered' | 'dropped';
  /** Interfaces ("host1:flannel.1") the request must cross, in this order. */
  via?: Ref[];
  /** Where a dropped probe must stop: a node or an interface. */
  dropAt?: Ref;
  proto: 'icmp' | 'udp' | 'tcp';
  port?: number;
  size?: number;
}

/** One interface's state: each given field must match (`ip -j link`). */
export interface LinkCheckSpec {
  on: Ref; // host:iface, host/pod:iface or node:iface
  up?: boolean;
  mtu?: number;
  master?: string;
}

/** The fields every check has, whatever its kind. */
export interface CheckCommon {
  name: string;
  description?: string;
  /** Position of the check in the spec, for reports. */
  position?: SourcePosition;
}

/** One check: its kind (the YAML key it was written with) and the kind's spec under that same key
 * — `{ kind: 'ping', name, ping: {...} }`. Which kinds exist is not this layer's business: the
 * kinds sit above it (src/checks/check-kinds.ts) and read their own spec through it. */
export type CheckSpec = CheckCommon & KindEntry;

/** `{ kind, [kind]: spec }`: what every check and fault entry carries besides its common fields. */
export interface KindEntry {
  kind: string;
  [kindKey: string]: unknown;
}

/** The fields every fault has, whatever its kind. */
export interface FaultCommon {
  description?: string;
  position?: SourcePosition;
  /** Who asked for it: the lab spec (default) or a workshop exercise (src/workshop/). */
  source?: 'spec' | 'exercise';
}

/** One fault `up` applies after wiring, as checks: `{ kind: 'link-down', 'link-down': {...} }`.
 * The kinds are src/faults/fault-kinds.ts. */
export type FaultSpec = FaultCommon & KindEntry;

/** One engine of a lab spread over several machines. Exactly one of host or context. */
export interface EngineSpec {
  name: string;
  /** unix://, tcp:// or ssh:// */
  host?: string;
  context?: string;
  /** The IPv4 address the other engines reach this one's machine at. */
  address?: string;
  certPath?: string;
  tlsVerify?: boolean;
}

/** The VXLAN tunnels between engines' switches. */
export interface StitchSpec {
  port?: number;
  vni?: number;
}

export interface LabSpec {
  name: string; // [a-z0-9][a-z0-9-]*, used in container names
  description?: string;
  file: string; // absolute path of the spec file ("<inline>" for tests)
  image?: string; // host image override, default overlab/host:<version>
  networks: PodNetworkSpec[];
  underlay: UnderlaySpec;
  hosts: HostSpec[];
  externals: ExternalNodeSpec[];
  checks: CheckSpec[];
  /** Faults `up` applies once the lab is wired (absent for most labs). */
  faults?: FaultSpec[];
  /** Kubernetes Services (absent when the spec has neither services nor proxyMode). */
  services?: ServicesSpec;
  /** Several engines (machines), the first the primary; absent: the one engine of the command. */
  engines?: EngineSpec[];
  stitch?: StitchSpec;
}
