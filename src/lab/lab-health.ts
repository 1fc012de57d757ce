// Is what runs still what was built? A container the engine restarted (`docker restart`, a kill of
// its process under the restart policy, an engine restart, a reboot) runs again with an empty
// network namespace: no cable to the switch, no bridge, no pods. So a lab's running nodes are
// measured, never remembered: each container's StartedAt against the boot record the lab keeps
// (lab-files.ts, written when a node was wired), each node's cable as the switch holds it (its
// port in the underlay bridge, one exec in the switch), and etcd's own data (the network config
// the agents read). Read only: nothing here changes the lab.
import type { CallOptions, ContainerRuntime, ContainerSummary } from '../runtime/runtime.js';
import type { ResolvedExternal, ResolvedHost, ResolvedLab } from '../plan/resolved-lab.js';
import { SWITCH_NODE, UNDERLAY_BRIDGE } from '../plan/container-names.js';
import { etcdNode, etcdPrefix, networkConfigValue, usesAgent } from '../plan/overlay.js';
import { readBoots } from './lab-files.js';

export type NodeProblemKind =
  /** The switch's container started again: its bridge and every cable into it are gone. */
  | 'switch-restarted'
  /** A node's container started again since it was wired: its namespace is empty. */
  | 'restarted'
  /** A node's cable to the switch is gone (its port is not in the switch). */
  | 'uncabled'
  /** etcd does not answer. */
  | 'etcd-silent'
  /** etcd answers without the network config the agents read: it lost its data. */
  | 'etcd-data';

export interface NodeProblem {
  node: string;
  kind: NodeProblemKind;
  /** One sentence: what happened and what is missing. */
  detail: string;
  /** etcd-data: the networks whose config is gone. */
  networks?: string[];
  /** restarted, switch-restarted: when its container started again (the engine's StartedAt). */
  since?: string;
}

/** The time of day of an engine timestamp, for a sentence. */
export const clock = (iso: string): string => /T(\d\d:\d\d:\d\d)/.exec(iso)?.[1] ?? iso;


interface LinkJson {
  ifname?: string;
}

/** The switch a node is cabled into: its engine's, in a lab across engines. */
function switchOf(lab: ResolvedLab, engine: string | undefined): string {
  return (engine !== undefined ? lab.engines?.find((e) => e.name === engine)?.switchContainer : undefined) ?? lab.underlay.switchContainer;
}

/** A node's cables into the switch: eth0 into port <node>; on a routed underlay, one per segment
 * it is on (a router's eth1 into port <node>.1, …). */
function cablesOf(node: ResolvedHost | ResolvedExternal): { iface: string; port: string }[] {
  return node.links?.map((l) => ({ iface: l.iface, port: l.port })) ?? [{ iface: 'eth0', port: node.name }];
}

/** The interface names in a switch's network namespace, or undefined if they cannot be read. */
export async function switchLinks(runtime: ContainerRuntime, switchContainer: string, options: CallOptions): Promise<Set<string> | undefined> {
  const r = await runtime.exec(switchContainer, ['ip', '-j', 'link', 'show'], options).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  try {
    const names = new Set((JSON.parse(r.stdout || '[]') as LinkJson[]).map((l) => l.ifname ?? ''));
    // A namespace always has `lo`: an answer without it measured nothing.
    return names.has('lo') ? names : undefined;
  } catch {
    return undefined;
  }
}

/** etcd's answer for each network's config: the networks whose config is gone, or why etcd did not answer. */
async function etcdConfig(runtime: ContainerRuntime, lab: ResolvedLab, options: CallOptions): Promise<{ missing: string[] } | { silent: string }> {
  const etcd = etcdNode(lab)!;
  const missing: string[] = [];
  for (const network of lab.networks.filter(usesAgent)) {
    const key = `${etcdPrefix(lab, network)}/config`;
    const r = await runtime.exec(etcd.container, ['etcdctl', '--command-timeout=2s', 'get', '--print-value-only', key], options).catch((e: Error) => ({ exitCode: 1, stdout: '', stderr: e.message }));
    if (r.exitCode !== 0) return { silent: r.stderr.trim().split('\n').at(-1) || `etcdctl exit ${r.exitCode}` };
    if (r.stdout.trim() !== networkConfigValue(network)) missing.push(network.name);
  }
  return { missing };
}

/**
 * What is wrong with a lab's running nodes. Nodes that are missing or stopped are the listing's
 * business (lab-state.ts) and are not measured here.
 */
export async function measureLabHealth(runtime: ContainerRuntime, lab: ResolvedLab, containers: ContainerSummary[], options: CallOptions = {}): Promise<NodeProblem[]> {
  const running = new Set(containers.filter((c) => c.state === 'running').map((c) => c.name));
  const nodes = [
    ...[...lab.hosts, ...lab.externals].map((n) => ({ node: n.name, container: n.container, switch: switchOf(lab, n.engine), cables: cablesOf(n) })),
  ].filter((n) => running.has(n.container));
  const switches = [...new Set(nodes.map((n) => n.switch))].filter((s) => running.has(s));
  const switchRuns = running.has(lab.underlay.switchContainer);
  const etcd = etcdNode(lab);
  const askEtcd = etcd !== undefined && running.has(etcd.container) && lab.networks.some(usesAgent);
  const [boots, started, linksBySwitch, etcdAnswer] = await Promise.all([
    switchRuns ? readBoots(runtime, lab.underlay.switchContainer, options).catch(() => undefined) : undefined,
    Promise.all(
      [...(switchRuns ? [{ node: SWITCH_NODE, container: lab.underlay.switchContainer }] : []), ...nodes].map(async (n) => {
        const details = await runtime.inspectContainer(n.container, options).catch(() => undefined);
        return [n.node, details?.startedAt ?? ''] as const;
      }),
    ),
    Promise.all(switches.map(async (s) => [s, await switchLinks(runtime, s, options)] as const)).then((pairs) => new Map(pairs)),
    askEtcd ? etcdConfig(runtime, lab, options) : undefined,
  ]);
  const startedAt = new Map(started);
  const restartedAt = (node: string): string | undefined => {
    const recorded = boots?.nodes[node];
    const now = startedAt.get(node);
    return recorded && now && recorded !== now ? now : undefined;
  };
  const problems: NodeProblem[] = [];
  const links = linksBySwitch.get(lab.underlay.switchContainer);
  if (switchRuns) {
    const since = restartedAt(SWITCH_NODE);
    // a routed underlay has a bridge per segment
    const bridgeGone = links === undefined ? undefined : (lab.underlay.segments?.map((g) => g.bridge) ?? [UNDERLAY_BRIDGE]).find((b) => !links.has(b));
    if (since || bridgeGone) {
      problems.push({
        node: SWITCH_NODE,
        kind: 'switch-restarted',
        ...(since ? { since } : {}),
        // A restarted switch makes its bridge again as it boots (src/plan/switch-boot.ts); the cables are gone.
        detail: since
          ? `the switch restarted at ${clock(since)} (after the lab was built): ${bridgeGone ? `its bridge "${bridgeGone}" and every node's cable are gone` : "every node's cable is gone"}`
          : `the switch lost its bridge "${bridgeGone}": its bridge and every node's cable are gone`,
      });
    }
  }
  const switchWhole = switchRuns && !problems.some((p) => p.kind === 'switch-restarted');
  for (const n of nodes) {
    const since = restartedAt(n.node);
    const ports = linksBySwitch.get(n.switch);
    const cableGone = (n.switch !== lab.underlay.switchContainer || switchWhole) && ports !== undefined ? n.cables.find((k) => !ports.has(k.port)) : undefined;
    if (since) {
      const inside = lab.hosts.some((h) => h.name === n.node) ? 'addresses, bridges and pods' : 'addresses and routes';
      const what = cableGone ? `its cable to the switch (${cableGone.iface} ↔ port ${cableGone.port}), ${inside} are gone` : 'its network namespace was made anew (its cable is back; what else it had may not be)';
      problems.push({ node: n.node, kind: 'restarted', since, detail: `${n.node} restarted at ${clock(since)} (after the lab was built): ${what}` });
    } else if (cableGone) {
      problems.push({ node: n.node, kind: 'uncabled', detail: `${n.node}'s cable to the switch (${cableGone.iface} ↔ port ${cableGone.port}) is gone` });
    }
  }
  if (etcd && etcdAnswer) {
    if ('silent' in etcdAnswer) {
      problems.push({ node: etcd.name, kind: 'etcd-silent', detail: `etcd on ${etcd.name} does not answer (${etcdAnswer.silent})` });
    } else if (etcdAnswer.missing.length) {
      const keys = lab.networks.filter((n) => etcdAnswer.missing.includes(n.name)).map((n) => `${etcdPrefix(lab, n)}/config`);
      problems.push({
        node: etcd.name,
        kind: 'etcd-data',
        detail: `etcd lost its data: the network config ${keys.join(', ')} is gone`,
        networks: etcdAnswer.missing,
      });
    }
  }
  return problems;
}
