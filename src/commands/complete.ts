// The completion scripts' callback (`overlab completion`). bin/run.js answers it without
// loading oclif (src/cli/complete-fast.ts); this class keeps it a known, hidden command.
import { Command } from '@oclif/core';
import { completeFast } from '../cli/complete-fast.js';

export default class Complete extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Completion candidates for the words given (used by `overlab completion`).';

  async run(): Promise<void> {
    await completeFast(this.argv);
  }
}
