import { Args } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { requireRunningLab } from '../lab/engine-labs.js';
import { LabReferences } from '../lab/lab-references.js';
import { inEndpoint } from '../probes/endpoint.js';
import { inputError } from '../base/errors.js';
import { assertName, checkedTarget } from '../lab-spec/name-assert.js';
import type { ExecResult } from '../runtime/runtime.js';

export default class Exec extends BaseCommand<ExecResult & { target: string; command: string[] }> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab', 'target'];
  static override summary = 'Run a command on a lab host, pod or node.';
  static override description = 'Pods run the command inside their network namespace (ip netns exec). The exit code is the command\'s.';
  static override examples = ['<%= config.bin %> exec same-host host1/pod1 -- ip -br addr', '<%= config.bin %> exec same-host host1 -- bridge link'];
  static override strict = false;
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    target: Args.string({ description: '<host>, <host>/<pod> or <node>.', required: true }),
  };

  protected override rawOutput = true;

  protected async execute() {
    const { args, argv } = await this.parse(Exec);
    const command = (argv as string[]).slice(2).filter((a, i) => !(i === 0 && a === '--'));
    assertName('lab', args.lab, 'lab');
    checkedTarget(args.target);
    if (command.length === 0) throw inputError('no command given', `overlab exec ${args.lab} ${args.target} -- ip addr`);
    const lab = await requireRunningLab(this.runtime, args.lab);
    const endpoint = new LabReferences(lab).endpoint(args.target);
    const result = await this.runtime.exec(endpoint.container, inEndpoint(endpoint, command), { signal: this.abort.signal });
    this.resultExitCode = result.exitCode;
    return { ...result, target: args.target, command };
  }

  protected renderHuman(r: ExecResult): string {
    if (r.stderr) process.stderr.write(r.stderr);
    return r.stdout.replace(/\n$/, '');
  }
}
