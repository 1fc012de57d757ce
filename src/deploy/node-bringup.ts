// What runs for each node during `up` and `node add`. The switch and every node start side by
// side: no node waits for the switch to start. Each node's container mounts the lab's share (a
// volume); the switch, once started, hands its network namespace over a unix socket on it
// (`netns-share serve`, native/netns-share.c) to every node that asks, and each node's plan
// begins by asking (`netns-share get`) and binding it, then cables itself into the switch's bridge
// and runs the rest of its plan (addresses, bridges, pods, routes) with one exec; for the etcd
// node, etcd itself.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ContainerRuntime, ContainerSpec } from '../runtime/runtime.js';
import { tarEntries } from '../runtime/tar.js';
import { containerSpecs, shareLabels } from '../plan/containers.js';
import { LABEL_RUN, SHARE_DIR, shareVolumeName } from '../plan/container-names.js';
import { debugLog } from '../base/debug-log.js';
import { netnsServeArgv, renderNodePlans, renderSwitchPlan } from '../plan/node-plans.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { etcdNode } from '../plan/overlay.js';
import { environmentError, interruptedError } from '../base/errors.js';
import { bootWiring, compilePlan, runPlan, type CompiledPlan } from './run-steps.js';
import { bootWiringInput } from '../plan/node-boot-wiring.js';
import { startEtcd } from './etcd-node.js';
import { stitchSwitches } from './engine-stitch.js';
import { LABEL_ENGINE } from '../runtime/routed-runtime.js';

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw interruptedError();
}

/** The helper, static, built by scripts/build-native.sh into dist/native/ (found from dist/deploy/
 * or, run from the sources, from src/deploy/). */
const NETNS_SHARE_HELPER = ['../native/netns-share', '../../dist/native/netns-share'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

/** The helper as a tar for the share. */
function shareTar(): Buffer {
  const path = NETNS_SHARE_HELPER.find((p) => existsSync(p));
  if (!path) throw environmentError('the native helpers are not built (dist/native/netns-share is missing)', 'bash scripts/build-native.sh');
  return tarEntries([{ name: 'netns-share', content: readFileSync(path), mode: 0o755 }]);
}

async function netnsFileOf(runtime: ContainerRuntime, container: string): Promise<string> {
  const details = await runtime.inspectContainer(container);
  if (!details.running || !details.sandboxKey) {
    throw environmentError(`the underlay switch ${container} is not running`, 'bring the lab up again: `overlab up <spec> --recreate`');
  }
  return details.sandboxKey;
}

/** The lab's underlay switch, as the other nodes need it. */
export interface UnderlaySwitch {
  /** Resolves once the lab's share exists: a node's container may be created. */
  volume: Promise<void>;
  /** Resolves once the helper is on the share: a node may run its plan, whose first step waits
   * (in the node) until the switch hands its namespace over — which it does once its bridge exists. */
  helper: Promise<void>;
  /** Resolves once the switch is started, bridged and handing its namespace over; rejects if it cannot be. */
  ready: Promise<void>;
  /** Resolves once the switch is bridged. */
  bridged: Promise<void>;
  /** The switch's namespace file on its engine's machine (what the tunnels between engines need). */
  netnsFile(): Promise<string>;
}

/** Make the share and the switch; put the helper on the share while the switch starts. With a
 * `plan` (a lab across engines), make its bridge with it, then hand its namespace to the next
 * `nodes` nodes that ask; without, the switch's own command does both as it boots
 * (src/plan/switch-boot.ts). Every promise must be awaited (or settled) by the caller. */
export function startSwitch(runtime: ContainerRuntime, lab: ResolvedLab, spec: ContainerSpec, plan: CompiledPlan | undefined, nodes: number, signal: AbortSignal, onStarted?: () => Promise<void>): UnderlaySwitch {
  const engine = spec.labels[LABEL_ENGINE];
  const volume = (async () => {
    throwIfAborted(signal);
    // On the switch's engine (a lab across engines has a share on each).
    await runtime.createVolume(shareVolumeName(lab.name), { ...shareLabels(lab, spec.labels[LABEL_RUN]), ...(engine ? { [LABEL_ENGINE]: engine } : {}) });
  })();
  // Not aborted half-way: a create the engine finishes after we stopped listening would be a
  // container no rollback saw. It is bounded by the engine client's deadline instead.
  const created = volume.then(() => runtime.create(spec));
  const started = created.then(async () => {
    throwIfAborted(signal);
    await runtime.start(spec.name);
  });
  // Podman cannot copy into a volume of a container that has not started yet (it closes the
  // connection, EPIPE); once the switch runs it can. Docker takes it at once.
  const helper = created.then(() =>
    runtime.putTar(spec.name, SHARE_DIR, shareTar()).catch(async (error: unknown) => {
      debugLog('deploy', `put the helper on ${spec.name}'s share before it started (again once it runs)`, error);
      await started;
      await runtime.putTar(spec.name, SHARE_DIR, shareTar());
    }),
  );
  const bridged = plan ? started.then(() => runPlan(runtime, plan, signal)) : started;
  // After the bridge: a node that has the namespace may plug its cable in at once.
  const serving = plan ? Promise.all([bridged, helper]).then(() => runtime.execDetached(spec.name, netnsServeArgv(nodes))) : Promise.all([started, helper]);
  const told = started.then(() => onStarted?.());
  return { volume, helper, bridged, ready: Promise.all([serving, told]).then(() => undefined), netnsFile: () => started.then(() => netnsFileOf(runtime, spec.name)) };
}

/** The switch of a lab that is up (`node add`): it hands its namespace to `nodes` more nodes. On
 * a lab across engines, the switch of the engine the nodes run on (`container`; the primary's by
 * default). */
export async function runningSwitch(runtime: ContainerRuntime, lab: ResolvedLab, nodes = 1, container = lab.underlay.switchContainer): Promise<UnderlaySwitch> {
  const details = await runtime.inspectContainer(container);
  if (!details.running) {
    throw environmentError(`the underlay switch ${container} is not running`, 'bring the lab up again: `overlab up <spec> --recreate`');
  }
  await runtime.execDetached(container, netnsServeArgv(nodes));
  return { volume: Promise.resolve(), helper: Promise.resolve(), bridged: Promise.resolve(), ready: Promise.resolve(), netnsFile: () => netnsFileOf(runtime, container) };
}

/** One node: its container (mounting the lab's share), then its plan, which begins by taking the
 * switch's namespace (waiting in the node for the switch to hand it over). */
export async function bringUpNode(runtime: ContainerRuntime, lab: ResolvedLab, spec: ContainerSpec, plan: CompiledPlan, underlay: UnderlaySwitch, signal: AbortSignal): Promise<void> {
  await underlay.volume;
  throwIfAborted(signal);
  await runtime.createAndStart(spec); // not aborted: see startSwitch
  throwIfAborted(signal);
  // A switch that cannot be made ends the wait at once, instead of at the plan's own deadline.
  const switchFailed = new AbortController();
  underlay.ready.catch(() => switchFailed.abort());
  const waiting = AbortSignal.any([signal, switchFailed.signal]);
  if (bootWiringInput(spec.command) !== undefined) {
    // It wires itself as it boots (src/plan/node-boot-wiring.ts): its output says how that went.
    await bootWiring(runtime, plan, waiting);
  } else {
    await underlay.helper;
    await runPlan(runtime, plan, waiting);
  }
  throwIfAborted(signal);
  if (etcdNode(lab)?.name === plan.node) await startEtcd(runtime, lab, signal);
}

export interface BringUpOptions {
  /** The containers to create (with this run's id label); by default the lab's plain specs. */
  specs?: ContainerSpec[];
  /** Runs for each node once it is wired (its plan run; for the etcd node, etcd answering);
   * `wired(other)` resolves once that other node is wired, or rejects if it cannot be. */
  afterNode?: (node: string, wired: (other: string) => Promise<void>) => Promise<void>;
  /** Runs once the switch has started (the lab's model file; others may now see its underlay). */
  onSwitchStarted?: () => Promise<void>;
}

/** Every node of the lab; waits until every start has settled, then throws the first failure. */
export async function bringUpLab(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, options: BringUpOptions = {}): Promise<void> {
  throwIfAborted(signal);
  // Every plan is compiled before the first container exists: a refused plan creates nothing.
  const plans = renderNodePlans(lab).map(compilePlan);
  const specs = options.specs ?? containerSpecs(lab);
  const specOf = (container: string) => specs.find((s) => s.name === container)!;
  if (lab.engines?.length) return bringUpAcrossEngines(runtime, lab, signal, specs, plans, options);
  // The switch's own command makes its bridge and hands its namespace over (containers.ts).
  const underlay = startSwitch(runtime, lab, specOf(lab.underlay.switchContainer), undefined, plans.length, signal, options.onSwitchStarted);
  const wiredNodes = new Map(plans.map((plan) => [plan.node, bringUpNode(runtime, lab, specOf(plan.container), plan, underlay, signal)]));
  const wired = (node: string) => wiredNodes.get(node) ?? Promise.reject(new Error(`no node ${node} in lab ${lab.name}`));
  const nodes = [...wiredNodes].map(async ([node, done]) => {
    await done;
    await options.afterNode?.(node, wired);
  });
  const all = await Promise.allSettled([underlay.volume, underlay.helper, underlay.ready, ...nodes]);
  const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Several engines: a switch on each (the primary's holds the model) with a share of its own,
 * the tunnels between them once every bridge exists, and each node cabled to its own engine's
 * switch. */
async function bringUpAcrossEngines(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, specs: ContainerSpec[], plans: CompiledPlan[], options: BringUpOptions): Promise<void> {
  const engines = lab.engines!;
  const specOf = (container: string) => specs.find((s) => s.name === container)!;
  const engineOfNode = new Map([...lab.hosts, ...lab.externals].map((n) => [n.container, n.engine ?? engines[0]!.name]));
  const switches = new Map(
    engines.map((e, i) => {
      const plan = compilePlan({ ...renderSwitchPlan(lab), container: e.switchContainer, node: i === 0 ? 'switch' : `switch on ${e.name}` });
      const nodes = plans.filter((p) => engineOfNode.get(p.container) === e.name).length;
      return [e.name, startSwitch(runtime, lab, specOf(e.switchContainer), plan, nodes, signal, i === 0 ? options.onSwitchStarted : undefined)] as const;
    }),
  );
  const run = specOf(lab.underlay.switchContainer).labels[LABEL_RUN];
  const stitched = (async () => {
    const files = new Map<string, string>();
    for (const [name, sw] of switches) {
      files.set(name, await sw.netnsFile());
      await sw.bridged;
    }
    await stitchSwitches(runtime, lab, files, run, signal);
  })();
  const wiredNodes = new Map(plans.map((plan) => [plan.node, bringUpNode(runtime, lab, specOf(plan.container), plan, switches.get(engineOfNode.get(plan.container)!)!, signal)]));
  const wired = (node: string) => wiredNodes.get(node) ?? Promise.reject(new Error(`no node ${node} in lab ${lab.name}`));
  const nodes = [...wiredNodes].map(async ([node, done]) => {
    await done;
    await options.afterNode?.(node, wired);
  });
  const all = await Promise.allSettled([...[...switches.values()].flatMap((sw) => [sw.volume, sw.helper, sw.ready]), stitched, ...nodes]);
  const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
