// trace: one marked packet followed hop by hop (src/trace/) must be delivered — or dropped where
// the spec says — crossing the named interfaces in order. Pins the path in one line, so a lab
// that "works" some other way does not pass.
import type { TraceCheckSpec } from '../../lab-spec/lab-spec.js';
import { defineCheckKind } from '../check-kind.js';
import type { TraceResult } from '../../trace/trace-result.js';
import { evaluateTrace } from '../../trace/trace-check.js';

export const traceKind = defineCheckKind({
  key: 'trace',
  label: 'trace',
  summary: 'trace: {from, to, expect, via, dropAt}',
  schema: (k) =>
    k.T.Object(
      {
        from: k.ref('Where the probe starts: a host, host/pod or external node.'),
        to: k.ref('Where it goes: a host, host/pod, external node, or a literal IPv4 address inside the lab.'),
        expect: k.T.Optional(k.T.Union([k.T.Literal('delivered'), k.T.Literal('dropped')], { description: 'delivered (default) or dropped.' })),
        via: k.T.Optional(k.T.Array(k.ref('An interface the probe must cross: host:iface or host/pod:iface.'), { description: 'Interfaces the probe must cross, in this order.' })),
        dropAt: k.T.Optional(k.ref('Where the probe must stop: a node, or an interface host:iface.')),
        proto: k.T.Optional(k.T.Union([k.T.Literal('icmp'), k.T.Literal('udp'), k.T.Literal('tcp')], { description: 'The probe: icmp (default), udp or tcp.' })),
        port: k.T.Optional(k.port('Destination port of a udp or tcp probe.')),
        size: k.T.Optional(k.T.Integer({ minimum: 28, maximum: 9000, description: 'IPv4 total length of the probe, bytes.' })),
      },
      { additionalProperties: false, description: 'One marked probe followed through every interface it crosses (`overlab trace`), with where it must (or must not) arrive.' },
    ),
  resolve: (raw, scope, at): TraceCheckSpec => {
    const { from, to } = scope.ping({ from: raw.from, to: raw.to }, at);
    (raw.via ?? []).forEach((v, i) => scope.iface(v, [...at, 'via', i]));
    if (raw.dropAt !== undefined) {
      const r = scope.ref(raw.dropAt, [...at, 'dropAt']);
      if (r && (r.kind === 'ip' || r.kind === 'mac' || r.kind === 'pod'))
        scope.err([...at, 'dropAt'], `"${raw.dropAt}" is not a node or an interface; a drop happens at a node ("router") or an interface ("host1:flannel.1").`);
      else if (r) scope.exists(r, [...at, 'dropAt'], raw.dropAt);
    }
    const expect = raw.expect ?? (raw.dropAt !== undefined ? 'dropped' : 'delivered');
    if (expect === 'delivered' && raw.dropAt !== undefined) scope.err([...at, 'dropAt'], 'dropAt names where a dropped probe stops, but expect is delivered.', 'Set expect: dropped, or remove dropAt.');
    return {
      from,
      to,
      expect,
      ...(raw.via ? { via: raw.via } : {}),
      ...(raw.dropAt !== undefined ? { dropAt: raw.dropAt } : {}),
      proto: raw.proto ?? 'icmp',
      ...(raw.port !== undefined ? { port: raw.port } : {}),
      ...(raw.size !== undefined ? { size: raw.size } : {}),
    };
  },
  footprint: (spec, names) => ({ nodes: names.nodesOf(spec.from, spec.to), captures: ['*'], traffic: [{ from: spec.from, to: spec.to }] }),
  run: async (spec, { runtime, lab }, signal): Promise<TraceResult> => {
    const { traceLab, DEFAULT_TRACE_OPTIONS } = await import('../../trace/trace-lab.js');
    const run = await traceLab(
      runtime,
      lab,
      spec.from,
      spec.to,
      { ...DEFAULT_TRACE_OPTIONS, proto: spec.proto, ...(spec.port !== undefined ? { port: spec.port } : {}), ...(spec.size !== undefined ? { size: spec.size } : {}) },
      signal,
    );
    return run.result;
  },
  verdict: (spec, run) => ({ ...evaluate(run, spec), details: { trace: run } }),
});

function evaluate(run: TraceResult, spec: TraceCheckSpec) {
  return evaluateTrace(run, { from: spec.from, to: spec.to, expect: spec.expect, ...(spec.via ? { via: spec.via } : {}), ...(spec.dropAt !== undefined ? { dropAt: spec.dropAt } : {}) });
}
