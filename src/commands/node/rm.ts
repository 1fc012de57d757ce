import { Args } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { requireRunningLab } from '../../lab/engine-labs.js';
import { removeHost, type MembershipResult } from '../../core/node-membership.js';
import { withLabLock } from '../../lab/lab-lock.js';
import { recordBoots, saveLabModel } from '../../lab/lab-files.js';
import { renderMembership } from '../../report/membership.js';
import { assertName } from '../../lab-spec/name-assert.js';

export default class NodeRm extends BaseCommand<MembershipResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab', 'host'];
  static override summary = 'Remove a host from a running lab: its lease goes, and every peer drops its entries.';
  static override description = 'The host\'s agent gives up its lease in etcd; every peer\'s agent then drops its routes, neighbour and FDB entries for it, and its container is removed. The last host of a lab cannot go (`overlab down` removes the lab).';
  static override examples = ['<%= config.bin %> node rm flannel-vxlan host3'];
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    host: Args.string({ description: 'The host to remove.', required: true }),
  };

  protected async execute(): Promise<MembershipResult> {
    const { args } = await this.parse(NodeRm);
    this.labInScope = args.lab;
    assertName('lab', args.lab, 'lab');
    assertName('node', args.host, 'host');
    return withLabLock(this.runtime, args.lab, this.abort.signal, async () => {
      const lab = await requireRunningLab(this.runtime, args.lab, { acceptDegraded: true, holdsLock: true });
      const result = await removeHost(this.runtime, lab, args.host, this.abort.signal);
      await saveLabModel(this.runtime, { ...lab, hosts: lab.hosts.filter((h) => h.name !== args.host) });
      await recordBoots(this.runtime, lab.underlay.switchContainer, [], { drop: [args.host] });
      return result;
    });
  }

  protected renderHuman(r: MembershipResult): string {
    return renderMembership(r, this.colours);
  }
}
