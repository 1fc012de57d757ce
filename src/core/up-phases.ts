// A resolved lab's bring-up as an ordered list of phases: the image and the names checked, the
// switch and every node started and wired, the agents, CNI, the spec's faults, and last the
// completion marker. src/core/lab-up.ts runs them (progress shown by whoever calls it) and rolls
// back by run id.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { containerSpecs, labFingerprint } from '../plan/containers.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { LABEL_LAB, LABEL_NODE, LABEL_ROLE } from '../plan/container-names.js';
import { agentStarter, waitForAgents } from '../deploy/agents.js';
import { etcdNode, labUsesAgents, usesAgent } from '../plan/overlay.js';
import { environmentError, inputError, type OverlabError } from '../base/errors.js';
import { bringUpLab, throwIfAborted } from '../deploy/node-bringup.js';
import { currentBoots, markComplete, saveEnginesRecords, saveLabModel } from '../lab/lab-files.js';
import { modelNodes } from '../lab/lab-state.js';
import { cniPhases } from '../deploy/cni-phase.js';
import { bgpPhases } from '../deploy/bird.js';
import { proxyModePhases, servicePhases } from '../deploy/service-phase.js';
import { newRunId } from './run-id.js';
import { prepareEngines } from '../deploy/engine-stitch.js';
import { RoutedRuntime } from '../runtime/routed-runtime.js';
import { InternalError } from '../base/errors.js';

export interface UpPhase {
  title: string;
  run(signal: AbortSignal): Promise<void>;
}

export interface UpHooks {
  /** Once the lab's switch has started (its underlay is then visible to others). */
  switchStarted?: () => Promise<void>;
}

export function upPhases(runtime: ContainerRuntime, lab: ResolvedLab, run: string = newRunId(), hooks: UpHooks = {}): UpPhase[] {
  const specs = containerSpecs(lab, run);
  const agents = labUsesAgents(lab);
  const fingerprint = labFingerprint(lab); // of the plan, before CNI fills in what the kernel chose
  return [
    ...enginesPhase(runtime, lab, run),
    {
      title: `Check the host image ${lab.image} and that no other container holds this lab's names`,
      async run(signal) {
        throwIfAborted(signal);
        const clash = duplicateNames(specs.map((s) => ({ node: s.labels[LABEL_NODE] ?? s.name, role: s.labels[LABEL_ROLE] ?? '', container: s.name })));
        if (clash) throw clash;
        const [hasImage, collisions] = await Promise.all([
          runtime.imageExists(lab.image, { signal }),
          nameCollisions(runtime, lab, specs.map((s) => ({ node: s.labels[LABEL_NODE] ?? s.name, container: s.name }))),
        ]);
        if (collisions.length) throw collisionError(lab.name, collisions);
        if (!hasImage) throw environmentError(`image ${lab.image} is missing`, 'build it with `overlab image build` (offline, from Debian\'s packages; needs mmdebstrap)');
      },
    },
    {
      title:
        `Start the underlay switch (${lab.underlay.subnet}), ${lab.hosts.length} hosts and ${lab.externals.length} other nodes; cable and wire each (bridges, veth pairs, pods, routes)` +
        (agents ? `; start each host's agents as soon as it is wired and etcd answers` : ''),
      run: (signal) =>
        bringUpLab(runtime, lab, signal, {
          specs,
          onSwitchStarted: async () => {
            await saveLabModel(runtime, lab, { signal });
            await hooks.switchStarted?.();
          },
          // A host's agents start while other hosts are still starting (the agent needs etcd).
          ...(agents ? { afterNode: startAgentsOf(runtime, lab) } : {}),
        }),
    },
    ...proxyModePhases(runtime, lab),
    ...(agents
      ? [
          {
            title: `Wait until the ${lab.hosts.length} hosts' agents (${lab.networks.filter(usesAgent).map((n) => n.backend).join(', ')} via etcd) have programmed every peer`,
            async run(signal: AbortSignal) {
              throwIfAborted(signal);
              await waitForAgents(runtime, lab, signal);
            },
          },
        ]
      : []),
    ...bgpPhases(runtime, lab),
    ...cniPhases(runtime, lab),
    ...servicePhases(runtime, lab),
    ...faultPhase(runtime, lab),
    {
      title: 'Mark the lab complete',
      async run(signal) {
        throwIfAborted(signal);
        // Every other engine's switch names the lab's engines (a command talking to it finds the
        // primary); when each container started, as it was wired (a later restart is told from it,
        // lab-health.ts): the boot record goes with the marker, just before it, in one archive.
        const [boots] = await Promise.all([currentBoots(runtime, lab.underlay.switchContainer, modelNodes(lab), { signal, replace: true }), saveEnginesRecords(runtime, lab, { signal })]);
        await markComplete(runtime, lab, { run, fingerprint, completedAt: new Date().toISOString() }, { signal, boots });
      },
    },
  ];
}

/** For bringUpLab's afterNode: a wired host starts its agents once the etcd node is wired (etcd
 * answering, the network config written). */
function startAgentsOf(runtime: ContainerRuntime, lab: ResolvedLab): (node: string, wired: (other: string) => Promise<void>) => Promise<void> {
  const start = agentStarter(runtime, lab);
  const etcd = etcdNode(lab);
  return async (node, wired) => {
    const host = lab.hosts.find((h) => h.name === node);
    if (!host || !etcd) return;
    await wired(etcd.name);
    await start(host);
  };
}

/** A spec's `faults:` (or a workshop exercise's), applied once the lab is wired and its agents
 * have converged; an exercise's are not named (they are the puzzle). */
function faultPhase(runtime: ContainerRuntime, lab: ResolvedLab): UpPhase[] {
  const faults = lab.faults ?? [];
  if (!faults.length) return [];
  const fromExercise = faults.some((f) => f.source === 'exercise');
  return [
    {
      title: fromExercise ? `Break the lab for the exercise (${faults.length} fault${faults.length === 1 ? '' : 's'})` : `Apply ${faults.length} fault${faults.length === 1 ? '' : 's'} from the spec`,
      async run(signal) {
        throwIfAborted(signal);
        const { applyFaults } = await import('../faults/fault-engine.js');
        await applyFaults({ runtime, lab, signal }, faults, 'spec');
      },
    },
  ];
}

/** Two nodes of one lab that would get the same container name (a node named like one overlab
 * adds itself: `switch`, `etcd`). */
export function duplicateNames(names: { node: string; role: string; container: string }[]): OverlabError | undefined {
  const describe = (n: { node: string; role: string }) =>
    n.role === 'switch' ? "the lab's underlay switch" : n.role === 'etcd' && n.node === 'etcd' ? "the lab's etcd node" : `${n.role || 'node'} "${n.node}"`;
  const seen = new Map<string, { node: string; role: string }>();
  for (const n of names) {
    const first = seen.get(n.container);
    if (first) {
      const [ours, theirs] = first.role === 'switch' || first.role === 'etcd' ? [first, n] : [n, first];
      return inputError(
        `${describe(theirs)} would be container ${n.container}, which is ${describe(ours)}`,
        'a node may not be named like one overlab adds itself (switch, etcd): rename it in the spec',
      );
    }
    seen.set(n.container, n);
  }
  return undefined;
}

/** Another lab's (or a foreign) container holding a name this lab needs. */
export interface NameCollision {
  container: string;
  node: string;
  ownerLab?: string;
  ownerNode?: string;
}

/** Containers with the names this lab needs that belong to someone else, found before anything
 * is created: `overlab-hx-a-b-host1` is lab hx-a's node b-host1 and lab hx-a-b's host1. */
export async function nameCollisions(runtime: ContainerRuntime, lab: ResolvedLab, names: { node: string; container: string }[]): Promise<NameCollision[]> {
  const found = await runtime.listByName(names.map((n) => n.container));
  return found
    .filter((c) => c.labels[LABEL_LAB] !== lab.name)
    .map((c) => {
      const ownerLab = c.labels[LABEL_LAB];
      const ownerNode = c.labels[LABEL_NODE];
      return { container: c.name, node: names.find((n) => n.container === c.name)?.node ?? c.name, ...(ownerLab ? { ownerLab } : {}), ...(ownerNode ? { ownerNode } : {}) };
    });
}

export function collisionError(lab: string, collisions: NameCollision[]): OverlabError {
  const [first] = collisions;
  const owner = (c: NameCollision) => (c.ownerLab ? `lab ${c.ownerLab}${c.ownerNode ? ` (its node ${c.ownerNode})` : ''}` : 'a container overlab did not make');
  const lines = collisions.map((c) => `container ${c.container}, which lab ${lab} needs for its node ${c.node}, already belongs to ${owner(c)}`);
  return inputError(
    lines.join('; '),
    first?.ownerLab
      ? `container names are overlab-<lab>-<node>: rename the lab or the node so the names differ, or remove the other lab first (\`overlab down ${first.ownerLab}\`)`
      : `container names are overlab-<lab>-<node>: rename the lab or the node, or remove that container yourself if it is not needed`,
  );
}

/** A lab across engines: every engine reached, the image on each, the machines' addresses and
 * the MTU the tunnels leave (src/deploy/engine-stitch.ts), before anything of the lab exists. */
function enginesPhase(runtime: ContainerRuntime, lab: ResolvedLab, run: string): UpPhase[] {
  const engines = lab.engines ?? [];
  if (engines.length === 0) return [];
  if (!(runtime instanceof RoutedRuntime)) throw new InternalError('a lab with several engines needs the routed runtime');
  return [
    {
      title: `Reach the ${engines.length} engines (${engines.map((e) => e.name).join(', ')}), put ${lab.image} on each that lacks it, find each machine's address and the MTU the tunnels leave, and try UDP ${lab.stitch?.port ?? ''} between every pair`,
      run: (signal) => prepareEngines(runtime, lab, run, signal),
    },
  ];
}
