// Pure: which checks of a lab may run at the same time. Two checks may overlap only when neither
// can see the other's traffic: a capture must never share an interface or a path with another
// check's probes, and a measurement of a node's processes (agentCost) must not have other traffic
// pass through that node. Checks that may disturb each other keep the spec's order (the later one
// runs in a later group), so every check sees the lab as it would one check at a time.
//
// Places: a node name stands for everything inside that node (its pods, bridges, VTEPs, its
// eth0); UNDERLAY for the lab's shared wire (the switch floods ARP and unknown unicast to every
// port, so a capture on any node's underlay side may see any traffic between two nodes).
import type { Footprint } from './check-kind.js';
import type { LabReferences } from '../lab/lab-references.js';
import { parseRef } from '../lab-spec/refs.js';

export const UNDERLAY = '(underlay)';
export const EVERYWHERE = '*';

/** Where a check's traffic goes and what it watches, as places. */
export interface CheckReach {
  /** Places whose traffic the check sees (its captures, the nodes it measures). */
  observes: Set<string>;
  /** Places its own probes cross. */
  disturbs: Set<string>;
  /** Runs alone: it captures everywhere (trace), or its kind does not say what it sends. */
  alone: boolean;
  /** Checks with the same key watch the very same traffic, sent once for all of them when they
   * share a group (the runner gives them one probe): they do not disturb each other. */
  shareKey?: string;
}

/** The node a probe endpoint stands on, or EVERYWHERE for an address no node owns (its packets
 * may go anywhere). */
function placeOf(ref: string, names: LabReferences): string {
  const [node] = names.nodesOf(ref);
  return node ?? EVERYWHERE;
}

/** The places one probe from `from` to `to` crosses. */
export function trafficPlaces(from: string, to: string, names: LabReferences): string[] {
  const a = placeOf(from, names);
  const b = placeOf(to, names);
  if (a === EVERYWHERE || b === EVERYWHERE) return [EVERYWHERE];
  return a === b ? [a] : [a, b, UNDERLAY];
}

/** The places a capture on this interface sees: the node, and the underlay when the interface is
 * a node's own side of the wire (a host's eth0, any interface of an external node). */
export function capturePlaces(on: string, names: LabReferences): string[] {
  if (on === EVERYWHERE) return [EVERYWHERE];
  const externals = names.lab.externals.map((e) => e.name);
  const r = parseRef(on, externals);
  if (!r || r.kind === 'ip' || r.kind === 'mac') return [EVERYWHERE];
  const node = r.kind === 'node' ? r.node : r.host;
  const pod = r.kind === 'pod' || r.kind === 'iface' ? r.pod : undefined;
  const iface = r.kind === 'iface' ? r.iface : 'eth0';
  const external = externals.includes(node);
  return pod === undefined && (external || iface === 'eth0') ? [node, UNDERLAY] : [node];
}

export function reachOf(footprint: Footprint, names: LabReferences): CheckReach {
  const observes = new Set<string>([...footprint.captures.flatMap((c) => capturePlaces(c, names)), ...(footprint.measures ?? [])]);
  const disturbs = new Set<string>((footprint.traffic ?? []).flatMap((t) => trafficPlaces(t.from, t.to, names)));
  const shareKey = footprint.shared && footprint.traffic?.length === 1 ? JSON.stringify(footprint.traffic[0]) : undefined;
  return { observes, disturbs, alone: footprint.traffic === undefined || footprint.captures.includes(EVERYWHERE), ...(shareKey ? { shareKey } : {}) };
}

function meets(a: Set<string>, b: Set<string>): boolean {
  if (a.size === 0 || b.size === 0) return false;
  if (a.has(EVERYWHERE) || b.has(EVERYWHERE)) return true;
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/** Could the two checks change what the other sees, were they run together? */
export function interferes(x: CheckReach, y: CheckReach): boolean {
  if (x.alone || y.alone) return true;
  if (x.shareKey !== undefined && x.shareKey === y.shareKey) return false;
  return meets(x.observes, y.disturbs) || meets(y.observes, x.disturbs);
}

/** Groups of indexes into `reaches`: the groups run one after another, the checks of one group
 * together. A check goes into the group after the last one holding a check it interferes with
 * and that comes before it in the spec (so interfering checks keep their order), else the first. */
export function planGroups(reaches: readonly CheckReach[]): number[][] {
  const level: number[] = [];
  reaches.forEach((reach, i) => {
    let l = 0;
    for (let j = 0; j < i; j++) if (interferes(reaches[j]!, reach)) l = Math.max(l, level[j]! + 1);
    level.push(l);
  });
  const groups: number[][] = [];
  level.forEach((l, i) => (groups[l] ??= []).push(i));
  return groups.filter((g) => g !== undefined);
}

/** A unit of the schedule: one check, or several that watch the same traffic and share its probe
 * (they start together). It may start once every unit in `after` has finished. */
export interface PlannedUnit {
  /** Indexes of its checks, in the spec's order. */
  checks: number[];
  /** Indexes (into the unit list) of the units that must have finished first. */
  after: number[];
  /** True when the checks share one probe (two or more of them). */
  shared: boolean;
}

/** The schedule: a check waits only for the checks before it in the spec that it interferes with
 * (not for a whole group: a slow kernel read never holds back an unrelated capture). Checks with
 * the same shareKey in the same group of planGroups form one unit. */
export function planUnits(reaches: readonly CheckReach[]): PlannedUnit[] {
  const groups = planGroups(reaches);
  const unitOf = new Map<number, number>();
  const units: PlannedUnit[] = [];
  for (const group of groups) {
    const byKey = new Map<string, number[]>();
    for (const i of group) {
      const key = reaches[i]!.shareKey;
      if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), i]);
    }
    for (const i of group) {
      if (unitOf.has(i)) continue;
      const key = reaches[i]!.shareKey;
      const members = key !== undefined && byKey.get(key)!.length > 1 ? byKey.get(key)! : [i];
      for (const m of members) unitOf.set(m, units.length);
      units.push({ checks: members, after: [], shared: members.length > 1 });
    }
  }
  units.forEach((unit, u) => {
    const after = new Set<number>();
    for (const i of unit.checks) for (let j = 0; j < i; j++) if (unitOf.get(j) !== u && interferes(reaches[j]!, reaches[i]!)) after.add(unitOf.get(j)!);
    unit.after = [...after].sort((a, b) => a - b);
  });
  return units;
}
