// capture: tcpdump on an interface while a ping runs; expected packets must be seen, absent ones not.
import type { CaptureResult } from '../../probes/capture.js';
import type { PingResult } from '../../probes/ping.js';
import type { CaptureSpec } from '../../lab-spec/lab-spec.js';
import { defineCheckKind } from '../check-kind.js';
import { describeMatch, matchesPacket, resolvePacketMatch, type PacketMatch } from '../packet-match.js';
import { runPing } from './ping.js';

export interface CaptureObservation {
  expect: PacketMatch[];
  absent: PacketMatch[];
  captured: CaptureResult<PingResult>;
  /** One line per captured packet, as a person reads it (same order as captured.packets). */
  summaries: string[];
}

export const captureKind = defineCheckKind({
  key: 'capture',
  label: 'capture',
  summary: 'capture: {on, during, expect}',
  schema: (k) =>
    k.T.Object(
      {
        on: k.ref('Interface to capture on: host:iface or host/pod:iface.'),
        during: k.during('Traffic to generate while capturing.'),
        expect: k.T.Optional(k.T.Array(k.packetMatch(), { maxItems: 100, default: [], description: 'Each of these must be seen at least once.' })),
        absent: k.T.Optional(k.T.Array(k.packetMatch(), { maxItems: 100, default: [], description: 'None of these may be seen.' })),
      },
      {
        additionalProperties: false,
        description: 'Capture packets on an interface while a ping runs.',
        anyOf: [
          { required: ['expect'], properties: { expect: { type: 'array', minItems: 1 } } },
          { required: ['absent'], properties: { absent: { type: 'array', minItems: 1 } } },
        ],
      },
    ),
  resolve: (raw, scope, at): CaptureSpec => {
    scope.iface(raw.on, [...at, 'on']);
    return {
      on: raw.on,
      during: { ping: scope.ping(raw.during.ping, [...at, 'during', 'ping']) },
      expect: (raw.expect ?? []).map((m, j) => scope.match(m, [...at, 'expect', j])),
      absent: (raw.absent ?? []).map((m, j) => scope.match(m, [...at, 'absent', j])),
    };
  },
  footprint: (spec, names) => ({
    nodes: names.nodesOf(spec.on, spec.during.ping.from, spec.during.ping.to),
    captures: [spec.on],
    traffic: [spec.during.ping],
    shared: true,
  }),
  run: async (spec, context, signal): Promise<CaptureObservation> => {
    const { names, runtime } = context;
    // Resolve every name before starting tcpdump: a name the lab cannot resolve is an error, not "not seen".
    const expect = spec.expect.map((m) => resolvePacketMatch(m, names));
    const absent = spec.absent.map((m) => resolvePacketMatch(m, names));
    const target = names.captureTarget(spec.on);
    names.endpoint(spec.during.ping.from);
    names.probeTarget(spec.during.ping.to);
    const [{ captureWhile, captureDeadlineSeconds }, { pingDeadlineSeconds }, { describePacket }] = await Promise.all([
      import('../../probes/capture.js'),
      import('../../probes/ping.js'),
      import('../../pcap/describe.js'),
    ]);
    const deadlineSeconds = captureDeadlineSeconds(pingDeadlineSeconds(spec.during.ping));
    const captured = await captureWhile(runtime, target, () => runPing(context, spec.during.ping, signal), { deadlineSeconds });
    return { expect, absent, captured, summaries: captured.packets.map((p) => describePacket(p.packet)) };
  },
  verdict: (_spec, { expect, absent, captured, summaries }) => {
    const packets = captured.packets.map((p) => p.packet);
    const describePacket = (p: (typeof packets)[number]) => summaries[packets.indexOf(p)] ?? '?';
    const missing = expect.filter((m) => !packets.some((p) => matchesPacket(p, m)));
    const intruders = absent
      .map((m) => ({ match: m, packet: packets.find((p) => matchesPacket(p, m)) }))
      .filter((x) => x.packet !== undefined);
    const matched = expect.map((m) => packets.filter((p) => matchesPacket(p, m)).length);
    const first = expect.length ? packets.find((p) => matchesPacket(p, expect[0]!)) : undefined;
    const seen =
      `${packets.length} packets on ${captured.on}` +
      (expect.length ? `; expected seen ${matched.filter((n) => n > 0).length}/${expect.length}` : '') +
      (first ? `; e.g. ${describePacket(first)}` : '');
    let reason: string | undefined;
    if (missing.length) {
      reason = `not seen on ${captured.on}: ${describeMatch(missing[0]!)}` + (missing.length > 1 ? ` (+${missing.length - 1} more)` : '');
    } else if (intruders.length) {
      reason = `must not appear on ${captured.on} but did: ${describePacket(intruders[0]!.packet!)}`;
    }
    return {
      status: reason ? 'fail' : 'pass',
      seen,
      ...(reason ? { reason } : {}),
      details: {
        on: captured.on,
        ping: captured.during,
        packets: captured.packets.map((p, i) => ({ index: p.index, summary: summaries[i] })),
        expectMatched: expect.map((m, i) => ({ match: describeMatch(m), count: matched[i] })),
        absentSeen: intruders.map((x) => ({ match: describeMatch(x.match), packet: describePacket(x.packet!) })),
      },
    };
  },
});
