// Why a live probe did not arrive: where it was last seen, and the evidence read from the kernel
// — ICMP errors quoting it, iptables counters that grew, nstat and link counters, and what the
// tables say at that node (the static walk on the state read after the probe). Never a log. Pure.
import { icmpCodeName } from '../pcap/icmp.js';
import { probeOf } from './change-facts.js';
import { counterGrowth, droppingRules, evidenceLines, type NamespaceGrowth } from './counters.js';
import type { Sighting } from './correlate.js';
import type { ContainerState } from './kernel-snapshot.js';
import type { TraceDrop } from './trace-result.js';
import type { WalkResult } from './predict-path.js';
import type { TraceWorld } from './trace-world.js';

export interface VerdictInput {
  world: TraceWorld;
  from: string;
  destNs?: string;
  requests: Sighting[];
  errors: Sighting[];
  before: ContainerState[];
  after: ContainerState[];
  /** The static walk on the state read after the probe. */
  walk: WalkResult;
  /** What the probe's tool said when it could not send. */
  localError?: string;
}

export interface LiveVerdict {
  delivered: boolean;
  drop?: TraceDrop;
}

function describeHop(s: Sighting): string {
  return `${s.node}:${s.iface} (${s.direction})`;
}

function errorLine(world: TraceWorld, e: Sighting): string {
  const icmp = probeOf(e.packet);
  const name = icmp.icmp ? icmpCodeName(icmp.icmp) : undefined;
  const src = icmp.ipv4?.src ?? '?';
  return `${e.node}:${e.iface}: ICMP ${icmp.icmp?.kind ?? 'error'} code ${icmp.icmp?.code ?? '?'}${name ? ` (${name})` : ''} from ${src} (${world.ipName(src)}) quoting the probe`;
}

export function liveVerdict(input: VerdictInput): LiveVerdict {
  const { world, requests, errors } = input;
  const growth = counterGrowth(input.before, input.after);
  const arrived = input.destNs !== undefined && requests.some((s) => s.node === input.destNs && s.direction === 'in');
  const rules = droppingRules(growth);
  if (arrived) {
    const inDest = rules.find((r) => r.ns === input.destNs);
    if (!inDest) return { delivered: true };
    const last = [...requests].reverse().find((s) => s.node === input.destNs)!;
    return {
      delivered: false,
      drop: {
        node: inDest.ns,
        iface: last.iface,
        reason: `firewall: iptables ${inDest.growth.rule.text}`,
        evidence: [`last seen: ${describeHop(last)}`, ...nsEvidence(growth, [inDest.ns], last.iface)],
      },
    };
  }

  const last = requests.at(-1);
  const lastNs = last?.node ?? input.from;
  const evidence: string[] = [last ? `last seen: hop ${requests.length} at ${describeHop(last)}` : `never seen leaving ${input.from}`];
  if (input.localError) evidence.push(`${input.from}: the probe's tool said: ${input.localError}`);
  if (errors[0]) evidence.push(errorLine(world, errors[0]) + (errors.length > 1 ? `, seen at ${errors.length} interfaces on its way back` : ''));

  let drop: Omit<TraceDrop, 'evidence'> | undefined;
  const walkDrop = input.walk.drop;
  const walkFits = walkDrop && (walkDrop.node === lastNs || (last && nextNamespaces(world, last).includes(walkDrop.node)) || !last);
  // through a Service the walk models the translation (a Service without endpoints: kube-proxy's
  // REJECT; a pod reaching itself with hairpin off), so its word comes first; counters are evidence
  if (walkDrop && walkFits && input.walk.service) {
    drop = { node: walkDrop.node, iface: walkDrop.iface, reason: walkDrop.reason };
    evidence.push(...walkDrop.evidence);
  }
  const firewall = rules.find((r) => r.ns === lastNs) ?? rules[0];
  if (!drop && firewall) {
    drop = { node: firewall.ns, iface: firewall.ns === lastNs && last ? last.iface : '-', reason: `firewall: iptables ${firewall.growth.rule.text}` };
  }
  if (!drop && walkDrop && walkFits) {
    drop = { node: walkDrop.node, iface: walkDrop.iface, reason: walkDrop.reason };
    evidence.push(...walkDrop.evidence);
  }
  const firstError = errors[0];
  if (!drop && firstError) {
    const icmp = probeOf(firstError.packet);
    const sender = world.ownerOfIp(icmp.ipv4?.src ?? '')?.ns ?? icmp.ipv4?.src ?? '?';
    const kind = icmp.icmp?.kind === 'time-exceeded' ? 'TTL exceeded' : `${icmp.icmp ? icmpCodeName(icmp.icmp) ?? `code ${icmp.icmp.code}` : 'an ICMP error'}`;
    drop = { node: sender, iface: last?.iface ?? '-', reason: `${sender} answered ${kind}` };
  }
  if (!drop) {
    drop = {
      node: lastNs,
      iface: last?.iface ?? '-',
      reason: last ? `lost after ${describeHop(last)}: no counter or table at ${lastNs} explains it` : `the probe never left ${input.from}`,
    };
  }
  const involved = [...new Set([drop.node, lastNs])];
  evidence.push(...nsEvidence(growth, involved, drop.iface));
  return { delivered: false, drop: { ...drop, evidence: [...new Set(evidence)] } };
}

function nsEvidence(growth: NamespaceGrowth[], namespaces: string[], iface: string): string[] {
  return growth.filter((g) => namespaces.includes(g.ns)).flatMap((g) => evidenceLines(g, { packetsOf: [iface] }));
}

/** Namespaces a packet at this sighting can reach next: across its cable, or its own namespace. */
function nextNamespaces(world: TraceWorld, s: Sighting): string[] {
  const peer = world.peerOf(s.node, s.iface);
  return [s.node, ...(peer ? [peer.ns] : [])];
}
