// A trace as one pcapng file: an interface per hop, named like "host1:flannel.1" (node and
// interface again in if_description), the probe's copies in time order, each commented with its
// hop number and what changed there. Pure.
import { writePcapng } from '../pcap/pcapng-writer.js';
import { TRACE_SNAPLEN } from './capture-session.js';
import type { TraceRun } from './trace-lab.js';

export function tracePcapng(run: Pick<TraceRun, 'packets' | 'result'>): Uint8Array {
  const ordered = [...run.packets].sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : a.hop.n - b.hop.n));
  return writePcapng({
    application: `overlab trace ${run.result.lab} ${run.result.from} ${run.result.to}`,
    interfaces: run.packets.map((p) => ({
      name: `${p.hop.node}:${p.hop.iface}`,
      description: `hop ${p.hop.n} (${p.hop.leg}, ${p.hop.direction}): node ${p.hop.node}, interface ${p.hop.iface}`,
      linkType: p.linkType,
      snapLen: TRACE_SNAPLEN,
    })),
    packets: ordered.map((p) => ({
      interfaceId: run.packets.indexOf(p),
      timestampNanos: p.tsNs,
      data: p.data,
      originalLength: p.length,
      comment: `hop ${p.hop.n}: ${p.hop.change ?? 'no change'}`,
    })),
  });
}
