import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { requireRunningLab } from '../../lab/engine-labs.js';
import { addHost, placeJoiningHost, type MembershipResult } from '../../core/node-membership.js';
import { withLabLock } from '../../lab/lab-lock.js';
import { recordBoots, saveLabModel } from '../../lab/lab-files.js';
import { collisionError, nameCollisions } from '../../core/up-phases.js';
import { containerName } from '../../plan/container-names.js';
import { renderMembership } from '../../report/membership.js';
import { assertName } from '../../lab-spec/name-assert.js';
import { assertEngineName } from '../../plan/engine-placement.js';

export default class NodeAdd extends BaseCommand<MembershipResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab', 'none'];
  static override summary = 'Add a host to a running lab: it takes a lease, and every peer programs it.';
  static override description = 'Reports how long after the new host wrote its lease the last peer had programmed it (from the agents\' logs); with backend bgp, how long after its BIRD started the last peer wrote its block into its kernel (from BIRD\'s logs).';
  static override examples = [
    '<%= config.bin %> node add flannel-vxlan host3 --pods pod1,pod2',
    '<%= config.bin %> node add bgp-racks host5 --segment rack2',
    '<%= config.bin %> node add flannel-vxlan host3 --engine e2',
  ];
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    host: Args.string({ description: 'Name of the new host.', required: true }),
  };
  static override flags = {
    pods: Flags.string({ description: 'Comma-separated pod names for the new host.', default: 'pod1' }),
    segment: Flags.string({ description: 'A routed underlay: the segment (rack) the host stands on (default: the first).' }),
    engine: Flags.string({ description: 'A lab across engines: the engine (one of the lab\'s, by name) the host runs on (default: the next in turn, as the spec\'s order deals hosts out).' }),
  };

  protected async execute(): Promise<MembershipResult> {
    const { args, flags } = await this.parse(NodeAdd);
    this.labInScope = args.lab;
    // Every name is checked before the engine is even asked.
    assertName('lab', args.lab, 'lab');
    assertName('node', args.host, 'host');
    const pods = flags.pods.split(',').map((p) => p.trim());
    for (const pod of pods) assertName('pod', pod, '--pods');
    if (flags.segment !== undefined) assertName('segment', flags.segment, '--segment');
    if (flags.engine !== undefined) assertEngineName(flags.engine, '--engine');
    return withLabLock(this.runtime, args.lab, this.abort.signal, async () => {
      const lab = await requireRunningLab(this.runtime, args.lab, { acceptDegraded: true, holdsLock: true });
      // Its engine chosen and asked first: one that does not answer leaves nothing made.
      const engine = await placeJoiningHost(this.runtime, lab, flags.engine, this.abort.signal);
      if (engine?.chosen === 'in turn') this.note(`${args.host} goes on engine ${engine.engine}, the next in turn (--engine NAME puts it on another)`);
      const collisions = await nameCollisions(this.runtime, lab, [{ node: args.host, container: containerName(lab.name, args.host) }]);
      if (collisions.length) throw collisionError(lab.name, collisions);
      const result = await addHost(this.runtime, lab, args.host, pods, this.abort.signal, { ...(flags.segment !== undefined ? { segment: flags.segment } : {}), ...(engine ? { engine } : {}) });
      await saveLabModel(this.runtime, { ...lab, hosts: [...lab.hosts, result.host] });
      await recordBoots(this.runtime, lab.underlay.switchContainer, [{ node: result.host.name, container: result.host.container }]);
      return result;
    });
  }

  protected renderHuman(r: MembershipResult): string {
    return renderMembership(r, this.colours);
  }
}
