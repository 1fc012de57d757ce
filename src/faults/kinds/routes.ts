// del-route and reroute: a route goes missing, or points at the wrong next hop (host-gw by hand,
// a VXLAN route, a pod's default route).
import { inputError } from '../../base/errors.js';
import { cidrContains, cidrOf, intToIp, isValidIpv4, parseCidr } from '../../shared/ipv4.js';
import { defineFaultKind, type ApplyContext } from '../fault-kind.js';
import { namespaceKey, type Namespace } from '../namespace.js';
import { routeArgs } from '../restore-plan.js';
import type { RouteEntry } from '../snapshot.js';
import { cidrArg, expectArgs } from '../values.js';
import { namespaceOf, resolveNodeOrPod, run, stateOf } from './targets.js';
import { tolerated } from '../../base/debug-log.js';

export interface DelRouteSpec {
  on: string;
  dst: string;
}

export interface RerouteSpec {
  on: string;
  dst: string;
  /** The wrong next hop: an address, or a lab member whose address it is. */
  via: string;
}

/** `ip -j route` prints a /32 without its prefix and 0.0.0.0/0 as "default". */
export function sameDestination(routeDst: string, dst: string): boolean {
  if (dst === 'default' || dst === '0.0.0.0/0') return routeDst === 'default';
  const c = parseCidr(dst);
  if (!c) return false;
  const text = `${intToIp(c.network)}/${c.prefix}`;
  return routeDst === text || (c.prefix === 32 && routeDst === intToIp(c.network));
}

function routesTo(context: ApplyContext, ns: Namespace, dst: string, on: string): RouteEntry[] {
  const routes = stateOf(context, ns).routes;
  const found = routes.filter((r) => sameDestination(r.dst, dst));
  if (!found.length) {
    throw inputError(`${on} has no route to ${dst}`, `its routes: ${routes.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`).join('; ') || 'none'}`);
  }
  return found;
}

const destination = (k: Parameters<Parameters<typeof defineFaultKind>[0]['schema']>[0]) =>
  k.T.Union([k.cidr(), k.T.Literal('default')], { description: 'The route\'s destination: a network in CIDR notation, or default.' });

export const delRouteKind = defineFaultKind({
  key: 'del-route',
  summary: 'del-route: {on, dst}',
  args: '<node> <prefix>',
  help: 'delete a route (to a prefix, or default) on a node or pod',
  schema: (k) =>
    k.T.Object({ on: k.ref('Where the route is: a host, host/pod or external node.'), dst: destination(k) }, { additionalProperties: false, description: 'Delete a route.' }),
  fromArgs: (args) => {
    expectArgs('del-route', '<node> <prefix>', args, 2);
    return { on: args[0]!, dst: cidrArg('del-route', args[1]!) };
  },
  resolve: (raw, scope, at): DelRouteSpec => {
    resolveNodeOrPod(scope, raw.on, [...at, 'on']);
    return { on: raw.on, dst: raw.dst };
  },
  describe: (spec) => `${spec.on} has no route to ${spec.dst}`,
  nodes: (spec, lab) => [namespaceOf(lab, spec.on).node],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.on)],
  apply: async (spec, context) => {
    const ns = namespaceOf(context.lab, spec.on);
    for (const r of routesTo(context, ns, spec.dst, spec.on)) await run(context, ns, ['ip', 'route', 'del', ...routeArgs(r)]);
    return undefined;
  },
});

export const rerouteKind = defineFaultKind({
  key: 'reroute',
  summary: 'reroute: {on, dst, via}',
  args: '<node> <prefix> <via>',
  help: 'point a route at the wrong next hop (an address or a lab member)',
  schema: (k) =>
    k.T.Object(
      {
        on: k.ref('Where the route is: a host, host/pod or external node.'),
        dst: destination(k),
        via: k.ref('The wrong next hop: an IPv4 address, or a lab member (its address).'),
      },
      { additionalProperties: false, description: 'Point a route at the wrong next hop.' },
    ),
  fromArgs: (args) => {
    expectArgs('reroute', '<node> <prefix> <via>', args, 3);
    return { on: args[0]!, dst: cidrArg('reroute', args[1]!), via: args[2]! };
  },
  resolve: (raw, scope, at): RerouteSpec => {
    resolveNodeOrPod(scope, raw.on, [...at, 'on']);
    const via = scope.ref(raw.via, [...at, 'via']);
    if (via && via.kind !== 'ip') {
      if (via.kind === 'mac' || via.kind === 'iface') scope.err([...at, 'via'], `"${raw.via}" is not a next hop; name an address or a lab member.`);
      else scope.exists(via, [...at, 'via'], raw.via);
    }
    return { on: raw.on, dst: raw.dst, via: raw.via };
  },
  describe: (spec) => `${spec.on} routes ${spec.dst} via ${spec.via}`,
  nodes: (spec, lab) => [namespaceOf(lab, spec.on).node],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.on)],
  apply: async (spec, context) => {
    const ns = namespaceOf(context.lab, spec.on);
    const via = isValidIpv4(spec.via) ? spec.via : context.names.ip(spec.via);
    if (!context.names.isInsideLab(via)) throw inputError(`reroute: ${via} is outside lab ${context.lab.name}`, 'a next hop must be a lab address');
    const old = routesTo(context, ns, spec.dst, spec.on);
    if (old.some((r) => r.gateway === via)) throw inputError(`${spec.on} already routes ${spec.dst} via ${via}`, 'name another next hop');
    for (const r of old) await run(context, ns, ['ip', 'route', 'del', ...routeArgs(r)]);
    const dst = old[0]!.dst;
    // A next hop on a connected network is reached directly; any other is forced out of eth0.
    const onLink = stateOf(context, ns).addrs.some((a) => a.prefixlen < 32 && cidrContains(cidrOf(a.local, a.prefixlen), via));
    try {
      await run(context, ns, ['ip', 'route', 'add', dst, 'via', via, ...(onLink ? [] : ['onlink', 'dev', 'eth0'])]);
    } catch (error) {
      for (const r of old) await run(context, ns, ['ip', 'route', 'add', ...routeArgs(r)]).catch(tolerated('faults', `put back the route to ${r.dst} in ${namespaceKey(ns)}`));
      throw inputError(`${namespaceKey(ns)} cannot route ${spec.dst} via ${via}: ${(error as Error).message}`);
    }
    return undefined;
  },
});
