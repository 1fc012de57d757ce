// Read one BGP node's state: what BIRD says of its sessions (`birdc show protocols all`) and the
// routes in its kernel (`ip -j route`), both argv execs. The judgement is bgp-verdict.ts.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { parseBirdProtocols } from './birdc-output.js';
import { parseKernelRoutes, type BgpObservation } from './bgp-verdict.js';

export const BIRDC_PROTOCOLS_ARGV: readonly string[] = ['birdc', 'show', 'protocols', 'all'];
export const IP_ROUTES_ARGV: readonly string[] = ['ip', '-j', '-4', 'route', 'show'];

export async function readBgpState(runtime: ContainerRuntime, container: string, signal?: AbortSignal): Promise<BgpObservation> {
  const options = signal ? { signal } : {};
  const [birdc, routes] = await Promise.all([runtime.exec(container, [...BIRDC_PROTOCOLS_ARGV], options), runtime.exec(container, [...IP_ROUTES_ARGV], options)]);
  // birdc's own complaint; a session's "Socket: Connection refused" is BIRD answering
  const said = `${birdc.stdout}\n${birdc.stderr}`.trim().split('\n').find((l) => l.startsWith('Unable to connect to server control socket'));
  return {
    birdc: birdc.exitCode === 0 && !said ? { ok: true } : { ok: false, error: said ?? (birdc.stderr.trim().split('\n')[0] || `birdc exit ${birdc.exitCode}`) },
    protocols: parseBirdProtocols(birdc.stdout),
    routes: parseKernelRoutes(routes.stdout),
  };
}
