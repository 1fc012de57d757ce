// Address ranges already in use where a new lab would live: Docker networks, other labs'
// underlays, and the machine's own routes (read only; overlab never changes them).
import { execFile } from 'node:child_process';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { listLabs, underlaysInUse } from './engine-labs.js';
import { debugLog } from '../base/debug-log.js';

/** The machine's IPv4 routes (node:child_process, not execa: its import alone costs `up` a
 * noticeable part of its start-up). Ctrl-C ends the `ip` process too. */
export function machineRouteSubnets(signal?: AbortSignal): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { timeout: 5_000, ...(signal ? { signal } : {}) }, (error, stdout) => {
      if (error) {
        debugLog('lab', 'read the machine\'s routes (ip -j route; they are not counted as taken)', error);
        return resolve([]);
      }
      try {
        const routes = JSON.parse(stdout || '[]') as { dst?: string }[];
        resolve(
          routes
            .map((r) => r.dst)
            .filter((d): d is string => typeof d === 'string' && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(d))
            .filter((d) => !d.endsWith('/32') && !d.startsWith('127.')),
        );
      } catch (parseError) {
        debugLog('lab', 'read the machine\'s routes (ip -j route printed no JSON; they are not counted as taken)', parseError);
        resolve([]);
      }
    });
  });
}

export async function takenSubnets(runtime: ContainerRuntime, exceptLab?: string, signal?: AbortSignal): Promise<string[]> {
  const [networks, labs, routes] = await Promise.all([runtime.listNetworks(signal ? { signal } : {}), listLabs(runtime), machineRouteSubnets(signal)]);
  return [
    ...networks.flatMap((n) => n.subnets),
    ...underlaysInUse(labs.filter((l) => l.name !== exceptLab)),
    ...routes,
  ];
}
