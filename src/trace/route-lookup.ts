// Which route the kernel takes for a destination: the longest prefix of the namespace's main
// table (what `ip route get` answers when no policy rule interferes; route-get.ts asks the kernel
// itself). Pure.
import { cidrContains } from '../shared/ipv4.js';
import type { NamespaceState, RouteState } from './kernel-snapshot.js';
import type { RouteDecision } from './route-get.js';

function prefixOf(dst: string): number {
  if (dst === 'default') return 0;
  const slash = dst.indexOf('/');
  return slash < 0 ? 32 : Number(dst.slice(slash + 1));
}

function covers(route: RouteState, ip: string): boolean {
  if (route.dst === 'default') return true;
  return cidrContains(route.dst.includes('/') ? route.dst : `${route.dst}/32`, ip);
}

/** Longest-prefix match over the main table; local addresses first, as the local table would. */
export function lookupRoute(ns: NamespaceState, dst: string): RouteDecision {
  if (ns.links.some((l) => l.addresses.some((a) => a.ip === dst))) return { kind: 'local', dev: 'lo' };
  let best: RouteState | undefined;
  for (const route of ns.routes) {
    if (!covers(route, dst)) continue;
    if (!best || prefixOf(route.dst) > prefixOf(best.dst)) best = route;
  }
  if (!best) return { kind: 'none' };
  if (best.type && best.type !== 'unicast') return { kind: 'unreachable', matched: best.dst };
  return {
    kind: 'unicast',
    ...(best.dev ? { dev: best.dev } : {}),
    ...(best.gateway ? { gateway: best.gateway } : {}),
    onlink: best.onlink,
    ...(best.prefsrc ? { prefsrc: best.prefsrc } : {}),
    matched: best.dst,
  };
}
