// Decoded packets: the structured view probes and checks work on. Produced by src/pcap/decode.ts.

export interface EthernetHeader {
  src: string; // "02:42:ac:10:01:02", lower case
  dst: string;
  etherType: number; // 0x0800 IPv4, 0x0806 ARP, ...; after an 802.1Q tag, the type that follows the tag
  /** 802.1Q VLAN ID, when the frame carried a tag. */
  vlanId?: number;
}

/** Linux cooked capture header (`tcpdump -i any`): there is no Ethernet header, only the link-layer source address. */
export interface LinuxCookedHeader {
  /** Direction of the packet relative to the capturing host; 'outgoing' means sent by it. */
  packetType: 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing' | number;
  hardwareType: number; // ARPHRD_*: 1 Ethernet, 65534 none (TUN), 772 loopback
  linkAddress: string; // source MAC for Ethernet-like devices, "" when none
  protocol: number; // an EtherType: 0x0800 IPv4, 0x0806 ARP, ...
  /** Only in cooked v2 (linktype 276). */
  interfaceIndex?: number;
  vlanId?: number;
}

export interface ArpPacket {
  op: 'request' | 'reply' | number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export interface Ipv4Header {
  src: string;
  dst: string;
  protocol: number; // 1 ICMP, 6 TCP, 17 UDP
  ttl: number;
  totalLength: number;
  id: number;
  /** Present only on fragments: offset of this fragment's payload in bytes. */
  fragmentOffset?: number;
  /** Present only on fragments: the More Fragments flag. */
  moreFragments?: boolean;
}

export interface IcmpMessage {
  type: number;
  code: number;
  kind: 'echo-request' | 'echo-reply' | 'unreachable' | 'time-exceeded' | 'other';
  id?: number; // echo only
  seq?: number; // echo only
  /** For errors (unreachable, time-exceeded): the quoted original IPv4 header, when decodable. */
  quoted?: Ipv4Header;
}

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  length: number;
}

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  /** The flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20), when captured. */
  flags?: number;
}

export interface VxlanHeader {
  vni: number;
}

/** One decoded layer stack. Encapsulated traffic nests the inner packet in `inner`. */
export interface DecodedPacket {
  eth?: EthernetHeader; // absent for raw-IP link types (TUN captures) and Linux cooked captures
  cooked?: LinuxCookedHeader; // Linux cooked captures only
  arp?: ArpPacket;
  ipv4?: Ipv4Header;
  icmp?: IcmpMessage;
  udp?: UdpHeader;
  tcp?: TcpHeader;
  vxlan?: VxlanHeader;
  /** The encapsulated packet: VXLAN (inner Ethernet frame) or flannel UDP (bare inner IPv4 packet). */
  inner?: DecodedPacket;
  /** 'vxlan' | 'flannel-udp' when `inner` is set. */
  encapsulation?: 'vxlan' | 'flannel-udp';
  /** Set when decoding stopped early; what was decoded so far is kept. */
  truncated?: boolean;
}

export interface CapturedPacket {
  index: number; // 0-based position in the capture
  timestampMicros: number;
  length: number; // original length on the wire
  packet: DecodedPacket;
}

/** pcap link-layer types overlab meets: Ethernet and raw IP (TUN devices such as flannel0). */
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
/** What `tcpdump -i any` writes since libpcap 1.10 unless told `-y LINUX_SLL`. */
export const LINKTYPE_LINUX_SLL2 = 276;
/** Raw IPv4 without a version check; rare, accepted for completeness. */
export const LINKTYPE_IPV4 = 228;
