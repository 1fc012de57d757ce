// Pure: which address host-local would hand each pod by itself, so the plan's addresses and
// host-local's agree. host-local (containernetworking/plugins, ipam/host-local/backend/allocator)
// takes the range [subnet+1, broadcast-1], skips the gateway (.1), and starts after the last
// address it reserved (its file last_reserved_ip.0; the range start on a fresh node), wrapping
// round; an address asked for with CNI_ARGS IP= is reserved as is and becomes the last reserved
// one too. A pod whose planned address host-local would not pick by itself (a fixed `ip:` in
// the spec, or one that comes after it) gets IP= — as a runtime can ask for one.
import { cidrContains, intToIp, ipToInt, parseCidr } from '../shared/ipv4.js';

export interface HostLocalRange {
  subnet: string;
  gateway: string;
}

/** The address host-local's iterator gives next, or undefined when the range is full. */
export function nextFree(range: HostLocalRange, reserved: ReadonlySet<string>, lastReserved: string | undefined): string | undefined {
  const parsed = parseCidr(range.subnet);
  if (!parsed) throw new RangeError(`not a subnet: ${range.subnet}`);
  const start = parsed.network + 1;
  const end = parsed.network + 2 ** (32 - parsed.prefix) - 2;
  const size = end - start + 1;
  const last = lastReserved !== undefined && cidrContains(range.subnet, lastReserved) ? ipToInt(lastReserved) : undefined;
  const first = last === undefined ? start : last === end ? start : last + 1;
  for (let i = 0; i < size; i++) {
    const candidate = intToIp((((first - start + i) % size) + start) >>> 0);
    if (candidate === range.gateway || reserved.has(candidate)) continue;
    return candidate;
  }
  return undefined;
}

/** For pods attached in this order on a fresh node: whether each must ask for its address. */
export function addressRequests(range: HostLocalRange, pods: readonly { name: string; ip: string }[]): Map<string, boolean> {
  const reserved = new Set<string>();
  let last: string | undefined;
  const out = new Map<string, boolean>();
  for (const pod of pods) {
    out.set(pod.name, nextFree(range, reserved, last) !== pod.ip);
    reserved.add(pod.ip);
    last = pod.ip;
  }
  return out;
}
