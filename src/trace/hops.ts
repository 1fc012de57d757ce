// Observations (captured or predicted) → the numbered timeline: one hop per sighting with the
// headers in one line and what changed since the previous hop. Pure; shared by live and static.
import { describePacket } from '../pcap/describe.js';
import { changeFacts, changeWords, encapsulationOf, firstFacts, type ChangeContext, type ChangeFact, type Observation } from './change-facts.js';
import type { TraceHop } from './trace-result.js';
import type { TraceWorld } from './trace-world.js';

export interface TimedObservation extends Observation {
  /** Nanoseconds since the trace's first sighting (0 when predicted). */
  atNs?: bigint;
}

export interface BuiltHops {
  hops: TraceHop[];
  /** The facts behind each hop's `change`, for the minimal form. */
  facts: ChangeFact[][];
}

export function changeContext(world: TraceWorld): ChangeContext {
  return {
    namer: { macName: (mac) => world.macName(mac), ipName: (ip) => world.ipName(ip) },
    bridgeOf: (node, iface) => world.link(node, iface)?.master,
    ownerOfIp: (ip) => world.ownerOfIp(ip)?.ns,
    stitchOf: (node, iface) => world.stitchOf(node, iface),
  };
}

/** One leg (request or reply) as hops numbered from `firstNumber`; `deliveredIn` marks the
 * arrival in the destination's namespace. */
export function buildHops(world: TraceWorld, leg: TraceHop['leg'], observations: TimedObservation[], firstNumber: number, deliveredIn?: string): BuiltHops {
  const ctx = changeContext(world);
  const hops: TraceHop[] = [];
  const facts: ChangeFact[][] = [];
  let deliveredMarked = false;
  observations.forEach((o, i) => {
    const f = i === 0 ? firstFacts(o) : changeFacts(observations[i - 1]!, o, ctx);
    if (!deliveredMarked && deliveredIn !== undefined && o.node === deliveredIn && o.direction === 'in' && i > 0) {
      f.push({ kind: 'delivered', to: deliveredIn, iface: o.node.includes('/') ? `${o.node.split('/')[1]}:${o.iface}` : o.iface });
      deliveredMarked = true;
    }
    facts.push(f);
    hops.push({
      n: firstNumber + i,
      node: o.node,
      iface: o.iface,
      direction: o.direction,
      atUs: o.atNs === undefined ? 0 : Number(o.atNs / 1000n),
      summary: describePacket(o.packet),
      change: changeWords(f),
      encapsulated: encapsulationOf(o.packet),
      leg,
    });
  });
  return { hops, facts };
}
