// The etcd node at run time: etcd declared to the node's supervisor (node-init.ts: it runs it,
// and runs it again when it ends or the container restarts), a readiness poll until it answers,
// then the network config every agent reads.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { ETCD_DAEMON, ETCD_HEALTH_ARGV, ETCD_LOG, etcdArgv, etcdConfigPuts, etcdNode, networkConfigValue, etcdPrefix, usesAgent } from '../plan/overlay.js';
import { environmentError } from '../base/errors.js';
import { pollUntil } from '../base/poll.js';
import { fileTail } from './file-tail.js';
import { declareDaemons } from './node-daemons.js';

const READY_TIMEOUT_MS = 20_000;

/** etcd's declaration for the supervisor. */
export function etcdDaemon(lab: ResolvedLab) {
  return { name: ETCD_DAEMON, output: ETCD_LOG, argv: etcdArgv(lab) };
}

/** Poll until etcd answers, or fail with the end of its log. */
export async function waitForEtcd(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const etcd = etcdNode(lab);
  if (!etcd) return;
  const ready = await pollUntil(async () => (await runtime.exec(etcd.container, [...ETCD_HEALTH_ARGV], { signal })).exitCode === 0, { timeoutMs, signal });
  if (!ready) {
    const tail = await fileTail(runtime, etcd.container, ETCD_LOG, 5);
    throw environmentError(`etcd on ${etcd.name} did not answer within ${timeoutMs / 1000} s` + (tail ? `; its log ends:\n${tail}` : ''), 'run `overlab doctor`');
  }
}

export async function startEtcd(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal): Promise<void> {
  const etcd = etcdNode(lab);
  if (!etcd) return;
  await declareDaemons(runtime, etcd.container, [etcdDaemon(lab)], { signal });
  await waitForEtcd(runtime, lab, signal);
  await seedEtcdConfig(runtime, lab, signal);
}

/** The networks whose `<prefix>/config` in etcd is missing or not what the lab's model says. */
export async function missingEtcdConfig(runtime: ContainerRuntime, lab: ResolvedLab, signal?: AbortSignal): Promise<string[]> {
  const etcd = etcdNode(lab);
  if (!etcd) return [];
  const out: string[] = [];
  for (const network of lab.networks.filter(usesAgent)) {
    const key = `${etcdPrefix(lab, network)}/config`;
    const r = await runtime.exec(etcd.container, ['etcdctl', 'get', '--print-value-only', key], signal ? { signal } : {});
    if (r.exitCode !== 0) throw environmentError(`etcd on ${etcd.name} does not answer: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    if (r.stdout.trim() !== networkConfigValue(network)) out.push(network.name);
  }
  return out;
}

/** Write each network's config (all, or only those named). */
export async function seedEtcdConfig(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, only?: string[]): Promise<void> {
  const etcd = etcdNode(lab);
  if (!etcd) return;
  for (const put of etcdConfigPuts(lab)) {
    if (only && !only.includes(put.network)) continue;
    const r = await runtime.exec(etcd.container, put.argv, { signal });
    if (r.exitCode !== 0) throw environmentError(`writing the config of network ${put.network} to etcd failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  }
}
