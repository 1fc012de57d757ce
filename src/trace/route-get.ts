// The kernel's own answer to where a packet goes: `ip route get` asked in a namespace, by one
// fixed script per container (values only as "$@"), and its answers parsed. Pure but the script.
export interface RouteDecision {
  kind: 'unicast' | 'local' | 'unreachable' | 'none';
  dev?: string;
  gateway?: string;
  onlink?: boolean;
  prefsrc?: string;
  /** The route that matched ("172.16.2.0/24", "default"), when one did. */
  matched?: string;
  /** What the kernel itself answered to `ip route get`, when it was asked. */
  kernel?: string;
}

/** One `ip route get` a trace asks a namespace: output lookup (no iif) or input lookup. */
export interface RouteQuery {
  ns: string;
  dst: string;
  src?: string;
  iif?: string;
}

export function routeQueryKey(q: RouteQuery): string {
  return `${q.ns}|${q.dst}|${q.src ?? '-'}|${q.iif ?? '-'}`;
}

export function describeRouteQuery(q: RouteQuery): string {
  return `ip route get ${q.dst}${q.src ? ` from ${q.src}` : ''}${q.iif ? ` iif ${q.iif}` : ''}`;
}

/** Pure: one answer of the route-get script (JSON on success, RTNETLINK text on failure). */
export function parseRouteGet(text: string): RouteDecision {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const [r] = JSON.parse(trimmed) as { type?: string; dev?: string; gateway?: string; flags?: string[]; prefsrc?: string }[];
      if (!r) return { kind: 'none', kernel: trimmed };
      const kernel = `${r.type === 'local' ? 'local ' : ''}${r.gateway ? `via ${r.gateway} ` : ''}dev ${r.dev ?? '?'}`;
      if (r.type === 'local') return { kind: 'local', dev: r.dev ?? 'lo', kernel };
      if (r.type && r.type !== 'unicast') return { kind: 'unreachable', kernel: r.type };
      return {
        kind: 'unicast',
        ...(r.dev ? { dev: r.dev } : {}),
        ...(r.gateway ? { gateway: r.gateway } : {}),
        onlink: (r.flags ?? []).includes('onlink'),
        ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
        kernel,
      };
    } catch {
      return { kind: 'none', kernel: trimmed };
    }
  }
  const message = trimmed.replace(/^RTNETLINK answers:\s*/, '') || 'no answer';
  return { kind: /unreachable/i.test(message) ? 'none' : 'unreachable', kernel: message };
}

/** The fixed route-get script: arguments come in fours (netns or "-", dst, src or "-", iif or "-"). */
export const ROUTE_GET_SCRIPT = [
  'q() { ns=$1; shift; if [ "$ns" = - ]; then ip -j route get "$@"; else ip -n "$ns" -j route get "$@"; fi; }',
  'while [ $# -ge 4 ]; do',
  '  echo "@@q"',
  '  if [ "$3" = - ]; then q "$1" "$2" 2>&1',
  '  elif [ "$4" = - ]; then q "$1" "$2" from "$3" 2>&1',
  '  else q "$1" "$2" from "$3" iif "$4" 2>&1; fi',
  '  shift 4',
  'done',
  'true',
].join('\n');

export function routeGetArgs(queries: { netns?: string; dst: string; src?: string; iif?: string }[]): string[] {
  return queries.flatMap((q) => [q.netns ?? '-', q.dst, q.src ?? '-', q.iif && q.src ? q.iif : '-']);
}

export function parseRouteGetOutput(output: string): RouteDecision[] {
  return output
    .split('@@q')
    .slice(1)
    .map((chunk) => parseRouteGet(chunk));
}
