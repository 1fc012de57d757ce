import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { labNameOf } from '../cli/lab-argument.js';
import { downLab, type DownResult } from '../core/lab-down.js';
import { withLabLock } from '../lab/lab-lock.js';
import { inputError } from '../base/errors.js';
import { listLabs } from '../lab/engine-labs.js';
import { labsUpText } from '../lab/lab-not-up.js';
import { labView } from '../runtime/routed-runtime.js';

export default class Down extends BaseCommand<DownResult[]> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab-or-spec'];
  static override summary = 'Remove a lab (or all labs) by label. Idempotent; works without the spec file.';
  static override description = 'Waits briefly when another overlab process is changing the lab (an `up`, `node add`), then says who holds it.';
  static override examples = ['<%= config.bin %> down same-host', '<%= config.bin %> down labs/same-host.yaml', '<%= config.bin %> down --all'];
  static override args = { lab: Args.string({ description: 'Lab name or spec path.' }) };
  static override flags = { all: Flags.boolean({ description: 'Remove every overlab lab on this engine.', default: false }) };

  private downLocked(lab: string, runtime = this.runtime): Promise<DownResult> {
    return withLabLock(runtime, lab, this.abort.signal, () => downLab(runtime, lab));
  }

  protected async execute(): Promise<DownResult[]> {
    const { args, flags } = await this.parse(Down);
    if (flags.all) {
      const labs = await listLabs(this.runtime);
      // Every lab that can be taken down is; a lab another process holds is reported after.
      // Each in a view of its own: a lab's model names its engines, another's may name others.
      const results = await Promise.allSettled(labs.map((l) => this.downLocked(l.name, labView(this.runtime))));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return results.map((r) => (r as PromiseFulfilledResult<DownResult>).value);
    }
    if (!args.lab) throw inputError('name a lab (or a spec file), or pass --all', 'overlab ls shows the labs that are up');
    const arg = await this.readLabArgument(args.lab);
    // A spec names its engines: down reaches them even when the lab's model is gone.
    if (arg.kind === 'spec' && arg.spec.engines?.length) this.runtimeOverride = this.specRuntime(arg.spec);
    this.labInScope = labNameOf(arg);
    const result = await this.downLocked(this.labInScope);
    if (result.removed.length === 0) this.othersUp = (await listLabs(this.runtime)).map((l) => l.name);
    return [result];
  }

  /** When the named lab was not up: the ones that are, in case the name was mistyped. */
  private othersUp: string[] = [];

  protected renderHuman(results: DownResult[]): string {
    if (results.length === 0) return 'no overlab labs were up';
    return results
      .map((r) => (r.removed.length ? `${this.colours.green('✓')} ${r.lab}: removed ${r.removed.length} containers` : `• no lab named "${r.lab}" is up; nothing to remove (${labsUpText(this.othersUp)})`))
      .join('\n');
  }
}
