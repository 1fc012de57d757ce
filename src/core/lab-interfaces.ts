// Kernel state probe: every interface of a container and of its pods, from `ip -j -d addr`.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { runnerErrors, toRunnerSteps } from '../plan/step-runner.js';
import { runSteps } from '../deploy/run-steps.js';

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

/** What `ip -all netns exec` prints before each namespace's output. */
const NETNS_MARK = 'netns: ';

/** Two argv commands, no shell: the container's own interfaces, then every namespace's. */
export const INTERFACE_COMMANDS: readonly string[][] = [
  ['ip', '-j', '-d', 'addr'],
  ['ip', '-all', 'netns', 'exec', 'ip', '-j', '-d', 'addr'],
];

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

/** Pure: parse the output of INTERFACE_COMMANDS (the container's JSON first, then each
 * namespace's after its "netns: <name>" line). */
export function parseInterfaces(node: string, output: string): InterfaceState[] {
  const result: InterfaceState[] = [];
  let netns: string | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith(NETNS_MARK)) {
      netns = line.slice(NETNS_MARK.length).trim();
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
  const result = await runSteps(runtime, container, toRunnerSteps(INTERFACE_COMMANDS));
  if (result.exitCode !== 0) throw new Error(`reading interfaces of ${node} failed: ${runnerErrors(result.stderr).join('; ')}`);
  return parseInterfaces(node, result.stdout);
}
