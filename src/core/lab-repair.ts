// `up` on a lab that is there from the same spec but degraded repairs it in place: from what was
// measured (lab-state.ts, lab-health.ts) it does only what the broken nodes need and leaves the
// healthy rest alone. A node that restarted (its namespace empty, its container and files kept)
// is wired again in its own container, and its supervisor starts its daemons at once; a node
// that is gone, or whose container can no longer reach the switch (it holds the switch's previous
// network namespace, after the switch restarted), is created again; a stopped one is started; the
// switch gets its bridge back; etcd gets its network config back. The agents re-register by
// themselves (they keep their subnets, from subnet.env) and `up` waits until every one has
// programmed every peer again. What it did is said node by node. A failure or Ctrl-C removes the
// containers this repair created (by its run id), never another's.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ResolvedHost, ResolvedLab } from '../plan/resolved-lab.js';
import { containerSpecs } from '../plan/containers.js';
import { renderNodePlans, renderSwitchPlan, switchBridges } from '../plan/node-plans.js';
import { etcdNode, etcdPrefix, labUsesAgents, usesAgent } from '../plan/overlay.js';
import { usesCni } from '../plan/cni-plan.js';
import { SWITCH_NODE } from '../plan/container-names.js';
import type { LabState } from '../lab/lab-state.js';
import { clock, switchLinks } from '../lab/lab-health.js';
import { pollUntil } from '../base/poll.js';
import { recordBoots, saveLabModel } from '../lab/lab-files.js';
import { bringUpNode, runningSwitch, throwIfAborted, type UnderlaySwitch } from '../deploy/node-bringup.js';
import { compilePlan, runPlan, type CompiledPlan } from '../deploy/run-steps.js';
import { missingEtcdConfig, seedEtcdConfig, waitForEtcd } from '../deploy/etcd-node.js';
import { startAgents, waitForAgents } from '../deploy/agents.js';
import { wakeDaemons } from '../deploy/node-daemons.js';
import { attachCniPods } from '../deploy/cni-attach.js';
import { repairServices } from '../deploy/service-phase.js';
import { needsPodTools } from '../plan/service-plan.js';
import type { UpPhase } from './up-phases.js';

/** Removes what a restart left of the pods' namespace files (nothing is mounted on them any more). */
const STALE_NETNS_ARGV = ['find', '/run/netns', '-mindepth', '1', '-maxdepth', '1', '-type', 'f', '-delete'] as const;

/** What a node needs. */
export type NodeAction =
  /** Its container is gone, or cannot reach the switch any more: made again. */
  | 'create'
  /** It is stopped: started (then wired, as after a restart). */
  | 'start'
  /** It restarted: wired again in its own container. */
  | 'rewire';

export interface RepairPlan {
  /** The switch: started (stopped), and its bridge made again (stopped or restarted). */
  switch?: 'start' | 'rebridge';
  nodes: Map<string, { action: NodeAction; why: string }>;
  /** etcd-backed networks whose config must be written again. */
  seedEtcd: string[];
  /** Why it cannot be repaired in place (then: --recreate). */
  refused?: string;
}

export interface NodeRepair {
  node: string;
  /** What was done, for a person. */
  did: string;
}

/** Pure: the repair a degraded lab needs, from its state. */
export function planRepair(model: ResolvedLab, state: LabState): RepairPlan {
  const nodes = new Map<string, { action: NodeAction; why: string }>();
  const plan: RepairPlan = { nodes, seedEtcd: [] };
  // Across engines each node is repaired through its own engine's switch; a switch that needs
  // repair would need the engines stitched again, which repair in place does not do.
  const extraSwitches = new Set((model.engines ?? []).slice(1).map((e) => `${SWITCH_NODE}-${e.name}`));
  if (extraSwitches.size) {
    const switchTrouble = [...state.missing, ...state.stopped.map((s) => s.node), ...state.problems.map((p) => p.node)].find((n) => n === SWITCH_NODE || extraSwitches.has(n));
    if (switchTrouble) {
      plan.refused = `it spreads over several engines and its switch ${switchTrouble === SWITCH_NODE ? `on ${model.engines![0]!.name}` : switchTrouble} needs repair, which would stitch the engines again (repair in place does not do that yet)`;
      return plan;
    }
  }
  if (state.extra.length) {
    plan.refused = `it has containers that are not part of its model (${state.extra.join(', ')})`;
    return plan;
  }
  const hostOf = (name: string): ResolvedHost | undefined => model.hosts.find((h) => h.name === name);
  // A CNI host's plugins keep state in its files (host-local's allocations): it is made anew.
  const inPlace = (name: string, action: 'start' | 'rewire'): NodeAction => (hostOf(name) && usesCni(hostOf(name)!) ? 'create' : action);
  const others = [...model.hosts.map((h) => h.name), ...model.externals.map((e) => e.name)];
  const switchStopped = state.stopped.find((s) => s.node === SWITCH_NODE);
  const switchRestarted = state.problems.find((p) => p.kind === 'switch-restarted');
  if (state.missing.includes(SWITCH_NODE)) {
    plan.refused = 'its switch (which holds its model) is gone';
    return plan;
  }
  if (switchStopped || switchRestarted) {
    plan.switch = switchStopped ? 'start' : 'rebridge';
    const why = switchStopped ? `the switch was ${switchStopped.state}` : 'the switch restarted';
    // Every node holds the switch's previous network namespace: only a new container can reach the new one.
    for (const node of others) nodes.set(node, { action: 'create', why: `${why}; its cable hung on the old switch` });
  } else {
    for (const node of state.missing) nodes.set(node, { action: 'create', why: 'its container was gone' });
    for (const s of state.stopped) nodes.set(s.node, { action: inPlace(s.node, 'start'), why: `it was ${s.state}` });
    for (const p of state.problems) {
      if (nodes.has(p.node)) continue;
      if (p.kind === 'restarted') nodes.set(p.node, { action: inPlace(p.node, 'rewire'), why: p.since ? `it restarted at ${clock(p.since)}` : 'it restarted' });
      if (p.kind === 'uncabled') nodes.set(p.node, { action: 'create', why: 'its cable to the switch was gone' });
    }
  }
  const etcdData = state.problems.find((p) => p.kind === 'etcd-data');
  if (etcdData) plan.seedEtcd = etcdData.networks ?? [];
  return plan;
}

function describeAction(model: ResolvedLab, node: string, action: NodeAction, why: string): string {
  const host = model.hosts.find((h) => h.name === node);
  const daemons = host && labUsesAgents(model) ? '; its agent started again (its subnet kept)' : etcdNode(model)?.name === node ? '; etcd started again by its supervisor' : '';
  const wiring = host ? 'cable, addresses, bridges, pods and routes' : 'cable and addresses';
  if (action === 'create') return `created again (${why}): ${wiring}${daemons}`;
  if (action === 'start') return `started and re-wired (${why}): ${wiring}${daemons}`;
  return `re-wired in place (${why}): ${wiring} made again${daemons}`;
}

/** The repair as `up` phases, and what it did (filled in as the phases run). */
export function repairPhases(runtime: ContainerRuntime, model: ResolvedLab, plan: RepairPlan, run: string): { phases: UpPhase[]; done: NodeRepair[] } {
  const done: NodeRepair[] = [];
  const said = (node: string, text: string) => {
    const entry = done.find((d) => d.node === node);
    if (entry) entry.did += `; ${text}`;
    else done.push({ node, did: text });
  };
  const specs = containerSpecs(model, run);
  // A node takes its namespace from the switch of its own engine: each switch hands it over as
  // many times as it has nodes to repair (the primary's would wait for nodes that never ask).
  const switchOf = (node: string): string => {
    const engine = [...model.hosts, ...model.externals].find((n) => n.name === node)?.engine;
    return model.engines?.find((e) => e.name === engine)?.switchContainer ?? model.underlay.switchContainer;
  };
  const handOvers = async (which: string[]): Promise<(node: string) => UnderlaySwitch> => {
    const counts = new Map<string, number>();
    for (const node of which) counts.set(switchOf(node), (counts.get(switchOf(node)) ?? 0) + 1);
    const ready = new Map(await Promise.all([...counts].map(async ([container, n]) => [container, await runningSwitch(runtime, model, n, container)] as const)));
    return (node) => ready.get(switchOf(node))!;
  };
  const plans = new Map(renderNodePlans(model).map((p) => [p.node, p]));
  const etcd = etcdNode(model);
  const nodes = [...plan.nodes.entries()];
  const phases: UpPhase[] = [];
  const repaired = new Set<string>();

  if (plan.switch) {
    phases.push({
      title: plan.switch === 'start' ? 'Start the switch and make its bridge again' : 'Make the switch\'s bridge again (it restarted)',
      async run(signal) {
        throwIfAborted(signal);
        if (plan.switch === 'start') await runtime.start(model.underlay.switchContainer, { signal });
        await bridgesBack(runtime, model, signal);
        repaired.add(SWITCH_NODE);
        said(SWITCH_NODE, plan.switch === 'start' ? 'started; its bridge made again' : 'its bridge made again (it restarted)');
      },
    });
  }

  if (nodes.length) {
    phases.push({
      title: `Repair ${nodes.map(([n, a]) => `${n} (${a.action === 'rewire' ? 're-wire' : a.action})`).join(', ')}`,
      async run(signal) {
        throwIfAborted(signal);
        // The switch hands its namespace to each node whose plan runs (the plan's first step).
        const underlay = await handOvers(nodes.map(([node]) => node));
        const create = async (node: string, container: string, plan1: CompiledPlan, handOver: UnderlaySwitch) => {
          const current = await runtime.listByName([container], { signal });
          if (current.length) await runtime.remove(container, { signal });
          const spec = specs.find((s) => s.name === container)!;
          await bringUpNode(runtime, model, spec, plan1, handOver, signal); // the etcd node: etcd too
          if (model.hosts.some((h) => h.name === node) && labUsesAgents(model)) {
            await startAgents(runtime, model, model.hosts.filter((h) => h.name === node));
          }
        };
        const again: { node: string; plan1: CompiledPlan; because: string }[] = [];
        const settledFirst = await Promise.allSettled(
          nodes.map(async ([node, { action, why }]) => {
            const plan1 = compilePlan(plans.get(node)!);
            if (action === 'create') {
              await create(node, plan1.container, plan1, underlay(node));
              repaired.add(node);
              said(node, describeAction(model, node, action, why));
              return;
            }
            // A node that restarted or stopped has lost what it had bound: its plan takes the
            // switch's current namespace again, first thing.
            try {
              if (action === 'start') await runtime.start(plan1.container, { signal });
              // The namespace files of its pods outlived the namespaces (its files are kept).
              await runtime.exec(plan1.container, [...STALE_NETNS_ARGV], { signal });
              await runPlan(runtime, plan1, signal);
              // Its daemons wait out a backoff since they found nothing to work with: now.
              await wakeDaemons(runtime, plan1.container, { signal });
              if (etcd?.name === node) await waitForEtcd(runtime, model, signal);
              repaired.add(node);
              said(node, describeAction(model, node, action, why));
            } catch (error) {
              if (signal.aborted) throw error;
              // Half wired (an earlier repair cut short, a namespace not empty): a new container is clean.
              again.push({ node, plan1, because: `${why}; wiring it in place failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` });
            }
          }),
        );
        // Made anew once the first hand-over is over: the switch hands its namespace to these too.
        const settledAgain = again.length
          ? await handOvers(again.map(({ node }) => node)).then((handOver) =>
              Promise.allSettled(
                again.map(async ({ node, plan1, because }) => {
                  await create(node, plan1.container, plan1, handOver(node));
                  repaired.add(node);
                  said(node, describeAction(model, node, 'create', because));
                }),
              ),
            )
          : [];
        const settled = [...settledFirst, ...settledAgain];
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    });
  }

  if (etcd && labUsesAgents(model)) {
    phases.push({
      title: 'Give etcd its network config back if it lost it',
      async run(signal) {
        throwIfAborted(signal);
        await waitForEtcd(runtime, model, signal);
        const missing = await missingEtcdConfig(runtime, model, signal);
        if (missing.length === 0) return;
        await seedEtcdConfig(runtime, model, signal, missing);
        const keys = model.networks.filter((n) => missing.includes(n.name)).map((n) => `${etcdPrefix(model, n)}/config`);
        said(etcd.name, `its network config re-seeded (${keys.join(', ')}): it had lost its data`);
      },
    });
    phases.push({
      title: `Wait until every agent has its lease and has programmed every peer again`,
      async run(signal) {
        throwIfAborted(signal);
        if (!model.networks.some(usesAgent)) return;
        await waitForAgents(runtime, model, signal);
      },
    });
  }

  const cniCreated = () => model.hosts.filter((h) => usesCni(h) && repaired.has(h.name));
  if (model.hosts.some(usesCni) && nodes.some(([n]) => model.hosts.some((h) => h.name === n && usesCni(h)))) {
    phases.push({
      title: 'Attach the repaired hosts\' pods through CNI again',
      async run(signal) {
        throwIfAborted(signal);
        const hosts = cniCreated();
        if (!hosts.length) return;
        await attachCniPods(runtime, model, signal, hosts);
        await saveLabModel(runtime, model, { signal });
      },
    });
  }

  if (needsPodTools(model)) {
    phases.push({
      title: "Give the repaired nodes their pod tools, pod servers and kube-proxy's rules again",
      async run(signal) {
        await repairServices(runtime, model, [...repaired], signal);
      },
    });
  }

  phases.push({
    title: 'Record when each repaired node started',
    async run(signal) {
      throwIfAborted(signal);
      const all = [
        { node: SWITCH_NODE, container: model.underlay.switchContainer },
        ...model.hosts.map((h) => ({ node: h.name, container: h.container })),
        ...model.externals.map((e) => ({ node: e.name, container: e.container })),
      ];
      await recordBoots(runtime, model.underlay.switchContainer, all.filter((n) => repaired.has(n.node)), { signal });
    },
  });
  return { phases, done };
}


/** How long a restarted switch of a lab on one engine has to make its bridges by itself. */
const SWITCH_BOOT_BRIDGES_MS = 3000;

/** The switch's bridges back. On one engine its own command makes them as it boots
 * (src/plan/switch-boot.ts): wait for them (a switch made by an older overlab never does: the
 * missing ones are made once the wait is over). Across engines overlab makes them. */
async function bridgesBack(runtime: ContainerRuntime, model: ResolvedLab, signal: AbortSignal): Promise<void> {
  const bridges = switchBridges(model);
  let missing = bridges;
  if (!model.engines?.length) {
    await pollUntil(
      async () => {
        const links = await switchLinks(runtime, model.underlay.switchContainer, { signal });
        missing = links ? bridges.filter((b) => !links.has(b)) : bridges;
        return missing.length === 0;
      },
      { timeoutMs: SWITCH_BOOT_BRIDGES_MS, signal },
    );
  }
  if (missing.length) await runPlan(runtime, compilePlan(renderSwitchPlan(model, missing)), signal);
}
