// One base command owns --json, the result envelope, error → exit-code mapping and the "try
// this" line (after sf-plugins-core). Commands implement execute() and return their result.
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { setMaxListeners } from 'node:events';
import { DockerRuntime } from '../runtime/docker-runtime.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { palette, shouldUseColour, type Palette } from '../report/colour.js';
import { errorEnvelope, renderErrorForHuman, successEnvelope } from './envelope.js';
import { EXIT_BAD_INPUT, exitCodeFor } from '../core/errors.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

export abstract class BaseCommand<TResult> extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'Print a machine-readable JSON envelope instead of text.', default: false }),
  };

  protected json = false;
  protected colours: Palette = palette(false);
  private runtimeInstance?: ContainerRuntime;
  /** One controller per command: Ctrl-C aborts it, so `up` can still tear down. */
  protected readonly abort = new AbortController();
  /** Exit code to use after a successful run (verify sets 1 when a check failed). */
  protected resultExitCode = 0;

  protected get runtime(): ContainerRuntime {
    this.runtimeInstance ??= new DockerRuntime({ signal: this.abort.signal });
    return this.runtimeInstance;
  }

  protected abstract execute(): Promise<TResult>;
  /** Text for a person; JSON mode prints the envelope instead. */
  protected abstract renderHuman(result: TResult): string;

  override async init(): Promise<void> {
    await super.init();
    this.json = this.argv.includes('--json');
    this.colours = palette(shouldUseColour({ isTTY: Boolean(process.stdout.isTTY), env: process.env, json: this.json }));
  }

  async run(): Promise<void> {
    // Every parallel exec listens on the one signal; that is by design, not a leak.
    setMaxListeners(0, this.abort.signal);
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      process.stderr.write('\ninterrupted: cleaning up (press Ctrl-C again to force)\n');
      this.abort.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    try {
      const result = await this.execute();
      if (this.json) {
        process.stdout.write(JSON.stringify(successEnvelope(result, this.resultExitCode), null, 2) + '\n');
      } else {
        const text = this.renderHuman(result);
        if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
      }
      process.exitCode = this.resultExitCode;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  }

  override async catch(error: Error & { exitCode?: number }): Promise<void> {
    // oclif's own parse errors (unknown flag, missing or extra argument, bad option) are bad input.
    const code = error instanceof Errors.CLIError ? EXIT_BAD_INPUT : exitCodeFor(error);
    if (this.json) {
      process.stdout.write(JSON.stringify(errorEnvelope(error, code), null, 2) + '\n');
    } else {
      process.stderr.write(renderErrorForHuman(error, palette(shouldUseColour({ isTTY: Boolean(process.stderr.isTTY), env: process.env, json: false }))) + '\n');
    }
    process.exitCode = code;
  }
}
