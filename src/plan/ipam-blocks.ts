// IPAM blocks, as Calico cuts its IP pool: the pool is split into blocks of `blockSize` (IPv4
// default /26), each affine to one host; a host holds as many blocks as its pods need. Pure.
//
// overlab keeps the pods on a bridge in their host (as every earlier lab does), so in each block
// the first address is the network, the second the bridge's address (the pods' gateway) and the
// last the broadcast: a /26 holds 61 pods. Calico itself gives each pod a /32 route and uses
// every address; the routing between hosts, which is what blocks are for, is the same.
import { cidrContains, cidrOf, formatCidr, intToIp, ipToInt, parseCidr, prefixSize } from '../shared/ipv4.js';
import { inputError } from '../base/errors.js';


export interface BlockRequestPod {
  name: string;
  /** A fixed address: its block is this host's. */
  ip?: string;
}

export interface BlockRequest {
  host: string;
  pods: BlockRequestPod[];
}

export interface HostBlocks {
  host: string;
  /** In the order the host took them; the first is the host's "subnet" in the model. */
  blocks: string[];
  /** Pod name → its address and the block it is in. */
  pods: { name: string; ip: string; block: string }[];
}

/** Pods one block can hold: every address but the network, the bridge and the broadcast. */
export function podsPerBlock(blockSize: number): number {
  return prefixSize(blockSize) - 3;
}

/** The bridge's (gateway's) address in a block: its second address. */
export function blockGateway(block: string): string {
  return intToIp(mustParse(block).network + 1);
}

/** The i-th block of a pool (from 0). */
export function nthBlock(pool: string, blockSize: number, index: number): string {
  const { network } = mustParse(pool);
  return formatCidr({ network: (network + index * prefixSize(blockSize)) >>> 0, prefix: blockSize });
}

export function blockCount(pool: string, blockSize: number): number {
  const { prefix } = mustParse(pool);
  return blockSize < prefix ? 0 : 2 ** (blockSize - prefix);
}

/** The block of `blockSize` an address falls in. */
export function blockOf(ip: string, blockSize: number): string {
  return formatCidr(cidrOf(ip, blockSize));
}

function mustParse(cidr: string) {
  const parsed = parseCidr(cidr);
  if (!parsed) throw inputError(`invalid CIDR ${cidr}`);
  return parsed;
}

/** Why a fixed pod address cannot be used in a block, or undefined when it can. */
export function reservedInBlock(ip: string, blockSize: number): string | undefined {
  const block = mustParse(blockOf(ip, blockSize));
  const offset = ipToInt(ip) - block.network;
  if (offset === 0) return `the network address of block ${formatCidr(block)}`;
  if (offset === 1) return `the bridge's address in block ${formatCidr(block)} (the pods' gateway)`;
  if (offset === prefixSize(blockSize) - 1) return `the broadcast address of block ${formatCidr(block)}`;
  return undefined;
}

/**
 * Gives every host the blocks its pods need: first the blocks of the fixed addresses (a block
 * belongs to one host), then, host by host in order, the lowest free blocks of the pool for the
 * rest. Every host holds at least one block, so it has something to announce. `taken` are blocks
 * already held (a running lab's hosts, when one joins).
 */
export function allocateBlocks(pool: string, blockSize: number, requests: BlockRequest[], taken: string[] = []): HostBlocks[] {
  if (blockSize < mustParse(pool).prefix) throw inputError(`block size /${blockSize} is larger than the pool ${pool}`);
  const owner = new Map<string, string>();
  for (const block of taken) owner.set(block, '');
  const result = new Map<string, HostBlocks>();
  for (const r of requests) result.set(r.host, { host: r.host, blocks: [], pods: [] });

  for (const r of requests) {
    for (const pod of r.pods) {
      if (!pod.ip) continue;
      if (!cidrContains(pool, pod.ip)) throw inputError(`pod ${r.host}/${pod.name}: ${pod.ip} is outside the pod network ${pool}`);
      const reserved = reservedInBlock(pod.ip, blockSize);
      if (reserved) throw inputError(`pod ${r.host}/${pod.name}: ${pod.ip} is ${reserved}`);
      const block = blockOf(pod.ip, blockSize);
      const held = owner.get(block);
      if (held !== undefined && held !== r.host) {
        throw inputError(`pod ${r.host}/${pod.name}: ${pod.ip} is in block ${block}, which ${held === '' ? 'another host' : held} holds`, 'a block belongs to one host: pick an address in one of this host\'s blocks');
      }
      if (held === undefined) {
        owner.set(block, r.host);
        result.get(r.host)!.blocks.push(block);
      }
    }
  }

  const total = blockCount(pool, blockSize);
  let next = 0;
  const freeBlock = (host: string): string => {
    while (next < total) {
      const block = nthBlock(pool, blockSize, next++);
      if (!owner.has(block)) {
        owner.set(block, host);
        return block;
      }
    }
    throw inputError(`the pod network ${pool} has no free /${blockSize} block left for ${host}`, 'use a larger pod network or a smaller block size (a longer prefix)');
  };

  for (const r of requests) {
    const mine = result.get(r.host)!;
    const used = new Set(r.pods.filter((p) => p.ip).map((p) => ipToInt(p.ip!)));
    let cursor = { blockIndex: 0, offset: 2 };
    const nextAddress = (): { ip: string; block: string } => {
      for (;;) {
        if (cursor.blockIndex >= mine.blocks.length) mine.blocks.push(freeBlock(r.host));
        const block = mine.blocks[cursor.blockIndex]!;
        const base = mustParse(block).network;
        while (cursor.offset <= prefixSize(blockSize) - 2) {
          const candidate = (base + cursor.offset++) >>> 0;
          if (!used.has(candidate)) {
            used.add(candidate);
            return { ip: intToIp(candidate), block };
          }
        }
        cursor = { blockIndex: cursor.blockIndex + 1, offset: 2 };
      }
    };
    for (const pod of r.pods) {
      if (pod.ip) mine.pods.push({ name: pod.name, ip: pod.ip, block: blockOf(pod.ip, blockSize) });
      else mine.pods.push({ name: pod.name, ...nextAddress() });
    }
    if (mine.blocks.length === 0) mine.blocks.push(freeBlock(r.host));
  }
  return requests.map((r) => result.get(r.host)!);
}
