// CNI hosts at run time: overlab acts as the kubelet's runtime (and libcni) would. Per host: one
// archive with flannel's conflist, the flannel plugin (shim + wrapper) and, with a static control
// plane, subnet.env; one runner exec for the pods' namespaces and loopback networks; then per
// pod the conflist's plugins with ADD, one argv exec each (the next one needs the result), and
// one archive with libcni's result cache. DEL (pod removal, `down`) is one runner exec per host.
// The plans are pure (src/plan/cni-plan.ts); docs/cni.md explains every step.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab } from '../plan/resolved-lab.js';
import { tarEntries, type TarEntry } from '../runtime/tar.js';
import { FLANNEL_CONFLIST, FLANNEL_CONFLIST_TEXT, type JsonObject } from '../plan/cni-conflist.js';
import { boundedArgv, POD_IFNAME, resultCachePath, type PluginInvocation, type PodSandbox } from '../plan/cni-invocation.js';
import {
  cniFiles,
  cniHosts,
  cniNetwork,
  detachSteps,
  networkInvocation,
  podSandboxes,
  resultCache,
  sandboxSteps,
} from '../plan/cni-plan.js';
import { applyAttachments, assertPlannedAddress, attachedPod, type AttachedPod } from '../plan/cni-result.js';
import { AGENT_DIR, AGENT_DIR_PACKAGE_JSON } from '../plan/overlay.js';
import { failedCommand, runnerErrors, type RunnerStep } from '../plan/step-runner.js';
import { shellCommand } from '../plan/shell-quote.js';
import { environmentError } from '../base/errors.js';
import { runSteps } from './run-steps.js';
import { throwIfAborted } from './node-bringup.js';

/** The bundled CNI plugin (scripts/bundle-host-programs.mjs), beside the agent's bundle. */
const PLUGIN_BUNDLE = fileURLToPath(new URL('../host/agent/cni-flannel-main.js', import.meta.url));

/** The flannel plugin, one bundled file, under opt/overlab/agent/. */
export function shimEntries(): TarEntry[] {
  if (!existsSync(PLUGIN_BUNDLE)) throw environmentError('the flannel CNI plugin is not built (dist/host/agent/cni-flannel-main.js is missing)', 'npm run build');
  const dir = AGENT_DIR.replace(/^\//, '');
  return [
    { name: `${dir}/package.json`, content: Buffer.from(AGENT_DIR_PACKAGE_JSON) },
    { name: `${dir}/cni-flannel-main.js`, content: readFileSync(PLUGIN_BUNDLE) },
  ];
}

/** Every directory above these paths, parents first, as tar entries. */
function parentDirectories(paths: string[], modes: Record<string, number> = {}): TarEntry[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const parts = path.replace(/^\//, '').split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort().map((d) => ({ name: `${d}/`, ...(modes[d] !== undefined ? { mode: modes[d] } : {}) }));
}

/** One archive for `/`: what a CNI host needs before its first ADD. */
export function cniTar(lab: ResolvedLab, host: ResolvedHost, shim: TarEntry[] = shimEntries()): Buffer {
  const files = cniFiles(lab, host).map((f) => ({ name: f.path.replace(/^\//, ''), content: Buffer.from(f.content), mode: f.mode }));
  const entries = [...shim, ...files];
  return tarEntries([...parentDirectories(entries.map((e) => e.name)), ...entries]);
}

/** `timeout` (and `exec --`) answer 127 when the program is not there. */
const NOT_FOUND = 127;

function missingPlugins(host: ResolvedHost, what: string): Error {
  return environmentError(
    `${what} on ${host.name}: the host image has no CNI plugins (/usr/lib/cni from Debian's containernetworking-plugins)`,
    'rebuild the host image: `overlab image build` (podAttach: cni needs an image built by this version)',
  );
}

function pluginFailure(lab: ResolvedLab, host: ResolvedHost, sandbox: PodSandbox, invocation: PluginInvocation, stdout: string, stderr: string, exitCode: number): Error {
  if (exitCode === NOT_FOUND) return missingPlugins(host, `CNI ${invocation.command} of ${host.name}/${sandbox.pod} (plugin ${invocation.type})`);
  let message = stderr.trim().split('\n').slice(-2).join('; ') || `exit ${exitCode}`;
  try {
    const e = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e.msg === 'string') message = `${e.msg}${typeof e.details === 'string' && e.details ? `; ${e.details}` : ''} (CNI error ${String(e.code)})`;
  } catch {
    // not a CNI error object: stderr says what happened
  }
  if (exitCode === 124) message = `it did not finish within its deadline; ${message}`;
  return environmentError(
    `CNI ${invocation.command} of ${host.name}/${sandbox.pod}: plugin ${invocation.type} (network ${invocation.network}) failed: ${message}`,
    `\`overlab up --dry-run\` prints this plugin run as a command; run it by hand with \`overlab exec ${lab.name} ${host.name} -- …\``,
  );
}

/** Run one plugin (argv exec, config on stdin) and return its result. */
async function runPlugin(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, sandbox: PodSandbox, invocation: PluginInvocation, signal: AbortSignal): Promise<JsonObject> {
  throwIfAborted(signal);
  const r = await runtime.exec(host.container, boundedArgv(invocation), { stdin: invocation.stdin, signal });
  if (r.exitCode !== 0) throw pluginFailure(lab, host, sandbox, invocation, r.stdout, r.stderr, r.exitCode);
  try {
    const result = JSON.parse(r.stdout) as unknown;
    if (result !== null && typeof result === 'object' && !Array.isArray(result)) return result as JsonObject;
  } catch {
    // reported below
  }
  throw pluginFailure(lab, host, sandbox, invocation, '', `it printed no JSON result: ${r.stdout.slice(0, 200)}`, r.exitCode);
}

async function runHostSteps(runtime: ContainerRuntime, host: ResolvedHost, what: string, steps: RunnerStep[], signal: AbortSignal): Promise<void> {
  if (steps.length === 0) return;
  throwIfAborted(signal);
  const r = await runSteps(runtime, host.container, steps, signal);
  if (r.exitCode === 0) return;
  if (r.exitCode === NOT_FOUND) throw missingPlugins(host, what);
  const failed = failedCommand(steps, r.stderr);
  const detail = runnerErrors(r.stderr).slice(-3).join('; ');
  throw environmentError(
    `${what} on ${host.name} failed at \`${failed ? shellCommand(failed) : '(unknown command)'}\`: ${detail || `exit ${r.exitCode}`}`,
    '`overlab up --dry-run` prints the CNI steps as commands to run by hand (`overlab exec <lab> <host> -- …`)',
  );
}

/** Attach one host's pods: files, sandboxes, then ADD per pod in order (host-local hands out
 * addresses in that order). Returns what the plugins chose. */
export async function attachHostPods(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, signal: AbortSignal, options: AttachOptions = {}): Promise<AttachedPod[]> {
  throwIfAborted(signal);
  const bridge = host.networks.find((n) => n.network === cniNetwork(lab).name)!.bridge;
  await runtime.putTar(host.container, '/', cniTar(lab, host, options.shim), { signal });
  const sandboxes = podSandboxes(lab, host);
  await runHostSteps(runtime, host, 'creating the pod sandboxes (netns, loopback ADD)', sandboxSteps(sandboxes), signal);
  const attached: AttachedPod[] = [];
  const cache: TarEntry[] = [];
  for (const sandbox of sandboxes) {
    let result: JsonObject | undefined;
    for (let i = 0; i < FLANNEL_CONFLIST.plugins.length; i++) {
      result = await runPlugin(runtime, lab, host, sandbox, networkInvocation('ADD', sandbox, i, result), signal);
    }
    const pod = attachedPod(host.name, sandbox.pod, bridge, POD_IFNAME, result!);
    assertPlannedAddress(host, pod);
    attached.push(pod);
    cache.push(cacheEntry(sandbox, result!));
  }
  if (cache.length) await runtime.putTar(host.container, '/', tarEntries([...parentDirectories(cache.map((c) => c.name), { 'var/lib/cni/results': 0o700 }), ...cache]), { signal });
  return attached;
}

/** libcni's cache entry for the pod network (its cacheAdd after the list's last plugin). */
function cacheEntry(sandbox: PodSandbox, result: JsonObject): TarEntry {
  const path = resultCachePath(FLANNEL_CONFLIST.name, sandbox, POD_IFNAME);
  return { name: path.replace(/^\//, ''), content: Buffer.from(resultCache(FLANNEL_CONFLIST, FLANNEL_CONFLIST_TEXT, sandbox, POD_IFNAME, result)), mode: 0o600 };
}

export interface AttachOptions {
  /** The shim's files (default: the bundled dist/host/agent/cni-flannel-main.js). */
  shim?: TarEntry[];
}

/** Attach every CNI host's pods (hosts in parallel) and write what the plugins chose into `lab`. */
export async function attachCniPods(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, hosts: readonly ResolvedHost[] = lab.hosts, options: AttachOptions = {}): Promise<AttachedPod[]> {
  const settled = await Promise.allSettled(cniHosts(lab, hosts).map((host) => attachHostPods(runtime, lab, host, signal, options)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const attached = settled.flatMap((r) => (r as PromiseFulfilledResult<AttachedPod[]>).value);
  applyAttachments(lab, attached);
  return attached;
}

/** Pod removal as the kubelet does it: DEL for the pods (all by default), then their namespaces. */
export async function detachHostPods(runtime: ContainerRuntime, lab: ResolvedLab, host: ResolvedHost, signal: AbortSignal, pods?: string[]): Promise<void> {
  const sandboxes = podSandboxes(lab, host, pods);
  await runHostSteps(runtime, host, 'CNI DEL', detachSteps(sandboxes), signal);
}

export interface DetachOutcome {
  host: string;
  pods: string[];
  /** Why DEL did not finish (the containers go anyway). */
  error?: string;
}

/** `down`: DEL every CNI host's pods before the containers go; never throws. */
export async function detachForDown(runtime: ContainerRuntime, lab: ResolvedLab, running: ReadonlySet<string>, signal: AbortSignal): Promise<DetachOutcome[]> {
  const hosts = cniHosts(lab).filter((h) => running.has(h.container) && h.pods.length > 0);
  return Promise.all(
    hosts.map(async (host) => {
      const pods = host.pods.map((p) => p.name);
      try {
        await detachHostPods(runtime, lab, host, signal);
        return { host: host.name, pods };
      } catch (e) {
        return { host: host.name, pods, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}

