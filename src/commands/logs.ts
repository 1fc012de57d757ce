import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { requireRunningLab } from '../lab/engine-labs.js';
import { agentFiles, usesAgent } from '../plan/overlay.js';
import { inputError } from '../base/errors.js';
import { assertName } from '../lab-spec/name-assert.js';

interface LogsResult {
  lab: string;
  host: string;
  network: string;
  file: string;
  log: string;
}

export default class Logs extends BaseCommand<LogsResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab', 'host'];
  static override summary = 'Show the overlab agent\'s log (our flanneld) on a lab host.';
  static override examples = ['<%= config.bin %> logs flannel-vxlan host1', '<%= config.bin %> logs vxlan-tenants host1 --network red --tail 20'];
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    host: Args.string({ description: 'Host name.', required: true }),
  };
  static override flags = {
    network: Flags.string({ description: 'Pod network whose agent to show (default: the first with an agent).' }),
    tail: Flags.integer({ description: 'Only the last N lines.', min: 1 }),
  };

  protected async execute(): Promise<LogsResult> {
    const { args, flags } = await this.parse(Logs);
    assertName('lab', args.lab, 'lab');
    assertName('node', args.host, 'host');
    if (flags.network !== undefined) assertName('network', flags.network, '--network');
    const lab = await requireRunningLab(this.runtime, args.lab);
    const host = lab.hosts.find((h) => h.name === args.host);
    if (!host) throw inputError(`lab ${lab.name} has no host "${args.host}"`, `the hosts: ${lab.hosts.map((h) => h.name).join(', ')}`);
    const withAgents = lab.networks.filter(usesAgent);
    const network = flags.network ? withAgents.find((n) => n.name === flags.network) : withAgents[0];
    if (!network) {
      throw inputError(
        flags.network ? `network "${flags.network}" has no agent in lab ${lab.name}` : `lab ${lab.name} runs no agents (no overlay with controlPlane: etcd)`,
        withAgents.length ? `networks with agents: ${withAgents.map((n) => n.name).join(', ')}` : undefined,
      );
    }
    const file = agentFiles(lab, network).log;
    const command = flags.tail ? ['tail', '-n', String(flags.tail), file] : ['cat', file];
    const result = await this.runtime.exec(host.container, command);
    if (result.exitCode !== 0) throw inputError(`no agent log on ${host.name} yet (${file})`, result.stderr.trim() || undefined);
    return { lab: lab.name, host: host.name, network: network.name, file, log: result.stdout };
  }

  protected renderHuman(r: LogsResult): string {
    return r.log.replace(/\n$/, '');
  }
}
