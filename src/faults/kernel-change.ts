// Pure: what a fault changed in a namespace, as the difference between the kernel state before
// and after it (src/faults/snapshot.ts). The record of a fault is this list; `clear` restores
// each change and then checks that the namespace is as it was, item by item.
import { diffRules, type SavedTables } from './iptables-save.js';
import type { Namespace } from './namespace.js';
import type { AddrEntry, FdbEntry, LinkState, NeighEntry, NetnsState, QdiscEntry, RouteEntry } from './snapshot.js';

export type Op = 'removed' | 'added';
export type RuleFamily = 'ip' | 'bridge';

export type KernelChangeBody =
  | { type: 'link'; ifname: string; field: 'up' | 'mtu' | 'master' | 'hairpin'; before: boolean | number | string | null; after: boolean | number | string | null }
  | { type: 'link-presence'; op: Op; link: LinkState }
  | { type: 'vxlan'; ifname: string; before: Record<string, unknown>; after: Record<string, unknown> }
  | { type: 'addr'; op: Op; entry: AddrEntry }
  | { type: 'route'; op: Op; entry: RouteEntry }
  | { type: 'neigh'; op: Op; entry: NeighEntry }
  | { type: 'fdb'; op: Op; entry: FdbEntry }
  | { type: 'qdisc'; dev: string; slot: string; before: QdiscEntry | null; after: QdiscEntry | null }
  | { type: 'rule'; family: RuleFamily; table: string; chain: string; op: Op; rule: string; index: number }
  | { type: 'policy'; family: RuleFamily; table: string; chain: string; before: string; after: string }
  | { type: 'chain'; family: RuleFamily; table: string; chain: string; op: Op }
  | { type: 'table'; family: RuleFamily; table: string; op: Op }
  | { type: 'sysctl'; key: string; before: string; after: string }
  | { type: 'nft-table'; table: string; before: string; after: string };

export type KernelChange = KernelChangeBody & { ns: Namespace };

const key = (value: unknown) => JSON.stringify(value);

/** Entries in `a` that `b` lacks (multiset difference on the JSON form). */
function missingFrom<T>(a: readonly T[], b: readonly T[]): T[] {
  const counts = new Map<string, number>();
  for (const x of b) counts.set(key(x), (counts.get(key(x)) ?? 0) + 1);
  const out: T[] = [];
  for (const x of a) {
    const n = counts.get(key(x)) ?? 0;
    if (n > 0) counts.set(key(x), n - 1);
    else out.push(x);
  }
  return out;
}

function entryChanges<T>(type: 'addr' | 'route' | 'neigh' | 'fdb', before: readonly T[], after: readonly T[]): KernelChangeBody[] {
  return [
    ...missingFrom(before, after).map((entry) => ({ type, op: 'removed' as const, entry }) as KernelChangeBody),
    ...missingFrom(after, before).map((entry) => ({ type, op: 'added' as const, entry }) as KernelChangeBody),
  ];
}

/** Where a qdisc sits on its device: the root, or the ingress/clsact hook. */
export function qdiscSlot(q: QdiscEntry): string {
  return q.root ? 'root' : q.kind === 'ingress' || q.kind === 'clsact' ? 'ingress' : `parent ${q.parent ?? q.handle}`;
}

function linkChanges(before: Record<string, LinkState>, after: Record<string, LinkState>): KernelChangeBody[] {
  const out: KernelChangeBody[] = [];
  for (const [name, b] of Object.entries(before)) {
    const a = after[name];
    if (!a) {
      out.push({ type: 'link-presence', op: 'removed', link: b });
      continue;
    }
    if (b.vxlan && a.vxlan && key(b.vxlan) !== key(a.vxlan)) out.push({ type: 'vxlan', ifname: name, before: b.vxlan, after: a.vxlan });
    if ((b.master ?? null) !== (a.master ?? null)) out.push({ type: 'link', ifname: name, field: 'master', before: b.master ?? null, after: a.master ?? null });
    if (b.mtu !== a.mtu) out.push({ type: 'link', ifname: name, field: 'mtu', before: b.mtu, after: a.mtu });
    if (b.up !== a.up) out.push({ type: 'link', ifname: name, field: 'up', before: b.up, after: a.up });
    if (b.hairpin !== undefined && a.hairpin !== undefined && b.hairpin !== a.hairpin) out.push({ type: 'link', ifname: name, field: 'hairpin', before: b.hairpin, after: a.hairpin });
  }
  for (const [name, a] of Object.entries(after)) if (!before[name]) out.push({ type: 'link-presence', op: 'added', link: a });
  return out;
}

function qdiscChanges(before: readonly QdiscEntry[], after: readonly QdiscEntry[]): KernelChangeBody[] {
  const index = (list: readonly QdiscEntry[]) => new Map(list.map((q) => [`${q.dev} ${qdiscSlot(q)}`, q]));
  const b = index(before);
  const a = index(after);
  const out: KernelChangeBody[] = [];
  for (const slot of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(slot) ?? null;
    const y = a.get(slot) ?? null;
    if (key(x && { ...x, options: x.options }) === key(y && { ...y, options: y.options })) continue;
    const q = (x ?? y)!;
    out.push({ type: 'qdisc', dev: q.dev, slot: qdiscSlot(q), before: x, after: y });
  }
  return out;
}

function ruleChanges(family: RuleFamily, before: SavedTables, after: SavedTables): KernelChangeBody[] {
  const out: KernelChangeBody[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[table];
    const a = after[table];
    if (!b && a) out.push({ type: 'table', family, table, op: 'added' });
    if (b && !a) out.push({ type: 'table', family, table, op: 'removed' });
    const chains = new Set([...Object.keys(b?.chains ?? {}), ...Object.keys(a?.chains ?? {})]);
    for (const chain of chains) {
      const bc = b?.chains[chain];
      const ac = a?.chains[chain];
      // A whole table appearing or going: its built-in chains come and go with it.
      const builtinWithTable = (c: { policy: string } | undefined) => c !== undefined && c.policy !== '-';
      if (bc && !ac && !(builtinWithTable(bc) && !a)) out.push({ type: 'chain', family, table, chain, op: 'removed' });
      if (!bc && ac && !(builtinWithTable(ac) && !b)) out.push({ type: 'chain', family, table, chain, op: 'added' });
      if (bc && ac && bc.policy !== ac.policy) out.push({ type: 'policy', family, table, chain, before: bc.policy, after: ac.policy });
      const { removed, added } = diffRules(bc?.rules ?? [], ac?.rules ?? []);
      for (const r of removed) out.push({ type: 'rule', family, table, chain, op: 'removed', rule: r.rule, index: r.index });
      for (const r of added) out.push({ type: 'rule', family, table, chain, op: 'added', rule: r.rule, index: r.index });
    }
  }
  return out;
}

function sysctlChanges(before: Record<string, string>, after: Record<string, string>): KernelChangeBody[] {
  const out: KernelChangeBody[] = [];
  for (const [k, v] of Object.entries(before)) {
    const w = after[k];
    if (w !== undefined && w !== v) out.push({ type: 'sysctl', key: k, before: v, after: w });
  }
  return out;
}

/** Every difference between two states of one namespace. */
export function diffState(ns: Namespace, before: NetnsState, after: NetnsState): KernelChange[] {
  const changes: KernelChangeBody[] = [
    ...linkChanges(before.links, after.links),
    ...entryChanges('addr', before.addrs, after.addrs),
    ...entryChanges('route', before.routes, after.routes),
    ...entryChanges('neigh', before.neighbours, after.neighbours),
    ...entryChanges('fdb', before.fdb, after.fdb),
    ...qdiscChanges(before.qdiscs, after.qdiscs),
    ...ruleChanges('ip', before.iptables, after.iptables),
    ...ruleChanges('bridge', before.ebtables, after.ebtables),
    ...sysctlChanges(before.sysctl, after.sysctl),
    ...(before.nft !== after.nft ? [{ type: 'nft-table' as const, table: 'ip kube-proxy', before: before.nft, after: after.nft }] : []),
  ];
  return changes.map((c) => ({ ...c, ns }));
}

const has = <T>(list: readonly T[], x: T) => list.some((y) => key(y) === key(x));

/** Is this change undone in `state` (the namespace's kernel state now)? */
export function isRestored(c: KernelChangeBody, state: NetnsState): boolean {
  switch (c.type) {
    case 'link': {
      const link = state.links[c.ifname];
      if (!link) return false;
      const now = c.field === 'up' ? link.up : c.field === 'mtu' ? link.mtu : c.field === 'hairpin' ? (link.hairpin ?? null) : (link.master ?? null);
      return now === c.before;
    }
    case 'link-presence':
      return c.op === 'removed' ? state.links[c.link.ifname] !== undefined : state.links[c.link.ifname] === undefined;
    case 'vxlan': {
      const now = state.links[c.ifname]?.vxlan;
      return now !== undefined && key(now) === key(c.before);
    }
    case 'addr':
      return c.op === 'removed' ? has(state.addrs, c.entry) : !has(state.addrs, c.entry);
    case 'route':
      return c.op === 'removed' ? has(state.routes, c.entry) : !has(state.routes, c.entry);
    case 'neigh':
      return c.op === 'removed' ? has(state.neighbours, c.entry) : !has(state.neighbours, c.entry);
    case 'fdb':
      return c.op === 'removed' ? has(state.fdb, c.entry) : !has(state.fdb, c.entry);
    case 'qdisc': {
      const now = state.qdiscs.find((q) => q.dev === c.dev && qdiscSlot(q) === c.slot) ?? null;
      if (!state.links[c.dev]) return true; // the device itself is gone: nothing hangs on it
      return key(now) === key(c.before);
    }
    case 'rule': {
      const tables = c.family === 'ip' ? state.iptables : state.ebtables;
      const rules = tables[c.table]?.chains[c.chain]?.rules ?? [];
      return c.op === 'removed' ? rules.includes(c.rule) : !rules.includes(c.rule);
    }
    case 'policy': {
      const tables = c.family === 'ip' ? state.iptables : state.ebtables;
      return tables[c.table]?.chains[c.chain]?.policy === c.before;
    }
    case 'chain': {
      const tables = c.family === 'ip' ? state.iptables : state.ebtables;
      const present = tables[c.table]?.chains[c.chain] !== undefined;
      return c.op === 'removed' ? present : !present;
    }
    case 'table': {
      const tables = c.family === 'ip' ? state.iptables : state.ebtables;
      return c.op === 'removed' ? tables[c.table] !== undefined : tables[c.table] === undefined;
    }
    case 'sysctl':
      return state.sysctl[c.key] === c.before;
    case 'nft-table':
      return state.nft === c.before;
  }
}

const routeText = (r: RouteEntry) =>
  [r.type, r.dst, r.gateway ? `via ${r.gateway}` : '', r.dev ? `dev ${r.dev}` : '', r.protocol ? `proto ${r.protocol}` : '', r.scope ? `scope ${r.scope}` : '', r.prefsrc ? `src ${r.prefsrc}` : '', r.metric ? `metric ${r.metric}` : '', ...r.flags]
    .filter(Boolean)
    .join(' ');

/** One line a person reads: "route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink removed". */
export function describeChange(c: KernelChangeBody): string {
  switch (c.type) {
    case 'link':
      if (c.field === 'hairpin') return `${c.ifname} hairpin ${c.after ? 'on' : 'off'} (was ${c.before ? 'on' : 'off'})`;
      return c.field === 'up'
        ? `${c.ifname} ${c.after ? 'up' : 'down'} (was ${c.before ? 'up' : 'down'})`
        : c.field === 'mtu'
          ? `${c.ifname} mtu ${c.after} (was ${c.before})`
          : `${c.ifname} ${c.after ? `port of ${c.after}` : 'no bridge port'} (was ${c.before ? `port of ${c.before}` : 'none'})`;
    case 'link-presence':
      return `link ${c.link.ifname}${c.link.kind ? ` (${c.link.kind})` : ''} ${c.op}`;
    case 'vxlan':
      return `${c.ifname} vxlan id ${String(c.after.id)} (was ${String(c.before.id)})`;
    case 'addr':
      return `address ${c.entry.local}/${c.entry.prefixlen} dev ${c.entry.ifname} ${c.op}`;
    case 'route':
      return `route ${routeText(c.entry)} ${c.op}`;
    case 'neigh':
      return `neighbour ${c.entry.dst}${c.entry.lladdr ? ` lladdr ${c.entry.lladdr}` : ''} dev ${c.entry.dev} ${c.op}`;
    case 'fdb':
      return `fdb ${c.entry.mac} dev ${c.entry.ifname}${c.entry.dst ? ` dst ${c.entry.dst}` : ''}${c.entry.master ? ` master ${c.entry.master}` : ''} ${c.op}`;
    case 'qdisc':
      return `qdisc ${c.slot} on ${c.dev}: ${c.after ? c.after.kind : 'none'} (was ${c.before ? c.before.kind : 'none'})`;
    case 'rule':
      return `${c.family === 'ip' ? 'iptables' : 'ebtables'} -t ${c.table} ${c.chain}: ${c.rule} ${c.op}`;
    case 'policy':
      return `${c.family === 'ip' ? 'iptables' : 'ebtables'} -t ${c.table} ${c.chain} policy ${c.after} (was ${c.before})`;
    case 'chain':
      return `${c.family === 'ip' ? 'iptables' : 'ebtables'} -t ${c.table} chain ${c.chain} ${c.op}`;
    case 'table':
      return `${c.family === 'ip' ? 'iptables' : 'ebtables'} table ${c.table} ${c.op === 'added' ? 'created' : 'removed'}`;
    case 'sysctl':
      return `${c.key.replace(/\//g, '.')} = ${c.after} (was ${c.before})`;
    case 'nft-table': {
      const b = new Set(c.before.split('\n'));
      const a = new Set(c.after.split('\n'));
      const gone = [...b].filter((l) => !a.has(l)).length;
      const come = [...a].filter((l) => !b.has(l)).length;
      return `nft table ${c.table} ${!c.before ? 'created' : !c.after ? 'removed' : `changed (${gone} line${gone === 1 ? '' : 's'} gone, ${come} new)`}`;
    }
  }
}
