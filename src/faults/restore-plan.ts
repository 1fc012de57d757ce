// Pure: the commands that undo a fault's recorded changes, given the kernel state now. Run in
// stages, each planned on a fresh read of the kernel (src/faults/fault-engine.ts), because one
// stage's work brings back part of the next one's by itself: a link set up again gets its
// connected routes back from the kernel, a port re-attached to its bridge gets its own FDB entry.
//
//   links     bridge ports, MTU, up/down; addresses
//   entries   routes, permanent neighbours, FDB, qdiscs, iptables/ebtables, ip_forward
//   settle    the remaining sysctls (writing ip_forward resets the per-device forwarding
//             switches and all.accept_redirects, so they are compared only after it)
//
// Every command is an argv; every value in it was read from this lab's kernel.
import { isEmptyTable, ruleWords, type SavedTables } from './iptables-save.js';
import { isRestored, qdiscSlot, type KernelChange, type KernelChangeBody } from './kernel-change.js';
import type { NetnsState, RouteEntry } from './snapshot.js';

export type RestoreStage = 'links' | 'entries' | 'settle';
export const RESTORE_STAGES: readonly RestoreStage[] = ['links', 'entries', 'settle'];

export interface RestoreCommand {
  argv: string[];
  /** What the command reads on stdin (an nft table to load). */
  stdin?: string;
  /** The change it undoes, for messages. */
  change: KernelChange;
}

/** The table an `nft` table deletion is asked for (iptables-nft cannot remove a table it made). */
export interface TableDeletion {
  family: 'ip' | 'bridge';
  table: string;
}

export const IP_FORWARD_KEY = 'net/ipv4/ip_forward';

export function routeArgs(r: RouteEntry): string[] {
  return [
    ...(r.type ? [r.type] : []),
    r.dst,
    ...(r.gateway ? ['via', r.gateway] : []),
    ...(r.dev ? ['dev', r.dev] : []),
    ...(r.protocol ? ['proto', r.protocol] : []),
    ...(r.scope ? ['scope', r.scope] : []),
    ...(r.prefsrc ? ['src', r.prefsrc] : []),
    ...(r.metric ? ['metric', String(r.metric)] : []),
    ...r.flags.filter((f) => f === 'onlink'),
  ];
}

function linkCommand(c: Extract<KernelChangeBody, { type: 'link' }>): string[] {
  if (c.field === 'hairpin') return ['ip', 'link', 'set', 'dev', c.ifname, 'type', 'bridge_slave', 'hairpin', c.before ? 'on' : 'off'];
  if (c.field === 'up') return ['ip', 'link', 'set', 'dev', c.ifname, c.before ? 'up' : 'down'];
  if (c.field === 'mtu') return ['ip', 'link', 'set', 'dev', c.ifname, 'mtu', String(c.before)];
  return c.before ? ['ip', 'link', 'set', 'dev', c.ifname, 'master', String(c.before)] : ['ip', 'link', 'set', 'dev', c.ifname, 'nomaster'];
}

function tool(family: 'ip' | 'bridge'): string {
  return family === 'ip' ? 'iptables' : 'ebtables';
}

function tablesOf(state: NetnsState, family: 'ip' | 'bridge'): SavedTables {
  return family === 'ip' ? state.iptables : state.ebtables;
}

/** Where a removed rule goes back: its old position, or the end of the chain if that is shorter now. */
function insertPosition(c: Extract<KernelChangeBody, { type: 'rule' }>, state: NetnsState): number {
  const rules = tablesOf(state, c.family)[c.table]?.chains[c.chain]?.rules ?? [];
  return Math.min(c.index + 1, rules.length + 1);
}

function stageOf(c: KernelChangeBody): RestoreStage | undefined {
  switch (c.type) {
    case 'link':
    case 'addr':
      return 'links';
    case 'sysctl':
      return c.key === IP_FORWARD_KEY ? 'entries' : 'settle';
    case 'link-presence':
    case 'vxlan':
      return undefined; // the kind's own undo recreates devices; a device that appeared is left to it too
    default:
      return 'entries';
  }
}

/** Commands for one stage; changes already undone in `state` get none. */
export function restorePlan(changes: readonly KernelChange[], state: NetnsState, stage: RestoreStage): { commands: RestoreCommand[]; tables: TableDeletion[] } {
  const pending = changes.filter((c) => stageOf(c) === stage && !isRestored(c, state));
  const commands: RestoreCommand[] = [];
  const push = (change: KernelChange, argv: string[], stdin?: string) => commands.push({ argv, change, ...(stdin !== undefined ? { stdin } : {}) });
  const order: Record<string, number> = { master: 0, mtu: 1, hairpin: 2, up: 3 };
  const links = pending.filter((c): c is Extract<KernelChange, { type: 'link' }> => c.type === 'link').sort((a, b) => order[a.field]! - order[b.field]!);
  for (const c of links) if (state.links[c.ifname]) push(c, linkCommand(c));
  for (const c of pending) {
    if (c.type !== 'addr') continue;
    const e = c.entry;
    if (c.op === 'removed') {
      if (!state.links[e.ifname]) continue;
      push(c, ['ip', 'addr', 'add', `${e.local}/${e.prefixlen}`, ...(e.broadcast ? ['brd', e.broadcast] : []), ...(e.scope && e.scope !== 'global' ? ['scope', e.scope] : []), 'dev', e.ifname, ...(e.label ? ['label', e.label] : [])]);
    } else push(c, ['ip', 'addr', 'del', `${e.local}/${e.prefixlen}`, 'dev', e.ifname]);
  }
  // routes: deletions first (a wrong route may stand where the right one goes)
  for (const c of pending) if (c.type === 'route' && c.op === 'added') push(c, ['ip', 'route', 'del', ...routeArgs(c.entry)]);
  for (const c of pending) if (c.type === 'route' && c.op === 'removed') push(c, ['ip', 'route', 'add', ...routeArgs(c.entry)]);
  for (const c of pending) {
    if (c.type !== 'neigh') continue;
    const e = c.entry;
    if (c.op === 'removed') push(c, ['ip', 'neigh', 'replace', e.dst, ...(e.lladdr ? ['lladdr', e.lladdr] : []), 'dev', e.dev, 'nud', 'permanent']);
    else push(c, ['ip', 'neigh', 'del', e.dst, 'dev', e.dev]);
  }
  for (const c of pending) {
    if (c.type !== 'fdb') continue;
    const e = c.entry;
    const where = [...(e.dst ? ['dst', e.dst] : []), ...(e.vlan !== undefined ? ['vlan', String(e.vlan)] : []), ...(e.self ? ['self'] : []), ...(e.master ? ['master'] : [])];
    if (c.op === 'removed') push(c, ['bridge', 'fdb', 'append', e.mac, 'dev', e.ifname, ...where, e.state === 'static' ? 'static' : 'permanent']);
    else push(c, ['bridge', 'fdb', 'del', e.mac, 'dev', e.ifname, ...where]);
  }
  for (const c of pending) {
    if (c.type !== 'qdisc' || !state.links[c.dev]) continue;
    const now = state.qdiscs.find((q) => q.dev === c.dev && qdiscSlot(q) === c.slot);
    // Only what faults add is undone: a qdisc where the kernel's default (or none) stood.
    if (now && (c.before === null || c.before.handle === '0:')) push(c, ['tc', 'qdisc', 'del', 'dev', c.dev, ...(c.slot === 'root' ? ['root'] : [now.kind])]);
  }
  for (const family of ['ip', 'bridge'] as const) {
    const mine = pending.filter((c) => 'family' in c && c.family === family);
    for (const c of mine) if (c.type === 'chain' && c.op === 'removed') push(c, [tool(family), '-t', c.table, '-N', c.chain]);
    for (const c of mine) if (c.type === 'rule' && c.op === 'added') push(c, [tool(family), '-t', c.table, '-D', c.chain, ...ruleWords(c.rule)]);
    const inserts = mine.filter((c): c is Extract<KernelChange, { type: 'rule' }> => c.type === 'rule' && c.op === 'removed').sort((a, b) => a.index - b.index);
    // Each insert lengthens the chain: positions are planned against the chain as it will be.
    const grown = new Map<string, number>();
    for (const c of inserts) {
      const chainKey = `${c.table} ${c.chain}`;
      const extra = grown.get(chainKey) ?? 0;
      const position = Math.min(c.index + 1, insertPosition(c, state) + extra);
      grown.set(chainKey, extra + 1);
      push(c, [tool(family), '-t', c.table, '-I', c.chain, String(position), ...ruleWords(c.rule)]);
    }
    for (const c of mine) if (c.type === 'policy') push(c, [tool(family), '-t', c.table, '-P', c.chain, c.before]);
    for (const c of mine) if (c.type === 'chain' && c.op === 'added') push(c, [tool(family), '-t', c.table, '-X', c.chain]);
  }
  for (const c of pending) if (c.type === 'sysctl' && /^-?\d+$/.test(c.before)) push(c, ['sysctl', '-q', '-w', `${c.key}=${c.before}`]);
  // kube-proxy's table, back as it was: one nft transaction removes what is there and loads the
  // table as it was listed (nft reads its own listing).
  for (const c of pending) {
    if (c.type !== 'nft-table') continue;
    const reset = state.nft ? 'add table ip kube-proxy\ndelete table ip kube-proxy\n' : '';
    push(c, ['nft', '-f', '-'], `${reset}${c.before}\n`);
  }
  // A table the fault made (iptables-nft makes one on first use) goes once it is empty again.
  const tables: TableDeletion[] = [];
  if (stage === 'entries') {
    for (const c of changes) {
      if (c.type !== 'table' || c.op !== 'added') continue;
      const now = tablesOf(state, c.family)[c.table];
      const emptyAfterPlan = now !== undefined && Object.values(now.chains).every((ch) => ch.policy === 'ACCEPT') && willBeEmpty(changes, c.family, c.table, now);
      if (emptyAfterPlan) tables.push({ family: c.family, table: c.table });
    }
  }
  return { commands, tables };
}

/** After this stage's deletions, does the table hold no rule (only the fault's rules were in it)? */
function willBeEmpty(changes: readonly KernelChange[], family: 'ip' | 'bridge', table: string, now: NonNullable<SavedTables[string]>): boolean {
  const added = changes.filter((c): c is Extract<KernelChange, { type: 'rule' }> => c.type === 'rule' && c.family === family && c.table === table && c.op === 'added');
  for (const [chain, c] of Object.entries(now.chains)) {
    const left = [...c.rules];
    for (const a of added) {
      if (a.chain !== chain) continue;
      const i = left.indexOf(a.rule);
      if (i >= 0) left.splice(i, 1);
    }
    if (left.length) return false;
  }
  return isEmptyTable({ chains: Object.fromEntries(Object.entries(now.chains).map(([k, v]) => [k, { ...v, rules: [] }])) });
}

/** The recorded changes that `state` still shows undone, described. */
export function unrestored(changes: readonly KernelChange[], state: NetnsState): KernelChange[] {
  return changes.filter((c) => !isRestored(c, state));
}
