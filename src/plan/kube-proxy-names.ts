// The names kube-proxy gives its chains, computed the way it computes them, so a student who
// reads `iptables-save` in an overlab host sees the very names a real node shows for the same
// Service. Pure; node:crypto only.
//
// iptables (pkg/proxy/iptables/proxier.go): "KUBE-SVC-" + the first 16 characters of
// base32(sha256(servicePortName + protocol)), where servicePortName is "namespace/name:port" and
// protocol is lower case; an endpoint's KUBE-SEP- hashes the same text followed by "ip:port".
// nftables (pkg/proxy/nftables/proxier.go): the readable base "namespace/name/protocol/port" (an
// endpoint adds "__ip/port") prefixed with the first 8 characters of the same kind of hash.
import { createHash } from 'node:crypto';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 with padding, as Go's base32.StdEncoding writes it. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function sha256Base32(text: string): string {
  return base32(createHash('sha256').update(text, 'utf8').digest());
}

/** A Service port as kube-proxy names it: "namespace/name:port" (the port's name may be empty). */
export interface ServicePortName {
  namespace: string;
  name: string;
  port: string;
}

export type Protocol = 'tcp' | 'udp' | 'sctp';

export function servicePortNameString(spn: ServicePortName): string {
  return `${spn.namespace}/${spn.name}:${spn.port}`;
}

function portProtoHash(spn: ServicePortName, protocol: Protocol): string {
  return sha256Base32(servicePortNameString(spn) + protocol).slice(0, 16);
}

/** The iptables chains of one Service port. */
export interface IptablesServiceChains {
  /** KUBE-SVC-…: endpoints for "Cluster" traffic policy. */
  cluster: string;
  /** KUBE-SVL-…: endpoints for "Local" traffic policy. */
  local: string;
  /** KUBE-EXT-…: where external (NodePort, external IP, load-balancer) traffic enters. */
  external: string;
  /** KUBE-FW-…: loadBalancerSourceRanges filtering. */
  firewall: string;
}

export function iptablesServiceChains(spn: ServicePortName, protocol: Protocol): IptablesServiceChains {
  const hash = portProtoHash(spn, protocol);
  return { cluster: `KUBE-SVC-${hash}`, local: `KUBE-SVL-${hash}`, external: `KUBE-EXT-${hash}`, firewall: `KUBE-FW-${hash}` };
}

/** An endpoint as kube-proxy prints it: "ip:port". */
export function endpointString(ip: string, port: number): string {
  return `${ip}:${port}`;
}

/** KUBE-SEP-…: the chain that DNATs to one endpoint of one Service port. */
export function iptablesEndpointChain(spn: ServicePortName, protocol: Protocol, ip: string, port: number): string {
  return `KUBE-SEP-${sha256Base32(servicePortNameString(spn) + protocol + endpointString(ip, port)).slice(0, 16)}`;
}

/** nftables limits a chain name to 128 bytes; kube-proxy keeps 16 of them for its prefixes. */
const NFT_CHAIN_BASE_MAX = 128 - 16;

function hashAndTruncate(name: string): string {
  const prefixed = `${sha256Base32(name).slice(0, 8)}-${name}`;
  return prefixed.length > NFT_CHAIN_BASE_MAX ? `${prefixed.slice(0, NFT_CHAIN_BASE_MAX - 3)}...` : prefixed;
}

/** "ULMVA6XW-ns1/svc1/tcp/p80": the base of a Service port's nftables chain names. */
export function nftServiceChainBase(spn: ServicePortName, protocol: Protocol): string {
  return hashAndTruncate(`${spn.namespace}/${spn.name}/${protocol}/${spn.port}`);
}

/** "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80": the base of an endpoint's chain and affinity set. */
export function nftEndpointChainBase(spn: ServicePortName, protocol: Protocol, ip: string, port: number): string {
  return hashAndTruncate(`${spn.namespace}/${spn.name}/${protocol}/${spn.port}__${ip}/${port}`);
}
