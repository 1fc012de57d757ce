// ping: one lab member pings another; replies must (or must not) come back.
// (Kinds import what only `run` needs when it runs: `validate` loads schema and resolve alone.)
import type { PingResult } from '../../probes/ping.js';
import type { PingSpec } from '../../lab-spec/lab-spec.js';
import { defineCheckKind, type CheckContext } from '../check-kind.js';
import { evaluatePing } from '../ping-verdict.js';

/** Runs a check's ping where the spec says (shared by the kinds that generate traffic). */
export async function runPing(context: CheckContext, spec: PingSpec, signal?: AbortSignal): Promise<PingResult> {
  const { runtime, names } = context;
  if (context.probe) return context.probe(spec, signal);
  const { ping } = await import('../../probes/ping.js');
  return ping(runtime, names.endpoint(spec.from), names.probeTarget(spec.to), { count: spec.count, expect: spec.expect, ...(signal ? { signal } : {}) });
}

export const pingKind = defineCheckKind({
  key: 'ping',
  label: 'ping',
  summary: 'ping: {from, to}',
  schema: (k) => k.ping(),
  resolve: (raw, scope, at) => scope.ping(raw, at),
  // Shared: a capture whose `during` is this very ping watches this check's traffic, so the two
  // run together on one probe instead of one after the other.
  footprint: (spec, names) => ({ nodes: names.nodesOf(spec.from, spec.to), captures: [], traffic: [spec], shared: true }),
  run: (spec, context, signal) => runPing(context, spec, signal),
  verdict: (spec, result) => {
    const v = evaluatePing(result, spec.expect);
    return { ...v, details: { ping: result } };
  },
});
