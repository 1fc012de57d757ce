import { Args } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { completionScript, SHELLS, type Shell } from '../cli/completion.js';

export default class Completion extends BaseCommand<{ shell: string; script: string }> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = [SHELLS];
  static override summary = 'Print a shell completion script (bash, zsh or fish): commands, flags and their values, lab names, hosts, pods, bundled labs and exercises.';
  static override description =
    'The script asks overlab at every Tab (`overlab complete`), so it always knows the labs that are up and their nodes; an engine that does not answer within 1.5 s just yields no lab names.';
  static override examples = [
    'source <(<%= config.bin %> completion bash)',
    '<%= config.bin %> completion zsh > "${fpath[1]}/_<%= config.bin %>"',
    '<%= config.bin %> completion fish > ~/.config/fish/completions/<%= config.bin %>.fish',
  ];
  static override args = { shell: Args.string({ description: 'bash, zsh or fish.', options: [...SHELLS], default: 'bash' }) };

  protected async execute() {
    const { args } = await this.parse(Completion);
    const shell = (args.shell ?? 'bash') as Shell;
    return { shell, script: completionScript(shell, this.config.bin) };
  }

  protected renderHuman(r: { script: string }): string {
    return r.script;
  }
}
