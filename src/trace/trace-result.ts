// The documented, stable shape of a trace (docs/trace.md): what `overlab trace --json` prints as
// `result`, what the report draws and what a verify `trace` check evaluates.

export type TraceProto = 'icmp' | 'udp' | 'tcp';

export interface TraceOptions {
  proto: TraceProto;
  /** Destination port for udp/tcp probes. */
  port: number;
  /** IPv4 total length of the probe packet (bytes), or undefined for the tool's default. */
  size?: number;
  /** Also follow the answer back. */
  reply: boolean;
  /** Predict only, from the kernel's tables; send nothing. */
  static: boolean;
}

/** How a hop carries the probe when it is wrapped in an outer header. */
export interface Encapsulation {
  type: 'vxlan' | 'flannel-udp';
  vni?: number;
  port: number;
  outerSrc: string;
  outerDst: string;
}

/** in: arriving at the interface; out: leaving it; through: a bridge device seeing a frame it
 * forwards between two of its ports. */
export type HopDirection = 'in' | 'out' | 'through';

export interface TraceHop {
  /** 1-based position in the journey. */
  n: number;
  /** "host1", "host1/pod1", "switch", "router". */
  node: string;
  iface: string;
  direction: HopDirection;
  /** Microseconds since the first hop (0 in a static trace). */
  atUs: number;
  /** The headers as seen here, one line (outer and inner). */
  summary: string;
  /** What changed at this hop, in words; null when nothing did. */
  change: string | null;
  /** A BGP node routed it: the route it used and from whom it learned it (`backend: bgp`). */
  route?: string;
  encapsulated: Encapsulation | null;
  /** request: the probe; reply: the answer (with --reply). */
  leg: 'request' | 'reply';
}

export interface TraceDrop {
  node: string;
  iface: string;
  reason: string;
  /** Counters that grew and table entries, one line each; never a log line. */
  evidence: string[];
}

export interface TraceResult {
  lab: string;
  from: string;
  to: string;
  /** The probe's addresses and protocol, e.g. "icmp echo 10.244.1.2 → 10.244.2.2, 84 bytes". */
  probe: string;
  mode: 'live' | 'static';
  delivered: boolean;
  hops: TraceHop[];
  /** Present when not delivered. */
  drop?: TraceDrop;
  /** Microseconds from the first hop to the last (0 in a static trace). */
  durationUs: number;
  /** Interfaces a live trace could not listen on, and why. */
  listenErrors?: string[];
  /** A live trace says where the kernel's tables predicted something else. */
  disagreement?: string;
  /** Copies that went nowhere: frames a switch flooded to ports that do not lead to their
   * destination MAC, and their arrival at nodes that ignore them. Not part of the journey. */
  astray: TraceHop[];
  /** A live trace across engines: how its times, stamped by several machines' clocks, are shown. */
  clocks?: string;
  /** Whether the answer came back (with --reply). */
  replied?: boolean;
  /** To a Service: where kube-proxy's rules turned its address into a pod's, or refused it. */
  service?: TraceService;
  /** Static, to a Service with several endpoints: the walk to each one (the first is `hops`). */
  branches?: TraceBranch[];
  /** Nodes of a degraded lab that are gone or stopped: nothing of theirs was read or heard. */
  absent?: string[];
}

/** The hop where a Service's address became a pod's: which rules did it, how they choose, and
 * (live) what the kernel showed doing it. */
export interface TraceService {
  /** "default/web:http", as the rules name it. */
  name: string;
  /** "10.96.0.10:80/tcp", or "NodePort 30080/tcp on 192.168.10.12". */
  frontend: string;
  /** The namespace whose rules translated it ("host1"). */
  node: string;
  mode: 'iptables' | 'nftables';
  /** Its endpoints as the rules hold them, each with its share of new flows. */
  endpoints: { destination: string; owner?: string; chain: string; probability: number }[];
  /** The endpoint this probe went to ("10.244.2.3:8080"): live as seen, static the first. */
  chosen?: string;
  /** Why the rules mark the flow for masquerade, when they do. */
  masquerade?: string;
  /** No endpoints: the rule that refuses it. */
  refused?: string;
  /** Live: the rule-level trace of the translating node (nft monitor trace), the DNAT rule's
   * counter, conntrack's entry for the probe's flow. Static: the rules the walk followed. */
  evidence: string[];
}

/** One endpoint's walk in a static trace to a Service. */
export interface TraceBranch {
  endpoint: string;
  owner?: string;
  probability: number;
  delivered: boolean;
  hops: TraceHop[];
  drop?: TraceDrop;
  replied?: boolean;
}
