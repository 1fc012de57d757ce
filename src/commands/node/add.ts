import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { requireRunningLab } from '../../core/lab-registry.js';
import { addHost, type MembershipResult } from '../../core/node-membership.js';
import { renderMembership } from '../../report/membership.js';
import { checkedName } from '../../core/checked-names.js';

export default class NodeAdd extends BaseCommand<MembershipResult> {
  static override summary = 'Add a host to a running lab: it takes a lease, and every peer programs it.';
  static override description = 'Reports how long after the new host wrote its lease the last peer had programmed it (from the agents\' logs).';
  static override examples = ['<%= config.bin %> node add flannel-vxlan host3 --pods pod1,pod2'];
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    host: Args.string({ description: 'Name of the new host.', required: true }),
  };
  static override flags = {
    pods: Flags.string({ description: 'Comma-separated pod names for the new host.', default: 'pod1' }),
  };

  protected async execute(): Promise<MembershipResult> {
    const { args, flags } = await this.parse(NodeAdd);
    // Every name is checked before the engine is even asked.
    checkedName('lab', args.lab, 'lab');
    checkedName('node', args.host, 'host');
    const pods = flags.pods.split(',').map((p) => p.trim());
    for (const pod of pods) checkedName('pod', pod, '--pods');
    const lab = await requireRunningLab(this.runtime, args.lab);
    return addHost(this.runtime, lab, args.host, pods, this.abort.signal);
  }

  protected renderHuman(r: MembershipResult): string {
    return renderMembership(r, this.colours);
  }
}
