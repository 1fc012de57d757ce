// Shared by the kernel-programmed backends (vxlan, host-gw): converge the per-peer kernel state —
// desired (from the accepted leases) against actual — and apply only the difference, in batches:
// one `bridge -batch -` and one `ip -batch -` per sync, however many peers changed — written to
// long-lived batch processes where the runner keeps them (batch-session.ts). A full sync
// reads the kernel (`ip -j`, `bridge -j`); an incremental one (a lease came or went) diffs against
// what the last successful sync left, so a watch event costs no reads. A failed command makes the
// next sync a full one. Only commands whose every word passed the batch token check are run.

import { type BatchResult, runBatch } from '../kernel-batch.js';
import type { CommandRunner } from '../kernel.js';
import type { Logger } from '../log.js';
import { type PeerState, diffPeerState, isEmptyPeerState, peerCommandsArgv, peerRemovalArgv } from '../../shared/peer-state.js';
import type { KernelRefusal, SyncMode, SyncResult } from './types.js';

export class KernelPeerSync {
  /** What the kernel holds of the managed entries, as far as the last sync knows; null: read it. */
  private known: PeerState | null = null;

  constructor(
    private readonly runner: CommandRunner,
    private readonly log: Logger,
  ) {}

  async converge(desired: PeerState, mode: SyncMode, readActual: () => Promise<ActualRead>): Promise<SyncResult> {
    let processes = 0;
    let actual = mode === 'incremental' ? this.known : null;
    if (!actual) {
      const read = await readActual();
      actual = read.state;
      processes += read.processes;
    }
    const d = diffPeerState(desired, actual);
    if (isEmptyPeerState(d.add) && isEmptyPeerState(d.remove)) {
      this.known = desired;
      return { changed: 0, failed: 0, processes };
    }
    const removals = peerRemovalArgv(d.remove);
    const additions = peerCommandsArgv(d.add);
    const isTool = (tool: string) => (argv: string[]) => argv[0] === tool;
    // The two batches run side by side: a packet to a peer is dropped until both are in, in
    // either order (no route yet, or a route to a VTEP with no FDB entry yet).
    const [bridge, ip] = await Promise.all([
      runBatch(this.runner, 'bridge', [...removals.filter(isTool('bridge')), ...additions.filter(isTool('bridge'))], { persistent: true }),
      runBatch(this.runner, 'ip', [...removals.filter(isTool('ip')), ...additions.filter(isTool('ip'))], { persistent: true }),
    ]);
    const removed = new Set(removals.map((argv) => argv.join(' ')));
    let changed = 0;
    let failed = 0;
    const refused: KernelRefusal[] = [];
    for (const r of [bridge, ip] as BatchResult[]) {
      for (const argv of r.done) {
        const text = argv.join(' ');
        this.log.info(`${removed.has(text) ? 'removed' : 'programmed'}: ${text}`);
        changed++;
      }
      for (const f of r.failed) {
        const text = f.argv.join(' ');
        if (removed.has(text)) this.log.warn(`remove failed (continuing): ${text}: ${f.error}`);
        else {
          this.log.error(`program failed: ${text}: ${f.error}`);
          refused.push({ command: text, error: f.error });
        }
        failed++;
      }
    }
    this.known = failed === 0 ? desired : null;
    return { changed, failed, processes: processes + bridge.processes + ip.processes, ...(refused.length ? { refused } : {}) };
  }

  /** Forget what the kernel holds (the next sync reads it). */
  invalidate(): void {
    this.known = null;
  }
}

/** The managed entries read from the kernel, and the processes the read took. */
export interface ActualRead {
  state: PeerState;
  processes: number;
}
