// Pure: what a host with `podAttach: cni` does, as a kubelet with flannel's CNI config would
// (docs/cni.md). Files first: flannel's conflist, the flannel plugin (overlab's shim behind a
// constant wrapper) and — with a static control plane, where no agent writes it — the static
// plan's /run/flannel/subnet.env. Then per pod, in order: its network namespace, the loopback
// network (as containerd's CRI does), and the conflist's plugins with ADD, each given the
// previous one's result. DEL runs the same lists backwards, then the namespace goes.
import { mtuFor } from '../shared/peer-state.js';
import { renderSubnetEnv } from '../shared/subnet-env.js';
import { shellCommand, shellQuote } from './shell-quote.js';
import { assertBatchToken, toRunnerSteps, type RunnerStep } from './step-runner.js';
import type { ResolvedHost, ResolvedLab, ResolvedNetwork } from './resolved-lab.js';
import { AGENT_DIR, agentFiles, backendOf, usesAgent } from './overlay.js';
import { FLANNEL_CONFLIST, FLANNEL_CONFLIST_PATH, FLANNEL_CONFLIST_TEXT, LOOPBACK_CONFLIST, type ConfList, type JsonObject } from './cni-conflist.js';
import { boundedArgv, CNI_BIN_DIR, pluginInvocation, podSandbox, POD_IFNAME, resultCachePath, type CniCommand, type PluginInvocation, type PodSandbox } from './cni-invocation.js';
import { addressRequests } from './cni-host-local.js';

/** The flannel plugin: a constant wrapper that runs overlab's shim (src/cni-plugin/flannel-plugin.ts). */
export const FLANNEL_PLUGIN = `${CNI_BIN_DIR}/flannel`;
export const FLANNEL_SHIM = `${AGENT_DIR}/cni-flannel-main.js`;
/** Constant text: no value of any lab is in it; the plugin reads CNI_* and stdin. */
export const FLANNEL_WRAPPER = `#!/bin/sh
# flannel's CNI plugin on an overlab host: overlab's shim does what github.com/flannel-io/cni-plugin
# does (read /run/flannel/subnet.env, delegate to bridge with host-local IPAM). See docs/cni.md.
exec /usr/bin/node ${FLANNEL_SHIM}
`;

export function usesCni(host: ResolvedHost): boolean {
  return host.podAttach === 'cni';
}

export function cniHosts(lab: ResolvedLab, hosts: readonly ResolvedHost[] = lab.hosts): ResolvedHost[] {
  return hosts.filter(usesCni);
}

/** The one pod network a CNI host attaches to (the spec rules allow CNI only with one). */
export function cniNetwork(lab: ResolvedLab): ResolvedNetwork {
  return lab.networks[0]!;
}

export interface CniFile {
  path: string;
  content: string;
  mode: number;
}

/** subnet.env as the static plan writes it: what an agent would, for the planned subnet. */
export function staticSubnetEnv(lab: ResolvedLab, host: ResolvedHost, network: ResolvedNetwork): string {
  const hn = host.networks.find((n) => n.network === network.name)!;
  const mtu = network.backend === 'none' ? lab.underlay.mtu : mtuFor(backendOf(network).type, lab.underlay.mtu);
  return renderSubnetEnv({ network: network.cidr, subnet: `${hn.bridgeIp}/${hn.subnet.split('/')[1]}`, mtu, ipMasq: network.nat });
}

/** The files a CNI host needs before its first ADD (the shim's modules come with them). */
export function cniFiles(lab: ResolvedLab, host: ResolvedHost): CniFile[] {
  const network = cniNetwork(lab);
  const files: CniFile[] = [
    { path: FLANNEL_CONFLIST_PATH, content: FLANNEL_CONFLIST_TEXT, mode: 0o644 },
    { path: FLANNEL_PLUGIN, content: FLANNEL_WRAPPER, mode: 0o755 },
  ];
  if (!usesAgent(network)) files.push({ path: agentFiles(lab, network).subnetEnv, content: staticSubnetEnv(lab, host, network), mode: 0o644 });
  return files;
}

/** The host's pods in ADD order, each with its sandbox (ID, netns, CNI_ARGS). */
export function podSandboxes(lab: ResolvedLab, host: ResolvedHost, pods: readonly string[] = host.pods.map((p) => p.name)): PodSandbox[] {
  const hn = host.networks[0]!;
  const requests = addressRequests({ subnet: hn.subnet, gateway: hn.bridgeIp }, host.pods);
  return host.pods.filter((p) => pods.includes(p.name)).map((p) => podSandbox(lab.name, host.name, p, requests.get(p.name) ?? true));
}

/** Before the network: each pod's namespace and its loopback network — one runner exec. */
export function sandboxSteps(sandboxes: readonly PodSandbox[]): RunnerStep[] {
  const steps = toRunnerSteps(sandboxes.map((s) => ['ip', 'netns', 'add', s.pod]));
  for (const s of sandboxes) steps.push(feedStep(loopbackInvocation('ADD', s)));
  return steps;
}

export function loopbackInvocation(command: CniCommand, sandbox: PodSandbox): PluginInvocation {
  return pluginInvocation(command, LOOPBACK_CONFLIST, LOOPBACK_CONFLIST.plugins[0]!, sandbox, 'lo');
}

/** The conflist's i-th plugin for a pod; ADD gives it the previous plugin's result. */
export function networkInvocation(command: CniCommand, sandbox: PodSandbox, index: number, prevResult?: JsonObject, list: ConfList = FLANNEL_CONFLIST): PluginInvocation {
  return pluginInvocation(command, list, list.plugins[index]!, sandbox, POD_IFNAME, prevResult);
}

function feedStep(invocation: PluginInvocation): RunnerStep {
  const argv = boundedArgv(invocation);
  return { argv, input: invocation.stdin, commands: [argv] };
}

/** libcni's cache entry for an attachment (its cacheAdd), as the file's JSON. */
export function resultCache(list: ConfList, listBytes: string, sandbox: PodSandbox, ifName: string, result: JsonObject): string {
  return JSON.stringify({
    kind: 'cniCacheV1',
    containerId: sandbox.containerId,
    config: Buffer.from(listBytes).toString('base64'),
    ifName,
    networkName: list.name,
    netns: sandbox.netns,
    cniArgs: sandbox.args,
    result,
  });
}

/** The libcni cache entries `up` writes for a pod (the pod network's; loopback's result is not kept). */
export function cacheFiles(sandbox: PodSandbox): string[] {
  return [resultCachePath(FLANNEL_CONFLIST.name, sandbox, POD_IFNAME)];
}

/** Pod removal, as the kubelet tears a sandbox down: every list's DEL with its plugins in
 * reverse (0.3.1 lists get no prevResult on DEL), then libcni's cache entries and the
 * namespaces — last, in one `ip -force -batch` that removes every namespace even when one is
 * already gone. One runner exec per host. */
export function detachSteps(sandboxes: readonly PodSandbox[]): RunnerStep[] {
  if (sandboxes.length === 0) return [];
  const steps: RunnerStep[] = [];
  for (const s of [...sandboxes].reverse()) {
    for (let i = FLANNEL_CONFLIST.plugins.length - 1; i >= 0; i--) steps.push(feedStep(networkInvocation('DEL', s, i)));
    steps.push(feedStep(loopbackInvocation('DEL', s)));
  }
  const rm = ['rm', '-f', ...sandboxes.flatMap(cacheFiles)];
  const netns = sandboxes.map((s) => ['ip', 'netns', 'del', s.pod]);
  for (const argv of netns) for (const token of argv.slice(1)) assertBatchToken(token, argv);
  steps.push({ argv: rm, commands: [rm] }, { argv: ['ip', '-force', '-batch', '-'], input: netns.map((a) => a.slice(1).join(' ')).join('\n') + '\n', commands: netns });
  return steps;
}

/** --dry-run: the files and the plugin runs, as a student could type them. */
export function cniDryRunLines(lab: ResolvedLab, host: ResolvedHost): string[] {
  const lines: string[] = [];
  const files = cniFiles(lab, host);
  lines.push(`# files (the engine's archive API, no process); the flannel plugin is overlab's shim, copied to ${FLANNEL_SHIM}`);
  for (const f of files) {
    lines.push(`mkdir -p ${shellQuote(f.path.slice(0, f.path.lastIndexOf('/')))}`);
    lines.push(`printf '%s\\n' ${f.content.trimEnd().split('\n').map(shellQuote).join(' ')} > ${shellQuote(f.path)}`);
    if (f.mode & 0o111) lines.push(`chmod 755 ${shellQuote(f.path)}`);
  }
  const run = (inv: PluginInvocation) => `printf '%s' ${shellQuote(inv.stdin)} | ${shellCommand(inv.argv)}`;
  for (const s of podSandboxes(lab, host)) {
    lines.push(`# pod ${s.pod}: its network namespace, then ADD as the runtime calls it (loopback first, as containerd does)`);
    lines.push(shellCommand(['ip', 'netns', 'add', s.pod]), run(loopbackInvocation('ADD', s)));
    lines.push(run(networkInvocation('ADD', s, 0)));
    lines.push(`# portmap's stdin also carries "prevResult": the flannel plugin's printed result, known only when it ran`);
    lines.push(run(networkInvocation('ADD', s, 1)));
  }
  return lines;
}
