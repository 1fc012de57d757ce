// The etcd node at run time: etcd started as a daemon (an argv, its output to a log file), a
// readiness poll until it answers, then the network config every agent reads.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { ETCD_HEALTH_ARGV, ETCD_LOG, etcdArgv, etcdConfigPuts, etcdNode } from '../plan/overlay.js';
import { appendingOutputTo } from '../plan/process-argv.js';
import { environmentError } from '../base/errors.js';
import { pollUntil } from '../base/poll.js';
import { fileTail } from './file-tail.js';

const READY_TIMEOUT_MS = 20_000;

export async function startEtcd(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal): Promise<void> {
  const etcd = etcdNode(lab);
  if (!etcd) return;
  await runtime.execDetached(etcd.container, appendingOutputTo(ETCD_LOG, etcdArgv(lab)));
  const ready = await pollUntil(async () => (await runtime.exec(etcd.container, [...ETCD_HEALTH_ARGV], { signal })).exitCode === 0, {
    timeoutMs: READY_TIMEOUT_MS,
    signal,
  });
  if (!ready) {
    const tail = await fileTail(runtime, etcd.container, ETCD_LOG, 5);
    throw environmentError(`etcd on ${etcd.name} did not answer within ${READY_TIMEOUT_MS / 1000} s` + (tail ? `; its log ends:\n${tail}` : ''), 'run `overlab doctor`');
  }
  for (const put of etcdConfigPuts(lab)) {
    const r = await runtime.exec(etcd.container, put.argv, { signal });
    if (r.exitCode !== 0) throw environmentError(`writing the config of network ${put.network} to etcd failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  }
}
