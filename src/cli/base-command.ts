// One base command owns --json (oclif's jsonEnabled, which ignores a --json after `--`), the
// result envelope, error → exit code, the "try this" line, Ctrl-C/SIGTERM and the internal-error
// report (after sf-plugins-core). Commands implement execute() and return their result.
import { Command, Flags, type Interfaces } from '@oclif/core';
import { setMaxListeners } from 'node:events';
import { DockerRuntime } from '../runtime/docker-runtime.js';
import { RoutedRuntime } from '../runtime/routed-runtime.js';
import { parseEngineFlag, runtimeForEngine, withEnvironmentTls, type EngineReach } from '../runtime/engine-runtime.js';
import type { LabSpec } from '../lab-spec/lab-spec.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { palette, shouldUseColour, type Palette } from '../text/colour.js';
import { terminalSafeKeepingColour } from '../text/terminal-text.js';
import { successEnvelope } from './envelope.js';
import { InterruptedError, type StopSignal } from '../base/errors.js';
import { exitCodeOfSignal, onStopSignals } from './stop-signals.js';
import { writeError } from './error-output.js';
import { readLabArgument, type LabArgument } from './lab-argument.js';
import { listLabs } from '../lab/engine-labs.js';
import { unknownSettings } from '../shared/settings.js';

/** After Ctrl-C, how long clean-up may take before overlab gives up on it and says so. */
const CLEANUP_GRACE_MS = 15_000;

export abstract class BaseCommand<TResult> extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    debug: Flags.boolean({ description: 'Print the stack trace of an internal error (also DEBUG=overlab*).', default: false, helpGroup: 'GLOBAL' }),
    context: Flags.string({ description: 'The Docker context to talk to (as `docker --context`): before DOCKER_HOST, DOCKER_CONTEXT and the current context.', helpGroup: 'GLOBAL' }),
  };
  /** `--context NAME`, once the command has parsed its flags. */
  private contextFlag?: string;

  protected json = false;
  protected colours: Palette = palette(false);
  private runtimeInstance?: ContainerRuntime;
  /** Set by a command that builds a lab on engines its spec names (up, run). */
  protected runtimeOverride?: ContainerRuntime;
  /** One controller per command: Ctrl-C aborts it, so `up` can still tear down. */
  protected readonly abort = new AbortController();
  /** Exit code to use after a successful run (verify sets 1 when a check failed). */
  protected resultExitCode = 0;
  /** The lab this command changes, once known: an interruption's hint names it. */
  protected labInScope?: string;
  /** exec prints its command's own output untouched. */
  protected rawOutput = false;
  /** A command whose normal end is Ctrl-C (`logs --follow`, a streamed `exec`): the signal ends
   * it with 130 and no word about clean-up (there is nothing to clean). */
  protected quietInterrupt = false;
  private stopSignal?: StopSignal;

  /** The command's engine (DOCKER_HOST, a context, …). A lab read through it that names more
   * engines makes it reach those too: calls go to the engine holding their container. */
  protected get runtime(): ContainerRuntime {
    if (this.runtimeOverride) return this.runtimeOverride;
    this.runtimeInstance ??= new RoutedRuntime(
      [{ name: '', runtime: new DockerRuntime({ signal: this.abort.signal, ...(this.contextFlag !== undefined ? { context: this.contextFlag } : {}) }) }],
      (engine) => this.engineRuntime(engine),
    );
    return this.runtimeInstance;
  }

  /** Every command parses its flags first: the global ones are kept here (--context). */
  protected override async parse<F extends Record<string, unknown>, B extends Record<string, unknown>, A extends Record<string, unknown>>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv);
    const context = (parsed.flags as { context?: unknown }).context;
    if (typeof context === 'string') this.contextFlag = context;
    return parsed;
  }

  /** One engine a lab or a flag names, with this command's Ctrl-C. */
  protected engineRuntime(engine: EngineReach): ContainerRuntime {
    return runtimeForEngine(engine, { signal: this.abort.signal });
  }

  /** The runtime a spec is built with: the command's engine, or the spec's `engines:` with the
   * `--engine NAME=ENDPOINT` flags added (a flag naming a spec's engine replaces its address).
   * Two or more engines spread the lab (spec.engines is set); exactly one is simply its engine. */
  protected specRuntime(spec: LabSpec, engineFlags: readonly string[] = []): ContainerRuntime {
    let merged = [...(spec.engines ?? [])];
    for (const flag of engineFlags.map(parseEngineFlag)) {
      const at = merged.findIndex((e) => e.name === flag.name);
      if (at >= 0) merged[at] = { ...(merged[at]!.address ? { address: merged[at]!.address } : {}), ...flag };
      else merged.push(flag);
    }
    merged = merged.map((e) => withEnvironmentTls(e));
    if (merged.length === 0) return this.runtime;
    if (merged.length === 1) {
      delete spec.engines;
      return new RoutedRuntime([{ name: merged[0]!.name, runtime: this.engineRuntime(merged[0]!) }], (engine) => this.engineRuntime(engine));
    }
    spec.engines = merged;
    return this.labEnginesRuntime(merged);
  }

  /** The runtime a lab with several engines is built with: its first engine is the primary. */
  protected labEnginesRuntime(engines: EngineReach[]): RoutedRuntime {
    return new RoutedRuntime(
      engines.map((e) => ({ name: e.name, runtime: this.engineRuntime(e) })),
      (engine) => this.engineRuntime(engine),
    );
  }

  /** A `<lab|spec>` argument; errors list the labs that are up. */
  protected readLabArgument(arg: string): Promise<LabArgument> {
    return readLabArgument(arg, async () => (await listLabs(this.runtime)).map((l) => l.name));
  }

  protected abstract execute(): Promise<TResult>;
  /** Text for a person; JSON mode prints the envelope instead. */
  protected abstract renderHuman(result: TResult): string;

  override async init(): Promise<void> {
    await super.init();
    for (const { name, closest } of unknownSettings()) {
      process.stderr.write(`warning: ${name} is not a setting overlab knows${closest ? ` (did you mean ${closest}?)` : ''}; docs/commands.md lists them under "Environment variables"\n`);
    }
    this.json = this.jsonEnabled();
    this.colours = palette(shouldUseColour({ isTTY: Boolean(process.stdout.isTTY), env: process.env, json: this.json }));
  }

  /** Human text on stderr (progress lines), with any control character from a value escaped. */
  protected note(text: string): void {
    if (!this.json) process.stderr.write(terminalSafeKeepingColour(text.endsWith('\n') ? text : `${text}\n`));
  }

  private installSignalHandlers(): () => void {
    return onStopSignals((signal) => {
      this.stopSignal = signal;
      if (this.quietInterrupt) {
        this.abort.abort(new InterruptedError(signal));
        return;
      }
      process.stderr.write(`\n${signal === 'SIGTERM' ? 'terminated' : 'interrupted'}: cleaning up (press Ctrl-C again to stop at once)\n`);
      this.abort.abort(new InterruptedError(signal));
      // Clean-up talks to the engine; if that hangs, do not hang with it.
      setTimeout(() => {
        process.stderr.write(`clean-up did not finish within ${CLEANUP_GRACE_MS / 1000} s; ${this.downHint()}\n`);
        process.exit(exitCodeOfSignal(signal));
      }, CLEANUP_GRACE_MS).unref();
    });
  }

  private downHint(): string {
    return this.labInScope ? `run \`overlab down ${this.labInScope}\` if anything was left behind` : 'run `overlab ls` to see what is left';
  }

  async run(): Promise<void> {
    // Every parallel exec listens on the one signal; that is by design, not a leak.
    setMaxListeners(0, this.abort.signal);
    const uninstall = this.installSignalHandlers();
    try {
      const result = await this.execute();
      if (this.json) {
        process.stdout.write(JSON.stringify(successEnvelope(result, this.resultExitCode), null, 2) + '\n');
      } else {
        const text = this.renderHuman(result);
        const safe = this.rawOutput ? text : terminalSafeKeepingColour(text);
        if (safe) process.stdout.write(safe.endsWith('\n') ? safe : safe + '\n');
      }
      process.exitCode = this.resultExitCode;
    } finally {
      uninstall();
    }
  }

  /** The error as the user should see it: an interruption names its signal and the lab to clean. */
  private presentable(error: Error): Error {
    if (this.stopSignal && (error instanceof InterruptedError || this.abort.signal.aborted)) {
      return new InterruptedError(this.stopSignal, this.downHint());
    }
    if (error instanceof InterruptedError && !error.hint) return new InterruptedError(error.signal, this.downHint());
    return error;
  }

  override async catch(raw: Error & { exitCode?: number }): Promise<void> {
    process.exitCode = writeError(this.presentable(raw), { json: this.json, argv: this.argv, version: this.config.version });
  }
}
