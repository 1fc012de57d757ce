// The agent's own devices (flannel.<VNI>, flannel0, the pod bridge) in as few processes as the
// kernel allows: one `ip -j -d addr show dev X` reads a device with its addresses, and one
// `ip -batch -` applies what differs (MTU, address, up, whole-network routes). At 64 hosts
// starting at once every process costs, so a restart that finds everything in place runs none.

import { runBatch } from './kernel-batch.js';
import { type CommandRunner, CommandError, readQuiet } from './kernel.js';
import { type LinkInfo, parseLink } from '../shared/kernel-state.js';
import type { Logger } from './log.js';

/** The device with its IPv4 addresses, or null when it does not exist. */
export async function readLink(runner: CommandRunner, dev: string): Promise<LinkInfo | null> {
  const text = await readQuiet(runner, ['ip', '-j', '-d', 'addr', 'show', 'dev', dev]);
  return text.trim() ? parseLink(text, text) : null;
}

/** argv lists that leave `want` as the only address of `dev` among those `isManaged` says are ours. */
export function addressCommands(dev: string, have: { ip: string; prefixLen: number }[], want: string, isManaged: (ip: string) => boolean): string[][] {
  const out: string[][] = [];
  for (const a of have) {
    const s = `${a.ip}/${a.prefixLen}`;
    if (s !== want && isManaged(a.ip)) out.push(['ip', 'addr', 'del', s, 'dev', dev]);
  }
  if (!have.some((a) => `${a.ip}/${a.prefixLen}` === want)) out.push(['ip', 'addr', 'replace', want, 'dev', dev]);
  return out;
}

export interface DeviceWant {
  mtu?: number;
  /** `<ip>/<len>`, the one managed address. */
  address?: string;
  isManaged?: (ip: string) => boolean;
  up?: boolean;
}

/** argv lists that bring `link` to what `want` says (nothing when it already is). */
export function deviceCommands(link: LinkInfo, want: DeviceWant): string[][] {
  const out: string[][] = [];
  if (want.mtu !== undefined && link.mtu !== want.mtu) out.push(['ip', 'link', 'set', link.name, 'mtu', String(want.mtu)]);
  if (want.address) out.push(...addressCommands(link.name, link.addresses, want.address, want.isManaged ?? (() => false)));
  if (want.up && !link.up) out.push(['ip', 'link', 'set', link.name, 'up']);
  return out;
}

/** Runs `ip` commands in one batch, logs each as configured, and throws on the first failure. */
export async function configure(runner: CommandRunner, log: Logger, commands: string[][]): Promise<void> {
  const r = await runBatch(runner, 'ip', commands);
  for (const argv of r.done) log.info(`configured: ${argv.join(' ')}`);
  const f = r.failed[0];
  if (f) throw new CommandError(f.argv, { code: 1, stdout: '', stderr: f.error });
}
