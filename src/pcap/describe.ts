import { etherTypeName } from './ethernet.js';
import { icmpCodeName } from './icmp.js';
import { IP_PROTOCOL_ICMP, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from './ipv4.js';
import type { ArpPacket, DecodedPacket, IcmpMessage, Ipv4Header, LinuxCookedHeader } from './packet.js';
import { formatTcpFlags } from './transport.js';

const TRUNCATED_MARK = '[truncated]';

/**
 * One line in the spirit of `tcpdump -e -n`, e.g.
 * "02:42:ac:10:01:02 > 02:42:ac:10:01:03, IPv4 172.16.1.2 > 172.16.1.3: ICMP echo-request id 7 seq 1".
 * Encapsulated packets show the inner packet in brackets after the VXLAN / flannel-udp part.
 */
export function describePacket(p: DecodedPacket): string {
  const link = describeLinkLayer(p);
  const network = describeNetworkLayer(p);
  const text = [link, network].filter((part) => part !== '').join(', ');
  // A cut inner packet already carries the mark inside its brackets.
  const mark = p.truncated && !p.inner?.truncated ? TRUNCATED_MARK : '';
  return [text, mark].filter((part) => part !== '').join(' ') || 'empty packet';
}

function describeLinkLayer(p: DecodedPacket): string {
  if (p.eth) {
    const vlan = p.eth.vlanId === undefined ? '' : `, vlan ${p.eth.vlanId}`;
    return `${p.eth.src} > ${p.eth.dst}${vlan}`;
  }
  if (p.cooked) return describeCooked(p.cooked);
  return '';
}

function describeCooked(cooked: LinuxCookedHeader): string {
  const direction = typeof cooked.packetType === 'number' ? `packet-type ${cooked.packetType}` : cookedDirection(cooked.packetType);
  const words = [direction];
  if (cooked.interfaceIndex !== undefined) words.push(`ifindex ${cooked.interfaceIndex}`);
  if (cooked.linkAddress !== '') words.push(cooked.linkAddress);
  const vlan = cooked.vlanId === undefined ? '' : `, vlan ${cooked.vlanId}`;
  return words.join(' ') + vlan;
}

function cookedDirection(packetType: Exclude<LinuxCookedHeader['packetType'], number>): string {
  switch (packetType) {
    case 'outgoing':
      return 'Out';
    case 'host':
      return 'In';
    case 'broadcast':
      return 'B';
    case 'multicast':
      return 'M';
    case 'otherhost':
      return 'P';
  }
}

function describeNetworkLayer(p: DecodedPacket): string {
  if (p.arp) return describeArp(p.arp);
  if (p.ipv4) return `IPv4 ${describeIpv4Payload(p, p.ipv4)}`;
  const etherType = p.eth?.etherType ?? p.cooked?.protocol;
  return etherType === undefined ? '' : etherTypeName(etherType);
}

function describeArp(arp: ArpPacket): string {
  if (arp.op === 'request') return `ARP request who-has ${arp.targetIp} tell ${arp.senderIp}`;
  if (arp.op === 'reply') return `ARP reply ${arp.senderIp} is-at ${arp.senderMac}`;
  return `ARP op ${arp.op} ${arp.senderIp} (${arp.senderMac}) > ${arp.targetIp} (${arp.targetMac})`;
}

function describeIpv4Payload(p: DecodedPacket, ip: Ipv4Header): string {
  if (ip.fragmentOffset !== undefined && ip.fragmentOffset > 0) {
    return `${ip.src} > ${ip.dst}: fragment id ${ip.id} offset ${ip.fragmentOffset}${ip.moreFragments ? '+' : ''} ${protocolName(ip.protocol)}`;
  }
  if (p.udp) {
    const endpoints = `${ip.src}:${p.udp.srcPort} > ${ip.dst}:${p.udp.dstPort}`;
    if (p.vxlan) return `${endpoints} VXLAN vni ${p.vxlan.vni} ${describeInner(p.inner)}`;
    if (p.encapsulation === 'flannel-udp') return `${endpoints} flannel-udp ${describeInner(p.inner)}`;
    return `${endpoints}: UDP length ${p.udp.length}`;
  }
  if (p.tcp) {
    const flags = p.tcp.flags === undefined ? '' : ` [${formatTcpFlags(p.tcp.flags)}]`;
    return `${ip.src}:${p.tcp.srcPort} > ${ip.dst}:${p.tcp.dstPort}: TCP${flags}`;
  }
  const endpoints = `${ip.src} > ${ip.dst}`;
  if (p.icmp) return `${endpoints}: ICMP ${describeIcmp(p.icmp)}`;
  return `${endpoints}: ${protocolName(ip.protocol)}`;
}

function describeInner(inner: DecodedPacket | undefined): string {
  return inner ? `[ ${describePacket(inner)} ]` : '[ ]';
}

function describeIcmp(icmp: IcmpMessage): string {
  switch (icmp.kind) {
    case 'echo-request':
    case 'echo-reply':
      return icmp.id === undefined ? icmp.kind : `${icmp.kind} id ${icmp.id} seq ${icmp.seq}`;
    case 'unreachable':
    case 'time-exceeded': {
      const codeName = icmpCodeName(icmp);
      const code = codeName === undefined ? `code ${icmp.code}` : `code ${icmp.code} (${codeName})`;
      const quoted = icmp.quoted
        ? `, quoting ${icmp.quoted.src} > ${icmp.quoted.dst} ${protocolName(icmp.quoted.protocol)}`
        : '';
      return `${icmp.kind} ${code}${quoted}`;
    }
    case 'other':
      return `type ${icmp.type} code ${icmp.code}`;
  }
}

function protocolName(protocol: number): string {
  switch (protocol) {
    case IP_PROTOCOL_ICMP:
      return 'ICMP';
    case IP_PROTOCOL_TCP:
      return 'TCP';
    case IP_PROTOCOL_UDP:
      return 'UDP';
    default:
      return `proto ${protocol}`;
  }
}
