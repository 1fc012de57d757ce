// Shared by the kernel-programmed backends (vxlan, host-gw): read actual state, diff with desired,
// apply only the difference (so a restart that finds everything in place changes nothing).

import { type CommandRunner, mustRun } from '../kernel.js';
import type { Logger } from '../log.js';
import { type PeerState, diffPeerState, isEmptyPeerState, peerCommandsArgv, peerRemovalArgv } from '../peer-state.js';

export async function applyPeerState(runner: CommandRunner, log: Logger, desired: PeerState, actual: PeerState): Promise<number> {
  const d = diffPeerState(desired, actual);
  if (isEmptyPeerState(d.add) && isEmptyPeerState(d.remove)) return 0;
  let n = 0;
  for (const argv of peerRemovalArgv(d.remove)) {
    try {
      await mustRun(runner, argv);
      log.info(`removed: ${argv.join(' ')}`);
      n++;
    } catch (e) {
      log.warn(`remove failed (continuing): ${(e as Error).message}`);
    }
  }
  for (const argv of peerCommandsArgv(d.add)) {
    try {
      await mustRun(runner, argv);
      log.info(`programmed: ${argv.join(' ')}`);
      n++;
    } catch (e) {
      log.error(`program failed: ${(e as Error).message}`);
    }
  }
  return n;
}

/** Ensures `ip addr` on dev holds exactly `want` among addresses inside `isManaged` (plus any others untouched). */
export async function ensureAddress(
  runner: CommandRunner,
  log: Logger,
  dev: string,
  have: { ip: string; prefixLen: number }[],
  want: string,
  isManaged: (ip: string) => boolean,
): Promise<number> {
  let n = 0;
  for (const a of have) {
    const s = `${a.ip}/${a.prefixLen}`;
    if (s !== want && isManaged(a.ip)) {
      await mustRun(runner, ['ip', 'addr', 'del', s, 'dev', dev]);
      log.info(`removed stale address: ip addr del ${s} dev ${dev}`);
      n++;
    }
  }
  if (!have.some((a) => `${a.ip}/${a.prefixLen}` === want)) {
    await mustRun(runner, ['ip', 'addr', 'replace', want, 'dev', dev]);
    log.info(`configured: ip addr replace ${want} dev ${dev}`);
    n++;
  }
  return n;
}
