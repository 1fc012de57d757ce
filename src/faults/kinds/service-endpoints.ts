// Faults of a Service's endpoints, as a cluster gets them: no-endpoints (every endpoint — or the
// named ones — gone from the EndpointSlice, and kube-proxy syncing every host: the Service's
// chains go, a REJECT stands in their place) and stale-endpoint (a pod moved to another address,
// and kube-proxy never heard: its rules still send to the old one). clear puts the rules (or the
// pod's address) back exactly.
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs } from '../values.js';
import { namespaceOf, run, stateOf } from './targets.js';
import type { ResolvedLab } from '../../plan/resolved-lab.js';
import { intToIp, ipToInt, parseCidr, broadcastOf } from '../../shared/ipv4.js';
import type { AddrEntry, RouteEntry } from '../snapshot.js';
import { routeArgs } from '../restore-plan.js';
import type { FaultContext } from '../fault-kind.js';
import type { Namespace } from '../namespace.js';

export interface NoEndpointsSpec {
  service: string;
  /** Only these endpoints go (host/pod); absent: all of them. */
  endpoints?: string[];
}

export interface StaleEndpointSpec {
  pod: string;
}

export interface StaleEndpointUndo {
  pod: string;
  /** The pod's IPv4 address and the routes it had (they go with the address and come back with it). */
  addr: AddrEntry;
  routes: RouteEntry[];
}

function requireKubeProxy(lab: ResolvedLab, kind: string): void {
  if (!lab.services) throw inputError(`${kind}: lab ${lab.name} has no Services`, 'this fault breaks what kube-proxy programs; it needs a lab with services:');
  if (lab.services.proxyMode === 'ipvs') throw inputError(`${kind}: lab ${lab.name} runs kube-proxy in ipvs mode`, 'use proxyMode: iptables or nftables');
}

function serviceNamed(lab: ResolvedLab, text: string) {
  const m = /^(?:([a-z0-9-]+)\/)?([a-z0-9-]+)$/.exec(text);
  const svc = m ? lab.services?.services.find((s) => s.name === m[2] && (m[1] === undefined || s.namespace === m[1])) : undefined;
  if (!svc) throw inputError(`lab ${lab.name} has no Service "${text}"`, `its Services: ${(lab.services?.services ?? []).map((s) => s.name).join(', ') || 'none'}`);
  return svc;
}

const hostNamespaces = (lab: ResolvedLab) => lab.hosts.map((h) => namespaceOf(lab, h.name));

export const noEndpointsKind = defineFaultKind({
  key: 'no-endpoints',
  summary: 'no-endpoints: {service, endpoints}',
  args: '<service> [<host>/<pod>…]',
  help: "take a Service's endpoints away (all, or the pods named): kube-proxy rewrites every host, REJECT instead of DNAT",
  schema: (k) =>
    k.T.Object(
      {
        service: k.T.String({ pattern: '^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?/)?[a-z](?:[-a-z0-9]*[a-z0-9])?$', maxLength: 128, description: 'The Service: <name> or <namespace>/<name>.' }),
        endpoints: k.T.Optional(k.T.Array(k.podRef(), { minItems: 1, maxItems: 64, description: 'Only these endpoints go (default: all).' })),
      },
      { additionalProperties: false, description: "Remove a Service's endpoints; kube-proxy's rules on every host follow." },
    ),
  fromArgs: (args) => {
    if (args.length < 1) expectArgs('no-endpoints', '<service> [<host>/<pod>…]', args, 1, 64);
    return { service: args[0]!, ...(args.length > 1 ? { endpoints: args.slice(1) } : {}) };
  },
  resolve: (raw, scope, at): NoEndpointsSpec => {
    const found = scope.service(raw.service, [...at, 'service']);
    (raw.endpoints ?? []).forEach((e, i) => {
      if (found && !found.service.endpoints.includes(e)) scope.err([...at, 'endpoints', i], `${e} is not an endpoint of "${found.service.name}".`, `Its endpoints: ${found.service.endpoints.join(', ') || 'none'}.`);
    });
    return { service: raw.service, ...(raw.endpoints ? { endpoints: raw.endpoints } : {}) };
  },
  describe: (spec) => (spec.endpoints ? `${spec.service} lost endpoints ${spec.endpoints.join(', ')}` : `${spec.service} has no endpoints`),
  nodes: (_spec, lab) => lab.hosts.map((h) => h.name),
  namespaces: (_spec, lab) => hostNamespaces(lab),
  apply: async (spec, context) => {
    requireKubeProxy(context.lab, 'no-endpoints');
    const svc = serviceNamed(context.lab, spec.service);
    const gone = spec.endpoints ?? svc.endpoints;
    if (svc.endpoints.length === 0) throw inputError(`${spec.service} has no endpoints already`, 'nothing to take away');
    const { proxyServicePorts } = await import('../../plan/service-plan.js');
    const { resyncServices } = await import('../../deploy/service-phase.js');
    const lab: ResolvedLab = {
      ...context.lab,
      services: {
        ...context.lab.services!,
        services: context.lab.services!.services.map((s) => (s === svc ? { ...s, endpoints: s.endpoints.filter((e) => !gone.includes(e)) } : s)),
      },
    };
    await resyncServices(context.runtime, context.lab, proxyServicePorts(lab), context.signal);
    return undefined;
  },
});

/** The address a moved pod gets: the highest one of its host's subnet no pod of the lab holds. */
export function movedAddress(lab: ResolvedLab, hostName: string, podName: string): { ip: string; prefixLen: number; gateway: string } {
  const host = lab.hosts.find((h) => h.name === hostName)!;
  const pod = host.pods.find((p) => p.name === podName)!;
  const subnet = parseCidr(host.networks.find((n) => n.network === pod.network)!.subnet)!;
  const taken = new Set(lab.hosts.flatMap((h) => h.pods.map((p) => ipToInt(p.ip))));
  for (let n = broadcastOf(subnet) - 1; n > subnet.network + 1; n--) if (!taken.has(n)) return { ip: intToIp(n), prefixLen: pod.prefixLen, gateway: pod.gateway };
  throw inputError(`${hostName}'s subnet has no free address for ${podName} to move to`);
}

export const staleEndpointKind = defineFaultKind({
  key: 'stale-endpoint',
  summary: 'stale-endpoint: {pod}',
  args: '<host>/<pod>',
  help: "move an endpoint pod to another address without telling kube-proxy: the rules still DNAT to the old one",
  schema: (k) => k.T.Object({ pod: k.podRef('The endpoint pod that moves.') }, { additionalProperties: false, description: "Move an endpoint pod to a new address; kube-proxy's rules keep the old one." }),
  fromArgs: (args) => {
    expectArgs('stale-endpoint', '<host>/<pod>', args, 1);
    return { pod: args[0]! };
  },
  resolve: (raw, scope, at): StaleEndpointSpec => {
    const r = scope.ref(raw.pod, [...at, 'pod']);
    if (r) scope.exists(r, [...at, 'pod'], raw.pod);
    if (scope.services.length && !scope.services.some((s) => s.endpoints.includes(raw.pod)))
      scope.err([...at, 'pod'], `${raw.pod} is no Service's endpoint: moving it leaves no rule stale.`, `Endpoints: ${[...new Set(scope.services.flatMap((s) => s.endpoints))].join(', ') || 'none'}.`);
    return { pod: raw.pod };
  },
  describe: (spec) => `${spec.pod} moved to another address; kube-proxy's rules still name the old one`,
  nodes: (spec) => [spec.pod.split('/')[0]!],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.pod)],
  apply: async (spec, context): Promise<StaleEndpointUndo> => {
    requireKubeProxy(context.lab, 'stale-endpoint');
    const [hostName, podName] = spec.pod.split('/') as [string, string];
    const pod = context.lab.hosts.find((h) => h.name === hostName)?.pods.find((p) => p.name === podName);
    if (!pod) throw inputError(`lab ${context.lab.name} has no pod ${spec.pod}`);
    const ns = namespaceOf(context.lab, spec.pod);
    const state = stateOf(context, ns);
    const addr = state.addrs.find((a) => a.ifname === 'eth0' && a.local === pod.ip);
    if (!addr) throw inputError(`${spec.pod} is not at ${pod.ip} any more: it has moved already`, '`overlab fault ls <lab>` shows the active faults');
    const routes = state.routes.filter((r) => r.dev === 'eth0' && r.protocol !== 'kernel');
    const to = movedAddress(context.lab, hostName, podName);
    await readdress(context, ns, { ...addr, local: to.ip, ...(addr.broadcast ? { broadcast: addr.broadcast } : {}) }, routes);
    return { pod: spec.pod, addr, routes };
  },
  // The address back in one go (adding it beside the new one would make one of them a secondary
  // the kernel drops with the other); the generic restore then finds nothing left to do.
  undo: async (_spec, data, context) => {
    await readdress(context, namespaceOf(context.lab, data.pod), data.addr, data.routes);
  },
});

/** eth0's IPv4 address replaced (IPv6 and the link left alone), and its routes put back. */
async function readdress(context: FaultContext, ns: Namespace, addr: AddrEntry, routes: readonly RouteEntry[]): Promise<void> {
  await run(context, ns, ['ip', '-4', 'addr', 'flush', 'dev', 'eth0']);
  await run(context, ns, ['ip', 'addr', 'add', `${addr.local}/${addr.prefixlen}`, ...(addr.broadcast ? ['brd', addr.broadcast] : []), 'dev', 'eth0']);
  for (const r of routes) await run(context, ns, ['ip', 'route', 'replace', ...routeArgs(r)]);
}
