import { Args } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { bashScript, zshScript } from '../cli/completion.js';

export default class Completion extends BaseCommand<{ shell: string; script: string }> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['none'];
  static override summary = 'Print a shell completion script (bash or zsh): commands, flags, lab names, hosts and pods.';
  static override examples = ['source <(<%= config.bin %> completion bash)', '<%= config.bin %> completion zsh > "${fpath[1]}/_<%= config.bin %>"'];
  static override args = { shell: Args.string({ description: 'bash or zsh.', options: ['bash', 'zsh'], default: 'bash' }) };

  protected async execute() {
    const { args } = await this.parse(Completion);
    const shell = args.shell ?? 'bash';
    return { shell, script: shell === 'zsh' ? zshScript(this.config.bin) : bashScript(this.config.bin) };
  }

  protected renderHuman(r: { script: string }): string {
    return r.script;
  }
}
