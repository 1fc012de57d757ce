// What runs for each node during `up` and `node add`: the switch first (every other node is
// created with the switch's network namespace bound in), then per node, pipelined and in
// parallel: its container started, its plan run (cable, addresses, bridges, pods, routes) with
// one exec, and for the etcd node etcd itself.
import type { ContainerRuntime, ContainerSpec } from '../runtime/runtime.js';
import { containerSpecs } from '../plan/containers.js';
import { renderNodePlans, renderSwitchPlan, underlayMount } from '../plan/node-plans.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { etcdNode } from '../plan/overlay.js';
import { environmentError, interruptedError } from '../base/errors.js';
import { compilePlan, runPlan, type CompiledPlan } from './run-steps.js';
import { startEtcd } from './etcd-node.js';
import { stitchSwitches } from './engine-stitch.js';
import { LABEL_RUN } from '../plan/container-names.js';

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw interruptedError();
}

/** The lab's underlay switch, as the other nodes need it. */
export interface UnderlaySwitch {
  /** The switch's network namespace file on the engine's machine, once the switch runs. */
  netnsFile: Promise<string>;
  /** Resolves once its bridge exists, so cables can be plugged in. */
  bridged: Promise<void>;
}

async function netnsFileOf(runtime: ContainerRuntime, container: string): Promise<string> {
  const details = await runtime.inspectContainer(container);
  if (!details.running || !details.sandboxKey) {
    throw environmentError(`the underlay switch ${container} is not running`, 'bring the lab up again: `overlab up <spec> --recreate`');
  }
  return details.sandboxKey;
}

/** Start the switch and its bridge; both promises must be awaited (or settled) by the caller. */
export function startSwitch(runtime: ContainerRuntime, spec: ContainerSpec, plan: CompiledPlan, signal: AbortSignal, onStarted?: () => Promise<void>): UnderlaySwitch {
  const netnsFile = (async () => {
    throwIfAborted(signal);
    // Not aborted half-way: a create the engine finishes after we stopped listening would be a
    // container no rollback saw. It is bounded by the engine client's deadline instead.
    await runtime.createAndStart(spec);
    // Both before any node is created; neither needs the other.
    const [, file] = await Promise.all([onStarted?.(), netnsFileOf(runtime, spec.name)]);
    return file;
  })();
  const bridged = netnsFile.then(() => runPlan(runtime, plan, signal));
  return { netnsFile, bridged };
}

/** The switch of a lab that is up (`node add`). */
export async function runningSwitch(runtime: ContainerRuntime, lab: ResolvedLab): Promise<UnderlaySwitch> {
  const netnsFile = await netnsFileOf(runtime, lab.underlay.switchContainer);
  return { netnsFile: Promise.resolve(netnsFile), bridged: Promise.resolve() };
}

/** One node: its container (with the switch's namespace bound in), then its plan. */
export async function bringUpNode(runtime: ContainerRuntime, lab: ResolvedLab, spec: ContainerSpec, plan: CompiledPlan, underlay: UnderlaySwitch, signal: AbortSignal): Promise<void> {
  const netnsFile = await underlay.netnsFile;
  throwIfAborted(signal);
  await runtime.createAndStart({ ...spec, mounts: [...(spec.mounts ?? []), underlayMount(netnsFile)] }); // not aborted: see startSwitch
  throwIfAborted(signal);
  await underlay.bridged;
  await runPlan(runtime, plan, signal);
  throwIfAborted(signal);
  if (etcdNode(lab)?.name === plan.node) await startEtcd(runtime, lab, signal);
}

export interface BringUpOptions {
  /** The containers to create (with this run's id label); by default the lab's plain specs. */
  specs?: ContainerSpec[];
  /** Runs once the switch container exists, before any node is created (the lab's model file). */
  onSwitchStarted?: () => Promise<void>;
}

/** Every node of the lab; waits until every start has settled, then throws the first failure. */
export async function bringUpLab(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, options: BringUpOptions = {}): Promise<void> {
  throwIfAborted(signal);
  // Every plan is compiled before the first container exists: a refused plan creates nothing.
  const switchPlan = compilePlan(renderSwitchPlan(lab));
  const plans = renderNodePlans(lab).map(compilePlan);
  const specs = options.specs ?? containerSpecs(lab);
  const specOf = (container: string) => specs.find((s) => s.name === container)!;
  if (lab.engines?.length) return bringUpAcrossEngines(runtime, lab, signal, specs, plans, options);
  const underlay = startSwitch(runtime, specOf(lab.underlay.switchContainer), switchPlan, signal, options.onSwitchStarted);
  const nodes = plans.map((plan) => bringUpNode(runtime, lab, specOf(plan.container), plan, underlay, signal));
  const all = await Promise.allSettled([underlay.netnsFile, underlay.bridged, ...nodes]);
  const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Several engines: a switch on each (the primary's holds the model), the tunnels between them
 * once every bridge exists, and each node cabled to its own engine's switch. */
async function bringUpAcrossEngines(runtime: ContainerRuntime, lab: ResolvedLab, signal: AbortSignal, specs: ContainerSpec[], plans: CompiledPlan[], options: BringUpOptions): Promise<void> {
  const engines = lab.engines!;
  const specOf = (container: string) => specs.find((s) => s.name === container)!;
  const switches = new Map(
    engines.map((e, i) => {
      const plan = compilePlan({ ...renderSwitchPlan(lab), container: e.switchContainer, node: i === 0 ? 'switch' : `switch on ${e.name}` });
      return [e.name, startSwitch(runtime, specOf(e.switchContainer), plan, signal, i === 0 ? options.onSwitchStarted : undefined)] as const;
    }),
  );
  const run = specOf(lab.underlay.switchContainer).labels[LABEL_RUN];
  const stitched = (async () => {
    const files = new Map<string, string>();
    for (const [name, sw] of switches) {
      files.set(name, await sw.netnsFile);
      await sw.bridged;
    }
    await stitchSwitches(runtime, lab, files, run, signal);
  })();
  const engineOfNode = new Map([...lab.hosts, ...lab.externals].map((n) => [n.container, n.engine ?? engines[0]!.name]));
  const nodes = plans.map((plan) => bringUpNode(runtime, lab, specOf(plan.container), plan, switches.get(engineOfNode.get(plan.container)!)!, signal));
  const all = await Promise.allSettled([...[...switches.values()].flatMap((sw) => [sw.netnsFile, sw.bridged]), stitched, ...nodes]);
  const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
