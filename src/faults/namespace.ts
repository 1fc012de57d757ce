// Where a fault changes kernel state: a lab container's own network namespace, or a pod's
// (a named network namespace inside its host container).
import type { ResolvedLab } from '../plan/resolved-lab.js';
import { labSwitches } from '../plan/engine-placement.js';

export interface Namespace {
  /** The lab node: a host, an external node, "etcd", "switch" (across engines also "switch@<engine>"). */
  node: string;
  container: string;
  /** A pod's network namespace inside the node's container. */
  netns?: string;
}

/** "host1", "host1/pod1", "switch". */
export function namespaceKey(ns: Namespace): string {
  return ns.netns ? `${ns.node}/${ns.netns}` : ns.node;
}

/** The argv that runs `argv` inside the namespace (in its container). */
export function inNamespace(ns: Namespace, argv: readonly string[]): string[] {
  return ns.netns ? ['ip', 'netns', 'exec', ns.netns, ...argv] : [...argv];
}

/** A lab node's own namespace (no pod). */
export function nodeNamespace(lab: ResolvedLab, node: string): Namespace | undefined {
  const sw = labSwitches(lab).find((x) => x.key === node);
  if (sw) return { node, container: sw.container };
  const member = lab.hosts.find((h) => h.name === node) ?? lab.externals.find((e) => e.name === node);
  return member ? { node, container: member.container } : undefined;
}

/** Namespaces listed once each, in the order first seen. */
export function uniqueNamespaces(list: readonly Namespace[]): Namespace[] {
  const seen = new Map<string, Namespace>();
  for (const ns of list) if (!seen.has(namespaceKey(ns))) seen.set(namespaceKey(ns), ns);
  return [...seen.values()];
}
