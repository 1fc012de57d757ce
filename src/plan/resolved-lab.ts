// A lab with every address, MAC and name decided: what `up` builds and what checks resolve
// names against. Produced by resolveLab() (resolve-lab.ts); kept in the switch as /etc/overlab/lab.json
// (lab/lab-files.ts) so `verify`, `inspect` and `down` work without the spec file.
import type { Backend, BgpSpec, CheckSpec, ControlPlane, ExternalRole, FaultSpec, IpipMode, PodAttach, ProxyMode, ServePortSpec, ServiceProtocol } from '../lab-spec/lab-spec.js';
import type { ResolvedEngine, ResolvedStitch } from './engine-placement.js';
import type { ResolvedLink, ResolvedSegment, UnderlayRoute } from './routed-underlay.js';

export type { ResolvedEngine, ResolvedStitch, ResolvedLink, ResolvedSegment, UnderlayRoute };

export interface ResolvedNetwork {
  name: string;
  cidr: string;
  subnetLen: number;
  bridge: string;
  backend: Backend;
  controlPlane: ControlPlane;
  vni: number;
  port: number;
  nat: boolean;
  leaseTtl: number;
  /** The hosts' default; absent in models written before podAttach existed (= ip). */
  podAttach?: PodAttach;
  /** bgp only: the IPAM block size, how the nodes peer, IP-in-IP (Never). */
  blockSize?: number;
  bgp?: BgpSpec;
  ipipMode?: IpipMode;
}

export interface ResolvedPod {
  name: string; // also the netns name in its host
  host: string;
  network: string;
  ip: string;
  prefixLen: number;
  /** eth0's MAC. A CNI-attached pod's is the kernel's choice: empty in the plan, filled in from
   * the bridge plugin's result when `up` attached it (src/plan/cni-result.ts). */
  mac: string;
  gateway: string; // the bridge address in the host
  /** The veth end in the host's namespace, attached to the bridge; a CNI-attached pod's is the
   * bridge plugin's vethXXXXXXXX, known (like its MAC) once attached. */
  hostVeth: string;
  /** Ports its server answers on (absent: no server). */
  serve?: ServePortSpec[];
}

export interface ResolvedHostNetwork {
  network: string;
  subnet: string; // e.g. 172.16.1.0/24
  bridge: string;
  bridgeIp: string; // .1
  /** Pinned by overlab's own wiring; on a CNI host the bridge plugin's (filled in once attached). */
  bridgeMac: string;
  /** bgp only: the host's IPAM blocks, in order (the first is `subnet`); the bridge has the
   * second address of each (its pods' gateway). */
  blocks?: string[];
}

export interface ResolvedHost {
  name: string;
  container: string;
  underlayIp: string;
  underlayMac: string;
  networks: ResolvedHostNetwork[];
  pods: ResolvedPod[];
  /** How its pods are attached; absent in models written before podAttach existed (= ip). */
  podAttach?: PodAttach;
  /** The engine it runs on, when the lab has several (ResolvedLab.engines). */
  engine?: string;
  /** A routed underlay: its link (eth0) on its segment; absent on a single underlay. */
  links?: ResolvedLink[];
}

export interface ResolvedExternal {
  name: string;
  role: ExternalRole | 'etcd';
  container: string;
  underlayIp: string;
  underlayMac: string;
  /** The engine it runs on, when the lab has several (ResolvedLab.engines). */
  engine?: string;
  /** A routed underlay: one link per segment it is on (eth0, eth1, …; eth0's is underlayIp). */
  links?: ResolvedLink[];
  /** A router of a routed underlay: routes to the segments it is not on. */
  routes?: UnderlayRoute[];
}

export interface ResolvedUnderlay {
  subnet: string;
  prefixLen: number;
  mtu: number;
  gateway?: string; // IP of the router node the hosts use as default route
  switchContainer: string;
  bridge: string; // the Linux bridge inside the switch container
  /** A routed underlay: its segments, each a bridge in the switch (the first is the default,
   * and subnet/prefixLen/bridge above are its). Absent: one segment, the bridge `underlay`. */
  segments?: ResolvedSegment[];
}

export interface ResolvedServicePort {
  /** "" for the one unnamed port of a single-port Service. */
  name: string;
  port: number;
  targetPort: number;
  protocol: ServiceProtocol;
  nodePort?: number;
}

export interface ResolvedService {
  name: string;
  namespace: string;
  type: 'ClusterIP' | 'NodePort';
  clusterIP: string;
  ports: ResolvedServicePort[];
  /** "host/pod", in the spec's order. */
  endpoints: string[];
}

/** kube-proxy on every host: how it programs, where ClusterIPs come from, the Services. */
export interface ResolvedServices {
  proxyMode: ProxyMode;
  serviceCIDR: string;
  services: ResolvedService[];
}

export interface ResolvedLab {
  name: string;
  description?: string;
  specFile: string;
  image: string;
  underlay: ResolvedUnderlay;
  networks: ResolvedNetwork[];
  hosts: ResolvedHost[];
  externals: ResolvedExternal[];
  checks: CheckSpec[];
  /** Faults `up` applies after wiring; absent when the spec has none. */
  faults?: FaultSpec[];
  /** Kubernetes Services; absent when the spec has none (and no proxyMode). */
  services?: ResolvedServices;
  /** The engines the lab spreads over, the first the primary; absent: one engine. */
  engines?: ResolvedEngine[];
  /** The VXLAN tunnels joining the engines' switches (with engines only). */
  stitch?: ResolvedStitch;
}
