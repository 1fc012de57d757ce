// Pure: one CNI plugin invocation as a kubelet's runtime makes it (libcni's invoke.Args): the
// plugin found in CNI_PATH, the CNI_* environment, the network config on stdin. Rendered as an
// argv (`env K=V … /usr/lib/cni/<plugin>`), never as shell text with values in it.
import { createHash } from 'node:crypto';
import { OverlabError } from '../base/errors.js';
import type { ResolvedPod } from './resolved-lab.js';
import { pluginStdin, type ConfList, type JsonObject, type PluginConf } from './cni-conflist.js';
import { bounded } from './process-argv.js';

/** Where kube-flannel's install step puts the flannel plugin (here: overlab's shim). */
export const CNI_BIN_DIR = '/opt/cni/bin';
/** Where Debian's containernetworking-plugins installs the reference plugins. */
export const DEBIAN_CNI_DIR = '/usr/lib/cni';
export const CNI_PATH = `${CNI_BIN_DIR}:${DEBIAN_CNI_DIR}`;

/** The plugins a CNI host has, and the directory of CNI_PATH each one is found in. */
const PLUGIN_DIRS: Record<string, string> = {
  flannel: CNI_BIN_DIR,
  bridge: DEBIAN_CNI_DIR,
  'host-local': DEBIAN_CNI_DIR,
  loopback: DEBIAN_CNI_DIR,
  portmap: DEBIAN_CNI_DIR,
};

/** libcni's FindInPath, for the plugins this image has. */
export function pluginPath(type: string): string {
  const dir = PLUGIN_DIRS[type];
  if (!dir) throw new OverlabError('internal', `no CNI plugin "${type}" in ${CNI_PATH} (a bug in overlab's CNI plan: please report it)`);
  return `${dir}/${type}`;
}

/** A pod's interface inside its netns, as the kubelet names it. */
export const POD_IFNAME = 'eth0';
/** A plugin gets this long before `timeout` ends it (the bridge plugin alone may wait 2.5 s for
 * its port to come up). */
export const PLUGIN_DEADLINE_SECONDS = 30;

export type CniCommand = 'ADD' | 'DEL';

/** The sandbox a pod's network belongs to, as the runtime knows it. */
export interface PodSandbox {
  pod: string;
  /** The sandbox (pause) container's ID: 64 hex digits, as the runtime's are. */
  containerId: string;
  netns: string;
  /** CNI_ARGS, in order. */
  args: [string, string][];
}

/** A stable sandbox ID per lab, host and pod: DEL finds the same ID `up` used, with no state. */
export function sandboxId(lab: string, host: string, pod: string): string {
  return createHash('sha256').update(`overlab-cni\0${lab}\0${host}\0${pod}`).digest('hex');
}

/** `ip netns add <pod>` makes /run/netns/<pod>; the runtime hands the plugins its path. */
export function netnsPath(pod: string): string {
  return `/var/run/netns/${pod}`;
}

/** The CNI_ARGS a kubelet passes (IgnoreUnknown, namespace, pod name, sandbox ID), and IP= when
 * host-local must hand out a given address (src/plan/cni-host-local.ts). */
export function podSandbox(lab: string, host: string, pod: ResolvedPod, requestIp: boolean): PodSandbox {
  const containerId = sandboxId(lab, host, pod.name);
  const args: [string, string][] = [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', 'default'],
    ['K8S_POD_NAME', pod.name],
    ['K8S_POD_INFRA_CONTAINER_ID', containerId],
  ];
  if (requestIp) args.push(['IP', pod.ip]);
  return { pod: pod.name, containerId, netns: netnsPath(pod.name), args };
}

/** libcni's invoke.Args as environment entries. */
export function cniEnvironment(command: CniCommand, sandbox: PodSandbox, ifName: string): string[] {
  return [
    `CNI_COMMAND=${command}`,
    `CNI_CONTAINERID=${sandbox.containerId}`,
    `CNI_NETNS=${sandbox.netns}`,
    `CNI_ARGS=${sandbox.args.map(([k, v]) => `${k}=${v}`).join(';')}`,
    `CNI_IFNAME=${ifName}`,
    `CNI_PATH=${CNI_PATH}`,
  ];
}

/** One plugin run: what it is, the argv that runs it, and its stdin. */
export interface PluginInvocation {
  command: CniCommand;
  type: string;
  network: string;
  ifName: string;
  /** `env CNI_…=… <plugin>`, as a student would type it. */
  argv: string[];
  stdin: string;
}

export function pluginInvocation(command: CniCommand, list: ConfList, plugin: PluginConf, sandbox: PodSandbox, ifName: string, prevResult?: JsonObject): PluginInvocation {
  return {
    command,
    type: plugin.type,
    network: list.name,
    ifName,
    argv: ['env', ...cniEnvironment(command, sandbox, ifName), pluginPath(plugin.type)],
    stdin: pluginStdin(list, plugin, prevResult),
  };
}

/** The argv that runs: the invocation bounded by `timeout` inside the container. */
export function boundedArgv(invocation: PluginInvocation): string[] {
  return bounded(invocation.argv, PLUGIN_DEADLINE_SECONDS, 'TERM');
}

/** libcni's result cache for a network attachment (its cacheAdd), which DEL removes. */
export function resultCachePath(network: string, sandbox: PodSandbox, ifName: string): string {
  return `/var/lib/cni/results/${network}-${sandbox.containerId}-${ifName}`;
}
