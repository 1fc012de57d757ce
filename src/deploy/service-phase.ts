// The `up` phases of a lab with Services: refuse IPVS on a kernel without ip_vs (before the
// control plane starts), then — once the pods exist — install the pod tools, start the pods'
// servers and wait until each listens, and program every host as kube-proxy does: its start-up
// commands and its one rule load (iptables-restore or nft -f) in one exec per host, the rules on
// the runner's stdin, never in shell text.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab, ResolvedPod } from '../plan/resolved-lab.js';
import { environmentError, OverlabError } from '../base/errors.js';
import { eachLimited } from '../base/each-limited.js';
import { pollUntil } from '../base/poll.js';
import { tarEntries } from '../runtime/tar.js';
import { isEngineFailure } from '../runtime/engine-errors.js';
import { shellCommand } from '../plan/shell-quote.js';
import { failedCommand, runnerErrors } from '../plan/step-runner.js';
import { compilePlan, runSteps } from './run-steps.js';
import { throwIfAborted } from './node-bringup.js';
import { IPTABLES_RESTORE_ARGV, iptablesRestoreText } from '../plan/kube-proxy-iptables.js';
import type { ProxyServicePort } from '../plan/kube-proxy-model.js';
import {
  hasServices,
  kubeProxyPrepPlan,
  kubeProxyRuleLoad,
  needsPodTools,
  POD_TOOLS_DIR,
  proxierSettings,
  proxyModeOf,
  proxyServicePorts,
  type RuleLoad,
  serveDaemon,
  serveOutput,
  servingPods,
} from '../plan/service-plan.js';
import { tolerated } from '../base/debug-log.js';
import { declareDaemons } from './node-daemons.js';

const DIST_POD_TOOLS = fileURLToPath(new URL('../host/pod-tools/', import.meta.url));
const POD_TOOLS = ['serve.js', 'ask.js', 'package.json'];
const SERVERS_READY_MS = 20_000;
/** Hosts programmed at once: each is one exec; many at once only queue on the engine. */
const PROGRAM_AT_ONCE = 8;

export interface ServicePhase {
  title: string;
  run(signal: AbortSignal): Promise<void>;
}

/** Says plainly when kube-proxy's chosen mode cannot run on this kernel: IPVS needs ip_vs. */
export function proxyModePhases(runtime: ContainerRuntime, lab: ResolvedLab): ServicePhase[] {
  if (proxyModeOf(lab) !== 'ipvs') return [];
  return [
    {
      title: "Check that this kernel can run kube-proxy's IPVS mode (ip_vs)",
      async run(signal) {
        throwIfAborted(signal);
        const host = lab.hosts[0]!;
        const r = await runtime.exec(host.container, ['test', '-e', '/proc/net/ip_vs'], { signal });
        if (r.exitCode !== 0) throw ipvsMissing();
      },
    },
  ];
}

export function ipvsMissing(): OverlabError {
  return environmentError(
    "proxyMode: ipvs needs the kernel's IPVS (ip_vs), and this kernel has none (no /proc/net/ip_vs in a lab host): kube-proxy's IPVS mode cannot run here",
    'use proxyMode: iptables (the default) or proxyMode: nftables; for IPVS, a kernel with ip_vs (modprobe ip_vs on the engine\'s machine)',
  );
}

export function servicePhases(runtime: ContainerRuntime, lab: ResolvedLab): ServicePhase[] {
  const phases: ServicePhase[] = [];
  const pods = servingPods(lab);
  if (needsPodTools(lab)) {
    phases.push({
      title: pods.length ? `Install the pod tools and start ${pods.length} pod server${pods.length === 1 ? '' : 's'} (${pods.map((p) => `${p.host}/${p.name}`).join(', ')})` : 'Install the pod tools',
      async run(signal) {
        throwIfAborted(signal);
        await installPodTools(runtime, lab, signal);
        await startServers(runtime, lab, pods, signal);
      },
    });
  }
  if (hasServices(lab) && proxyModeOf(lab) !== 'ipvs') {
    const services = lab.services!.services.length;
    phases.push({
      title: `Program ${services} Service${services === 1 ? '' : 's'} on ${lab.hosts.length} hosts as kube-proxy does (${proxyModeOf(lab)} mode)`,
      async run(signal) {
        throwIfAborted(signal);
        await programServices(runtime, lab, signal);
      },
    });
  }
  return phases;
}

/** The pod tools (one archive per node, no process): every host and external node may ask. */
export async function installPodTools(runtime: ContainerRuntime, lab: ResolvedLab, signal?: AbortSignal, only?: string[]): Promise<void> {
  const missing = POD_TOOLS.filter((f) => !existsSync(`${DIST_POD_TOOLS}${f}`));
  if (missing.length) throw environmentError(`the pod tools are not built (dist/host/pod-tools/${missing.join(', ')} missing)`, 'npm run build');
  const tar = tarEntries([
    { name: 'opt/' },
    { name: 'opt/overlab/' },
    { name: `${POD_TOOLS_DIR.slice(1)}/` },
    { name: 'run/' },
    { name: 'run/overlab/' },
    ...POD_TOOLS.map((f) => ({ name: `${POD_TOOLS_DIR.slice(1)}/${f}`, content: readFileSync(`${DIST_POD_TOOLS}${f}`) })),
  ]);
  const nodes = [...lab.hosts.map((h) => h.container), ...lab.externals.filter((e) => e.role !== 'etcd').map((e) => e.container)].filter((c) => !only || only.includes(c));
  await eachLimited(nodes, PROGRAM_AT_ONCE, async (container) => {
    const put = () => runtime.putTar(container, '/', tar, signal ? { signal } : {});
    await put().catch((error: unknown) => {
      if (!isEngineFailure(error, 'unreachable')) throw error;
      return put();
    });
  });
}

/** Declare each serving pod's server to its host's supervisor (it comes back with its container)
 * and wait until every one says it listens (or why it cannot). */
export async function startServers(runtime: ContainerRuntime, lab: ResolvedLab, pods: ResolvedPod[], signal: AbortSignal): Promise<void> {
  const containerOf = (pod: ResolvedPod) => lab.hosts.find((h) => h.name === pod.host)!.container;
  for (const host of lab.hosts) {
    const mine = pods.filter((p) => p.host === host.name);
    if (mine.length) await declareDaemons(runtime, host.container, mine.map(serveDaemon), { signal });
  }
  const pending = new Set(pods);
  const said = new Map<ResolvedPod, string>();
  const ready = await pollUntil(
    async () => {
      await Promise.all(
        [...pending].map(async (pod) => {
          const text = (await runtime.readFile(containerOf(pod), serveOutput(pod), { signal }).catch(tolerated('deploy', `read ${serveOutput(pod)} in ${containerOf(pod)} (not written yet?)`, Buffer.alloc(0)))).toString('utf8');
          // The file outlives the server (a node that restarted keeps it): its last word counts.
          const last = text.trim().split('\n').at(-1) ?? '';
          said.set(pod, last);
          if (/listening on/.test(last)) pending.delete(pod);
          else if (/^serve: /.test(last)) throw environmentError(`the server of ${pod.host}/${pod.name} did not start: ${text.trim().split('\n').at(-1)}`, 'is the port taken in the pod? `overlab exec <lab> <host>/<pod> -- ss -lnptu`');
        }),
      );
      return pending.size === 0;
    },
    { timeoutMs: SERVERS_READY_MS, intervalMs: 100, signal },
  );
  if (!ready) {
    const list = [...pending].map((p) => `${p.host}/${p.name}${said.get(p) ? ` (it said: ${said.get(p)})` : ''}`).join(', ');
    throw environmentError(`pod servers did not start listening within ${SERVERS_READY_MS / 1000} s: ${list}`, 'the machine may be overloaded; try again, or `overlab logs` / `overlab exec` to look');
  }
}

/** Every host as kube-proxy programs it: start-up commands, then the one rule load, one exec. */
export async function programServices(runtime: ContainerRuntime, lab: ResolvedLab, signal?: AbortSignal, hosts: ResolvedHost[] = lab.hosts): Promise<void> {
  const services = proxyServicePorts(lab);
  await eachLimited(hosts, PROGRAM_AT_ONCE, async (host) => {
    const prep = compilePlan(kubeProxyPrepPlan(lab, host));
    const load = kubeProxyRuleLoad(lab, host, services);
    const steps = [...prep.steps, { argv: load.argv, input: load.stdin, commands: [load.argv] }];
    const result = await runSteps(runtime, host.container, steps, signal);
    if (result.exitCode === 0) return;
    const failed = failedCommand(steps, result.stderr);
    const detail = runnerErrors(result.stderr).slice(-3).join('; ');
    throw environmentError(
      `programming the Services on ${host.name} failed at \`${failed ? shellCommand(failed) : '(unknown command)'}\`: ${detail || `exit ${result.exitCode}`}`,
      'run `overlab doctor` to check the kernel features this lab needs',
    );
  });
}

/** kube-proxy syncing again after an EndpointSlice changed: every host's rules rewritten for these
 * Service ports — a full iptables-restore that also deletes the Service chains no longer used (as
 * kube-proxy does with `-X`), or one nft transaction that replaces its table. */
export async function resyncServices(runtime: ContainerRuntime, lab: ResolvedLab, services: ProxyServicePort[], signal?: AbortSignal, hosts: ResolvedHost[] = lab.hosts): Promise<void> {
  const nft = proxyModeOf(lab) === 'nftables';
  await eachLimited(hosts, PROGRAM_AT_ONCE, async (host) => {
    let load: RuleLoad;
    if (nft) {
      const full = kubeProxyRuleLoad(lab, host, services);
      load = { argv: full.argv, stdin: `add table ip kube-proxy\ndelete table ip kube-proxy\n${full.stdin}` };
    } else {
      const saved = await runtime.exec(host.container, ['iptables-save', '-t', 'nat'], signal ? { signal } : {});
      const chains = [...saved.stdout.matchAll(/^:(KUBE-\S+) /gm)].map((m) => m[1]!);
      load = { argv: IPTABLES_RESTORE_ARGV, stdin: iptablesRestoreText(proxierSettings(lab, host), services, chains) };
    }
    const steps = [{ argv: load.argv, input: load.stdin, commands: [load.argv] }];
    const result = await runSteps(runtime, host.container, steps, signal);
    if (result.exitCode !== 0) throw environmentError(`rewriting kube-proxy's rules on ${host.name} failed: ${runnerErrors(result.stderr).slice(-3).join('; ') || `exit ${result.exitCode}`}`);
  });
}

/** After `up` repaired nodes in place (re-wired, or made anew): what Services need there again.
 * A repaired host gets the pod tools, its pods' servers declared (again: a new container has none;
 * a re-wired one's are started at once) and kube-proxy's start-up and rules; the other hosts'
 * rules are synced (a pod attached again through CNI may have another address). A repaired outside
 * node gets the pod tools. */
export async function repairServices(runtime: ContainerRuntime, lab: ResolvedLab, repaired: string[], signal: AbortSignal): Promise<void> {
  const hosts = lab.hosts.filter((h) => repaired.includes(h.name));
  const externals = lab.externals.filter((e) => e.role !== 'etcd' && repaired.includes(e.name));
  if (!needsPodTools(lab) || hosts.length + externals.length === 0) return;
  throwIfAborted(signal);
  await installPodTools(runtime, lab, signal, [...hosts, ...externals].map((n) => n.container));
  const pods = servingPods(lab).filter((p) => repaired.includes(p.host));
  if (pods.length) await startServers(runtime, lab, pods, signal);
  if (!hasServices(lab) || proxyModeOf(lab) === 'ipvs') return;
  await programServices(runtime, lab, signal, hosts);
  const others = lab.hosts.filter((h) => !repaired.includes(h.name));
  if (others.length) await resyncServices(runtime, lab, proxyServicePorts(lab), signal, others);
}
