import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { requireRunningLab } from '../../core/lab-registry.js';
import { removeHost, type MembershipResult } from '../../core/node-membership.js';
import { renderMembership } from '../../report/membership.js';
import { checkedName } from '../../core/checked-names.js';

export default class NodeRm extends BaseCommand<MembershipResult> {
  static override summary = 'Remove a host from a running lab: its lease goes, and every peer drops its entries.';
  static override examples = ['<%= config.bin %> node rm flannel-vxlan host3'];
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    host: Args.string({ description: 'The host to remove.', required: true }),
  };

  protected async execute(): Promise<MembershipResult> {
    const { args } = await this.parse(NodeRm);
    checkedName('lab', args.lab, 'lab');
    checkedName('node', args.host, 'host');
    const lab = await requireRunningLab(this.runtime, args.lab);
    return removeHost(this.runtime, lab, args.host, this.abort.signal);
  }

  protected renderHuman(r: MembershipResult): string {
    return renderMembership(r, this.colours);
  }
}
