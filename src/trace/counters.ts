// What grew while the probe travelled: iptables rule counters, nstat counters and link drop and
// error counters, per namespace, as evidence lines. Pure: two snapshots in, sentences out.
import { grownRules, isDropTarget, parseIptablesSave, type RuleGrowth } from './iptables-rules.js';
import type { ContainerState, LinkCounters, NamespaceState } from './kernel-snapshot.js';
import { nsKey } from './trace-world.js';

/** nstat counters that speak of a packet that did not get through, and what each means. */
export const TELLING_NSTAT: Record<string, string> = {
  IpExtInNoRoutes: 'arrived with no route to forward it',
  IpOutNoRoutes: 'had no route to send',
  IpInAddrErrors: 'arrived for an address it cannot forward to',
  IpInDiscards: 'discarded on input',
  IpOutDiscards: 'discarded on output',
  IpInHdrErrors: 'arrived with a bad header (TTL expired?)',
  IpFragFails: 'needed fragmenting but had DF set',
  IcmpOutDestUnreachs: 'sent ICMP destination unreachable',
  IcmpOutTimeExcds: 'sent ICMP time exceeded',
  IcmpInDestUnreachs: 'received ICMP destination unreachable',
  UdpNoPorts: 'UDP to a port nobody listens on',
  UdpInErrors: 'UDP receive errors',
  TcpExtIPReversePathFilter: 'dropped by the reverse-path filter (rp_filter)',
  TcpExtTCPMinTTLDrop: 'dropped for a TTL below the minimum',
};

export interface NamespaceGrowth {
  ns: string;
  rules: RuleGrowth[];
  nstat: { name: string; delta: number }[];
  links: { iface: string; field: keyof LinkCounters; delta: number }[];
}

const LINK_FIELDS: (keyof LinkCounters)[] = ['rxDropped', 'rxErrors', 'txDropped', 'txErrors', 'rxPackets', 'txPackets'];

function growthOf(ns: string, before: NamespaceState, after: NamespaceState): NamespaceGrowth {
  const rules = grownRules(parseIptablesSave(before.iptables), parseIptablesSave(after.iptables));
  const nstat = Object.keys(TELLING_NSTAT)
    .map((name) => ({ name, delta: (after.nstat[name] ?? 0) - (before.nstat[name] ?? 0) }))
    .filter((x) => x.delta > 0);
  const links: NamespaceGrowth['links'] = [];
  for (const link of after.links) {
    const old = before.links.find((l) => l.name === link.name);
    if (!old) continue;
    for (const field of LINK_FIELDS) {
      const delta = link.stats[field] - old.stats[field];
      if (delta > 0) links.push({ iface: link.name, field, delta });
    }
  }
  return { ns, rules, nstat, links };
}

/** Per namespace, what grew between the two snapshots of the same containers. */
export function counterGrowth(before: ContainerState[], after: ContainerState[]): NamespaceGrowth[] {
  const out: NamespaceGrowth[] = [];
  for (const a of after) {
    const b = before.find((c) => c.container === a.container);
    if (!b) continue;
    for (const nsAfter of a.namespaces) {
      const nsBefore = b.namespaces.find((n) => n.netns === nsAfter.netns);
      if (nsBefore) out.push(growthOf(nsKey(a.node, nsAfter.netns), nsBefore, nsAfter));
    }
  }
  return out;
}

export function droppingRules(growth: NamespaceGrowth[]): { ns: string; growth: RuleGrowth }[] {
  return growth.flatMap((g) => g.rules.filter((r) => isDropTarget(r.rule.target)).map((r) => ({ ns: g.ns, growth: r })));
}

const FIELD_WORDS: Record<keyof LinkCounters, string> = {
  rxDropped: 'RX dropped',
  rxErrors: 'RX errors',
  txDropped: 'TX dropped',
  txErrors: 'TX errors',
  rxPackets: 'RX packets',
  txPackets: 'TX packets',
};

/** Evidence lines for one namespace: drop rules, telling nstat counters, link drops/errors. */
export function evidenceLines(g: NamespaceGrowth, options: { packetsOf?: string[] } = {}): string[] {
  const lines: string[] = [];
  for (const r of g.rules) {
    if (isDropTarget(r.rule.target)) lines.push(`${g.ns}: iptables-save -c: [${r.before}→${r.after} packets] ${r.rule.text} (${r.rule.table})`);
  }
  for (const n of g.nstat) lines.push(`${g.ns}: nstat ${n.name} +${n.delta} (${TELLING_NSTAT[n.name]})`);
  for (const l of g.links) {
    const isCount = l.field === 'rxPackets' || l.field === 'txPackets';
    if (isCount && !(options.packetsOf ?? []).includes(l.iface)) continue;
    lines.push(`${g.ns}: ip -s link ${l.iface}: ${FIELD_WORDS[l.field]} +${l.delta}`);
  }
  return lines;
}
