// The check and fault kinds by key, each module loaded only when a spec uses one of its kinds.
// Loading every kind to read a spec cost `up` the trace, fault and probe code the other kinds
// bring (about a fifth of the CLI's start-up); a spec with a ping and a capture check now loads
// those two modules. The schema needs no kind at run time (its validator is precompiled from
// LAB_KINDS at build time); the rules need `resolve` of the kinds a spec's entries have.
//
// The order is the registries' (src/checks/check-kinds.ts, src/faults/fault-kinds.ts): an entry's
// kind is the first whose key it has, so the kinds loaded for a spec keep that order. A new kind
// is one line here too; test/unit/kind-loaders.test.ts fails until the two lists agree.
import type { KeyedKind, LabKinds } from '../lab-spec/keyed-kinds.js';

type KindLoader = readonly [key: string, load: () => Promise<KeyedKind>];

export const CHECK_KIND_LOADERS: readonly KindLoader[] = [
  ['ping', async () => (await import('../checks/kinds/ping.js')).pingKind],
  ['capture', async () => (await import('../checks/kinds/capture.js')).captureKind],
  ['kernel', async () => (await import('../checks/kinds/kernel.js')).kernelKind],
  ['lease', async () => (await import('../checks/kinds/lease.js')).leaseKind],
  ['agentCost', async () => (await import('../checks/kinds/agent-cost.js')).agentCostKind],
  ['trace', async () => (await import('../checks/kinds/trace.js')).traceKind],
  ['link', async () => (await import('../checks/kinds/link.js')).linkKind],
  ['service', async () => (await import('../checks/kinds/service.js')).serviceKind],
  ['bgp', async () => (await import('../checks/kinds/bgp.js')).bgpKind],
];

export const FAULT_KIND_LOADERS: readonly KindLoader[] = [
  ['link-down', async () => (await import('../faults/kinds/link-down.js')).linkDownKind],
  ['detach', async () => (await import('../faults/kinds/detach.js')).detachKind],
  ['mtu', async () => (await import('../faults/kinds/mtu.js')).mtuKind],
  ['loss', async () => (await import('../faults/kinds/loss.js')).lossKind],
  ['rate', async () => (await import('../faults/kinds/rate.js')).rateKind],
  ['delay', async () => (await import('../faults/kinds/netem.js')).delayKind],
  ['jitter', async () => (await import('../faults/kinds/netem.js')).jitterKind],
  ['partition', async () => (await import('../faults/kinds/partition.js')).partitionKind],
  ['cut-tunnel', async () => (await import('../faults/kinds/cut-tunnel.js')).cutTunnelKind],
  ['block', async () => (await import('../faults/kinds/block.js')).blockKind],
  ['del-route', async () => (await import('../faults/kinds/routes.js')).delRouteKind],
  ['reroute', async () => (await import('../faults/kinds/routes.js')).rerouteKind],
  ['del-fdb', async () => (await import('../faults/kinds/vxlan-state.js')).delFdbKind],
  ['del-neigh', async () => (await import('../faults/kinds/vxlan-state.js')).delNeighKind],
  ['vni', async () => (await import('../faults/kinds/vxlan-state.js')).vniKind],
  ['forwarding-off', async () => (await import('../faults/kinds/forwarding.js')).forwardingOffKind],
  ['no-masquerade', async () => (await import('../faults/kinds/forwarding.js')).noMasqueradeKind],
  ['stop-agent', async () => (await import('../faults/kinds/daemons.js')).stopAgentKind],
  ['stop-etcd', async () => (await import('../faults/kinds/daemons.js')).stopEtcdKind],
  ['pause', async () => (await import('../faults/kinds/pause.js')).pauseKind],
  ['bgp-session-down', async () => (await import('../faults/kinds/bgp.js')).bgpSessionDownKind],
  ['bgp-withdraw', async () => (await import('../faults/kinds/bgp.js')).bgpWithdrawKind],
  ['stop-bird', async () => (await import('../faults/kinds/bgp.js')).stopBirdKind],
  ['stop-reflector', async () => (await import('../faults/kinds/bgp.js')).stopReflectorKind],
  ['bgp-wrong-as', async () => (await import('../faults/kinds/bgp.js')).bgpWrongAsKind],
  ['bgp-drop-neighbour', async () => (await import('../faults/kinds/bgp.js')).bgpDropNeighbourKind],
  ['bgp-export-filter', async () => (await import('../faults/kinds/bgp.js')).bgpExportFilterKind],
  ['no-endpoints', async () => (await import('../faults/kinds/service-endpoints.js')).noEndpointsKind],
  ['stale-endpoint', async () => (await import('../faults/kinds/service-endpoints.js')).staleEndpointKind],
  ['bridge-nf-off', async () => (await import('../faults/kinds/service-bridge.js')).bridgeNfOffKind],
  ['hairpin-off', async () => (await import('../faults/kinds/service-bridge.js')).hairpinOffKind],
  ['no-service-snat', async () => (await import('../faults/kinds/service-snat.js')).noServiceSnatKind],
];

/** The keys the entries of a list have (entries that are not objects have none). */
function keysOf(entries: unknown): Set<string> {
  const keys = new Set<string>();
  if (!Array.isArray(entries)) return keys;
  for (const entry of entries as unknown[]) if (entry !== null && typeof entry === 'object') for (const key of Object.keys(entry)) keys.add(key);
  return keys;
}

async function loadUsed(loaders: readonly KindLoader[], entries: unknown): Promise<KeyedKind[]> {
  const keys = keysOf(entries);
  return Promise.all(loaders.filter(([key]) => keys.has(key)).map(([, load]) => load()));
}

/** The kinds a spec's `checks:` and `faults:` entries name, loaded, in the registries' order:
 * for those entries, the same kinds `LAB_KINDS` would pick. */
export async function kindsUsedBy(entries: { checks?: unknown; faults?: unknown }): Promise<LabKinds> {
  const [checks, faults] = await Promise.all([loadUsed(CHECK_KIND_LOADERS, entries.checks), loadUsed(FAULT_KIND_LOADERS, entries.faults)]);
  return { checks, faults };
}
