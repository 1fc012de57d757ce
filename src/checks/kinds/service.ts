// service: N requests to a Service — its ClusterIP from a pod or host, or a NodePort from
// anywhere on the underlay — every one answered by one of its endpoints, every endpoint
// answering, the spread what kube-proxy's rules promise (within a binomial range, α = 1e-6); or,
// for a Service without endpoints, every request refused at once. With the DNAT counters that
// grew and conntrack's flows as evidence.
import { defineCheckKind } from '../check-kind.js';
import type { ServiceCheckSpec } from '../service-observe.js';
import { judgeService, type ServiceObservation } from '../service-verdict.js';
import { minimumRequests } from '../service-spread.js';

export const DEFAULT_SERVICE_REQUESTS = 300;
export const DEFAULT_REFUSED_REQUESTS = 5;

export const serviceKind = defineCheckKind({
  key: 'service',
  label: 'service',
  summary: 'service: {from, to, via, node, requests, expect}',
  schema: (k) =>
    k.T.Object(
      {
        from: k.ref('Who asks: a pod (host/pod), a host, or an external node (with via: nodePort).'),
        to: k.T.String({
          pattern: '^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?/)?[a-z](?:[-a-z0-9]*[a-z0-9])?(?::[a-z0-9-]+)?$',
          maxLength: 160,
          description: 'The Service: <name>, <name>:<port name> or <namespace>/<name>[:<port name>].',
        }),
        via: k.T.Optional(k.stringEnum(['clusterIP', 'nodePort'] as const, { default: 'clusterIP', description: 'Through its ClusterIP (default) or a NodePort on a host.' })),
        node: k.T.Optional(k.nodeName('via nodePort: the host whose address is asked (default: the first host).')),
        requests: k.T.Optional(k.T.Integer({ minimum: 1, maximum: 10000, description: `How many requests, each a new flow (default ${DEFAULT_SERVICE_REQUESTS}; ${DEFAULT_REFUSED_REQUESTS} when expecting refused).` })),
        expect: k.T.Optional(
          k.stringEnum(['balanced', 'refused'] as const, {
            description: 'balanced: every endpoint answers, spread as the rules promise (default when the Service has endpoints); refused: every request refused at once (default when it has none).',
          }),
        ),
      },
      { additionalProperties: false, description: 'Requests through a Service: who answers, how they spread, or that they are refused.' },
    ),
  resolve: (raw, scope, at): ServiceCheckSpec => {
    const via = raw.via ?? 'clusterIP';
    const from = scope.ref(raw.from, [...at, 'from']);
    if (from) {
      if (from.kind === 'ip' || from.kind === 'mac' || from.kind === 'iface') scope.err([...at, 'from'], `"${raw.from}" cannot ask: use a pod (host/pod), a host or an external node.`);
      else scope.exists(from, [...at, 'from'], raw.from);
      if (from.kind === 'node' && via === 'clusterIP') scope.err([...at, 'from'], `"${raw.from}" is an external node: a ClusterIP is reachable only from the cluster's hosts and pods.`, 'Use via: nodePort (and node: <host>).');
    }
    const found = scope.service(raw.to, [...at, 'to']);
    if (found && via === 'nodePort' && found.service.type !== 'NodePort') scope.err([...at, 'via'], `Service "${found.service.name}" is ${found.service.type}: it has no NodePort.`, 'Make it type: NodePort, or use via: clusterIP.');
    if (raw.node !== undefined) {
      if (via !== 'nodePort') scope.err([...at, 'node'], 'node is for via: nodePort (the host whose address is asked).', undefined, 'key');
      else scope.hostRef(raw.node, [...at, 'node']);
    }
    const expect = raw.expect ?? (found && found.service.endpoints.length === 0 ? 'refused' : 'balanced');
    if (found && expect === 'balanced' && raw.requests !== undefined) {
      const least = minimumRequests(found.service.endpoints.length);
      if (raw.requests < least)
        scope.err([...at, 'requests'], `${raw.requests} requests are too few to say every one of ${found.service.endpoints.length} endpoints answers: one would stay silent by chance too often.`, `Use at least ${least} (the chance that a correct Service fails is then below 1e-6).`);
    }
    if (found && expect === 'balanced' && found.service.endpoints.length === 0) scope.err([...at, 'expect'], `Service "${found.service.name}" has no endpoints: nothing can answer.`, 'Use expect: refused (the default for a Service without endpoints).');
    return {
      from: raw.from,
      to: raw.to,
      via,
      ...(raw.node !== undefined ? { node: raw.node } : {}),
      requests: raw.requests ?? (expect === 'refused' ? DEFAULT_REFUSED_REQUESTS : Math.max(DEFAULT_SERVICE_REQUESTS, minimumRequests(found?.service.endpoints.length ?? 1))),
      expect,
    };
  },
  // Its requests cross the asking node, the translating node and every endpoint's host: it runs
  // alone (no traffic list), so no capture sees its hundreds of flows and no other probe skews them.
  footprint: (spec, names) => ({ nodes: [...new Set([...names.nodesOf(spec.from), ...names.lab.hosts.map((h) => h.name)])], captures: [] }),
  run: async (spec, { runtime, lab, names }, signal): Promise<ServiceObservation> => {
    const { observeService } = await import('../service-observe.js');
    return observeService(runtime, lab, names, spec, signal);
  },
  verdict: (spec, o) => {
    const v = judgeService(o, spec.expect);
    const evidence = o.flows.length ? `; conntrack: ${o.flows[0]}` : '';
    return {
      status: v.status,
      seen: `${v.seen}${evidence}`,
      ...(v.reason ? { reason: v.reason } : {}),
      details: { service: o, ...(v.spread ? { spread: v.spread } : {}) },
    };
  },
});
