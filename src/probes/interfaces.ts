// Kernel state probe: every interface of a container and of its pods, from `ip -j -d addr`.
import type { ContainerRuntime } from '../runtime/runtime.js';

export interface InterfaceState {
  node: string;
  netns?: string;
  name: string;
  kind: string; // veth, bridge, vxlan, tun, loopback, ...
  state: string;
  mac: string;
  mtu: number;
  master?: string;
  addresses: string[]; // "172.16.1.2/24"
}

const NETNS_MARK = '@@netns ';

export const INTERFACES_SCRIPT = [
  `echo '${NETNS_MARK}-'`,
  'ip -j -d addr',
  `for ns in $(ip netns list | cut -d' ' -f1); do echo "${NETNS_MARK}$ns"; ip -n "$ns" -j -d addr; done`,
].join('; ');

interface IpAddrJson {
  ifname: string;
  operstate?: string;
  address?: string;
  mtu?: number;
  master?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** Pure: parse the output of INTERFACES_SCRIPT. */
export function parseInterfaces(node: string, output: string): InterfaceState[] {
  const result: InterfaceState[] = [];
  let netns: string | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith(NETNS_MARK)) {
      const name = line.slice(NETNS_MARK.length).trim();
      netns = name === '-' ? undefined : name;
      continue;
    }
    if (!line.trim().startsWith('[')) continue;
    for (const link of JSON.parse(line) as IpAddrJson[]) {
      result.push({
        node,
        ...(netns ? { netns } : {}),
        name: link.ifname,
        kind: link.linkinfo?.info_kind ?? (link.link_type === 'loopback' ? 'loopback' : link.link_type ?? ''),
        state: link.operstate ?? '',
        mac: link.address ?? '',
        mtu: link.mtu ?? 0,
        ...(link.master ? { master: link.master } : {}),
        addresses: (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      });
    }
  }
  return result;
}

export async function readInterfaces(runtime: ContainerRuntime, container: string, node: string): Promise<InterfaceState[]> {
  const result = await runtime.exec(container, ['sh', '-c', INTERFACES_SCRIPT]);
  if (result.exitCode !== 0) throw new Error(`reading interfaces of ${node} failed: ${result.stderr.trim()}`);
  return parseInterfaces(node, result.stdout);
}
