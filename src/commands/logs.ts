import { Args, Flags } from '@oclif/core';
import { PassThrough } from 'node:stream';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { requireLab, requireContainerThere } from '../lab/engine-labs.js';
import { agentFiles, usesAgent } from '../plan/overlay.js';
import { BIRD_LOG, bgpNetwork, bgpNodes } from '../plan/bgp-plan.js';
import { inputError, InterruptedError } from '../base/errors.js';
import { assertName } from '../lab-spec/name-assert.js';
import { pipeThrough } from '../cli/terminal.js';
import { exitCodeOfSignal } from '../cli/stop-signals.js';

/** `tail -F` from line $1 of file $2, ended when stdin reaches its end. */
const FOLLOW_UNTIL_STDIN_CLOSES = 'tail -n "$1" -F "$2" & t=$!; cat >/dev/null; kill "$t" 2>/dev/null; wait "$t" 2>/dev/null; exit 0';

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
  static override summary = 'Show the overlab agent\'s log (our flanneld) on a lab host; in a bgp lab, BIRD\'s log on a host or router.';
  static override description =
    'The agent writes what it does (leases taken and renewed, peers programmed or dropped) to a file on its host; this prints it. --follow keeps printing lines as the agent writes them (`tail -F`, surviving the agent\'s restarts) until Ctrl-C or the lab goes away; with --tail it starts from the last N lines.';
  static override examples = [
    '<%= config.bin %> logs flannel-vxlan host1',
    '<%= config.bin %> logs flannel-vxlan host1 --follow',
    '<%= config.bin %> logs vxlan-tenants host1 --network red --tail 20',
  ];
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    host: Args.string({ description: 'Host name.', required: true }),
  };
  static override flags = {
    network: Flags.string({ description: 'Pod network whose agent to show (default: the first with an agent).' }),
    tail: Flags.integer({ description: 'Only the last N lines.', min: 1 }),
    follow: Flags.boolean({ char: 'f', description: 'Keep printing new lines as they are written, until Ctrl-C.', default: false }),
  };

  protected async execute(): Promise<LogsResult> {
    const { args, flags } = await this.parse(Logs);
    if (flags.follow && this.json) throw inputError('--follow streams lines as they come; --json prints one document at the end', 'drop one of them');
    assertName('lab', args.lab, 'lab');
    assertName('node', args.host, 'host');
    if (flags.network !== undefined) assertName('network', flags.network, '--network');
    // A degraded lab's logs are what is needed most: the nodes that are there answer.
    const open = await requireLab(this.runtime, args.lab, { acceptDegraded: true });
    const lab = open.model;
    const bgp = bgpNetwork(lab);
    if (bgp && (flags.network === undefined || flags.network === bgp.name)) {
      // backend bgp: the agent here is BIRD, on every host and router; its log has the kernel routes it wrote
      const node = bgpNodes(lab).find((n) => n.name === args.host);
      if (!node) throw inputError(`${args.host} runs no BIRD in lab ${lab.name}`, `BGP nodes: ${bgpNodes(lab).map((n) => n.name).join(', ')}`);
      requireContainerThere(open, node.container);
      const where = { lab: lab.name, host: node.name, network: bgp.name };
      if (flags.follow) return this.follow(node.container, BIRD_LOG, flags.tail, where);
      const r = await this.runtime.exec(node.container, flags.tail ? ['tail', '-n', String(flags.tail), BIRD_LOG] : ['cat', BIRD_LOG]);
      if (r.exitCode !== 0) throw inputError(`no BIRD log on ${node.name} yet (${BIRD_LOG})`, r.stderr.trim() || undefined);
      return { ...where, file: BIRD_LOG, log: r.stdout };
    }
    const host = lab.hosts.find((h) => h.name === args.host);
    if (!host) throw inputError(`lab ${lab.name} has no host "${args.host}"`, `the hosts: ${lab.hosts.map((h) => h.name).join(', ')}`);
    requireContainerThere(open, host.container);
    const withAgents = lab.networks.filter(usesAgent);
    const network = flags.network ? withAgents.find((n) => n.name === flags.network) : withAgents[0];
    if (!network) {
      throw inputError(
        flags.network ? `network "${flags.network}" has no agent in lab ${lab.name}` : `lab ${lab.name} runs no agents (no overlay with controlPlane: etcd)`,
        withAgents.length ? `networks with agents: ${withAgents.map((n) => n.name).join(', ')}` : undefined,
      );
    }
    const file = agentFiles(lab, network).log;
    if (flags.follow) return this.follow(host.container, file, flags.tail, { lab: lab.name, host: host.name, network: network.name });
    const command = flags.tail ? ['tail', '-n', String(flags.tail), file] : ['cat', file];
    const result = await this.runtime.exec(host.container, command);
    if (result.exitCode !== 0) throw inputError(`no agent log on ${host.name} yet (${file})`, result.stderr.trim() || undefined);
    return { lab: lab.name, host: host.name, network: network.name, file, log: result.stdout };
  }

  /** `tail -F` in the host, its lines passed on as they come; Ctrl-C ends it (exit 130). */
  private async follow(container: string, file: string, tail: number | undefined, where: Omit<LogsResult, 'file' | 'log'>): Promise<LogsResult> {
    this.quietInterrupt = true;
    // stdin stays open while overlab follows; when overlab goes (Ctrl-C, a kill) the engine closes
    // it, and the script stops its tail: nothing keeps running in the lab.
    const open = new PassThrough();
    const running = await this.runtime.execAttached(container, ['sh', '-c', FOLLOW_UNTIL_STDIN_CLOSES, 'follow', tail ? String(tail) : '+1', file], { signal: this.abort.signal, stdin: open });
    // exited rejects when the engine stops answering: its timeout, exit 3, as any engine call.
    const [code] = await Promise.all([running.exited, pipeThrough(running.stdout, process.stdout), pipeThrough(running.stderr, process.stderr)]).finally(() => open.end());
    this.resultExitCode = this.abort.signal.aborted ? exitCodeOfSignal(this.abort.signal.reason instanceof InterruptedError ? this.abort.signal.reason.signal : 'SIGINT') : code;
    return { ...where, file, log: '' };
  }

  protected renderHuman(r: LogsResult): string {
    return r.log.replace(/\n$/, '');
  }
}
