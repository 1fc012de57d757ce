// The plain data of a spec as written, once it has passed the JSON Schema (so the shapes hold,
// but defaults are not applied and cross-references are unchecked).

export interface RawNetwork {
  name?: string; // required in the list form, absent in the single form
  cidr?: string;
  subnetLen?: number;
  bridge?: string;
  backend?: 'none' | 'host-gw' | 'vxlan' | 'udp';
  controlPlane?: 'static' | 'etcd';
  vni?: number;
  port?: number;
  nat?: boolean;
  leaseTtl?: number;
}

export interface RawPod {
  name: string;
  ip?: string;
  network?: string;
}

export interface RawHost {
  name: string;
  subnet?: string;
  subnets?: Record<string, string>;
  underlayIp?: string;
  pods?: (string | RawPod)[];
}

export interface RawNode {
  name: string;
  role: 'outside' | 'router';
  underlayIp?: string;
}

export interface RawPing {
  from: string;
  to: string;
  count?: number;
  expect?: 'reachable' | 'unreachable';
}

export interface RawPacketMatch {
  proto?: 'icmp' | 'arp' | 'udp' | 'tcp' | 'vxlan' | 'flannel-udp' | 'ipv4';
  src?: string;
  dst?: string;
  srcMac?: string;
  dstMac?: string;
  srcPort?: number;
  dstPort?: number;
  icmpType?: 'echo-request' | 'echo-reply' | 'unreachable' | number;
  vni?: number;
  inner?: RawPacketMatch;
}

export interface RawCapture {
  on: string;
  during: { ping: RawPing };
  expect?: RawPacketMatch[];
  absent?: RawPacketMatch[];
}

export interface RawCheck {
  name: string;
  description?: string;
  ping?: RawPing;
  capture?: RawCapture;
  kernel?: { on: string; peer: string; network?: string };
  lease?: { host: string; network?: string };
  agentCost?: { on: string; network?: string; during: { ping: RawPing } };
}

export interface RawLab {
  name: string;
  description?: string;
  image?: string;
  network?: RawNetwork;
  networks?: RawNetwork[];
  underlay?: { subnet?: string; mtu?: number; gateway?: string };
  hosts: RawHost[];
  nodes?: RawNode[];
  checks?: RawCheck[];
}
