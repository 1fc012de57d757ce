// Address ranges already in use where a new lab would live: Docker networks, other labs'
// underlays, and the machine's own routes (read only; overlab never changes them).
import { execa } from 'execa';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { listLabs, underlaysInUse } from './lab-registry.js';

export async function machineRouteSubnets(): Promise<string[]> {
  try {
    const { stdout } = await execa('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { reject: false });
    const routes = JSON.parse(stdout || '[]') as { dst?: string }[];
    return routes
      .map((r) => r.dst)
      .filter((d): d is string => typeof d === 'string' && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(d))
      .filter((d) => !d.endsWith('/32') && !d.startsWith('127.'));
  } catch {
    return [];
  }
}

export async function takenSubnets(runtime: ContainerRuntime, exceptLab?: string): Promise<string[]> {
  const [networks, labs, routes] = await Promise.all([runtime.listNetworks(), listLabs(runtime), machineRouteSubnets()]);
  return [
    ...networks.flatMap((n) => n.subnets),
    ...underlaysInUse(labs.filter((l) => l.name !== exceptLab)),
    ...routes,
  ];
}
