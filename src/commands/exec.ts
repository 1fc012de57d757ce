import { Args, Flags } from '@oclif/core';
import { PassThrough, type Readable } from 'node:stream';
import type { ArgCompletion } from '../cli/completion.js';
import { BaseCommand } from '../cli/base-command.js';
import { attachTerminal, pipeThrough, terminalSize, type TerminalLink } from '../cli/terminal.js';
import { requireContainerThere, requireLab } from '../lab/engine-labs.js';
import { LabReferences } from '../lab/lab-references.js';
import { inEndpoint } from '../probes/endpoint.js';
import { endingWithCaller } from '../probes/stdin-bound.js';
import { inputError, InterruptedError } from '../base/errors.js';
import { assertName, checkedTarget } from '../lab-spec/name-assert.js';
import type { ExecResult, TerminalSize } from '../runtime/runtime.js';
import { tolerated } from '../base/debug-log.js';

type ExecOutput = ExecResult & { target: string; command: string[]; streamed?: boolean };

/** The shell a bare `overlab exec <lab> <node>` opens (the host image has bash). */
const SHELL = ['bash'];
/** TERM passes into the lab only when it is a plain terminal name. */
const TERM_NAME = /^[A-Za-z0-9._+-]{1,64}$/;

export default class Exec extends BaseCommand<ExecOutput> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab', 'target'];
  static override summary = 'Open a shell on a lab host, pod or node, or run a command there.';
  static override description = [
    'Without a command: an interactive shell (bash) on the node, in the pod\'s network namespace for <host>/<pod>, with a terminal as `docker exec -it` gives one — raw keys (Ctrl-C goes to the shell), the window\'s size followed as it changes, and the shell\'s exit code as overlab\'s. With stdin not a terminal the shell reads it (`echo "ip route" | overlab exec lab host1`).',
    'With a command (after `--`): its output streams as it comes, stdout to stdout and stderr to stderr, and the exit code is the command\'s. -i passes stdin to it, -t gives it a terminal (full-screen tools such as top). --json waits for the end and prints {stdout, stderr, exitCode}. Without -i or -t the command ends with overlab (Ctrl-C: exit 130, nothing left running in the lab; docker exec would leave it running).',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> exec flannel-vxlan host1',
    '<%= config.bin %> exec same-host host1/pod1 -- ip -br addr',
    '<%= config.bin %> exec same-host host1 -- bridge link',
    '<%= config.bin %> exec flannel-vxlan host1 -- tcpdump -ni flannel.1',
    '<%= config.bin %> exec flannel-vxlan host1 -t -- top',
  ];
  static override strict = false;
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    target: Args.string({ description: '<host>, <host>/<pod> or <node>.', required: true }),
  };
  static override flags = {
    interactive: Flags.boolean({ char: 'i', description: 'Pass stdin to the command (a shell always reads it).', default: false }),
    tty: Flags.boolean({ char: 't', description: 'Give the command a terminal (stdin must be one); a shell gets one whenever stdin is a terminal.', default: false }),
  };

  protected override rawOutput = true;

  protected async execute(): Promise<ExecOutput> {
    const { args, argv, flags } = await this.parse(Exec);
    const command = (argv as string[]).slice(2).filter((a, i) => !(i === 0 && a === '--'));
    assertName('lab', args.lab, 'lab');
    checkedTarget(args.target);
    const shell = command.length === 0;
    const terminal = Boolean(process.stdin.isTTY);
    if (this.json && (shell || flags.tty || flags.interactive)) {
      throw inputError(
        shell ? '--json needs a command: an interactive shell has no JSON to give' : '--json prints the output once the command has ended; it cannot stream stdin (-i) or a terminal (-t)',
        `e.g. overlab exec ${args.lab} ${args.target} --json -- ip -j addr`,
      );
    }
    if (flags.tty && !terminal) throw inputError('-t needs a terminal, and stdin is not one', `drop -t (overlab exec ${args.lab} ${args.target} -- …), or run overlab from a terminal`);
    // A degraded lab is where one looks around most: the nodes that are there answer.
    const open = await requireLab(this.runtime, args.lab, { acceptDegraded: true });
    const lab = open.model;
    const endpoint = new LabReferences(lab).endpoint(args.target);
    requireContainerThere(open, endpoint.container);
    const signal = this.abort.signal;
    if (this.json) {
      const result = await this.runtime.exec(endpoint.container, inEndpoint(endpoint, command), { signal });
      this.resultExitCode = result.exitCode;
      return { ...result, target: args.target, command };
    }
    const tty = flags.tty || (shell && terminal);
    const withStdin = shell || flags.interactive || flags.tty;
    const inside = inEndpoint(endpoint, shell ? SHELL : command);
    // A command whose stdin is not ours ends with overlab — Ctrl-C, SIGTERM or SIGKILL — as a
    // probe does: it watches a stdin overlab holds open and never writes, which the engine closes
    // with overlab's connection (docker exec leaves it running). A terminal (-t) ends it by the
    // terminal's hang-up; with -i its stdin is the data it reads, and the engine only closes it.
    const boundToUs = !withStdin && !tty;
    const exitCode = await this.attached(endpoint.container, boundToUs ? endingWithCaller(inside) : inside, { tty, withStdin, holdStdin: boundToUs, prompt: shell ? args.target : undefined });
    this.resultExitCode = exitCode;
    return { stdout: '', stderr: '', exitCode, target: args.target, command: shell ? SHELL : command, streamed: true };
  }

  /** Runs the process with stdin, stdout and stderr joined to overlab's own, as they come. */
  private async attached(container: string, argv: string[], how: { tty: boolean; withStdin: boolean; holdStdin: boolean; prompt: string | undefined }): Promise<number> {
    this.quietInterrupt = true; // Ctrl-C without a terminal ends the stream: exit 130, no clean-up talk
    const env: string[] = [];
    if (how.tty) env.push(`TERM=${TERM_NAME.test(process.env.TERM ?? '') ? process.env.TERM : 'xterm'}`);
    // Debian's bash prompt shows it in brackets: which node (or pod) this shell is on.
    if (how.prompt) env.push(`debian_chroot=${how.prompt}`);
    let link: TerminalLink | undefined;
    if (how.tty) link = attachTerminal(process.stdin, [process.stdout, process.stderr]);
    // Never written, ended only once the command has ended: the stdin the command's wrapper watches.
    const held = how.holdStdin ? new PassThrough() : undefined;
    try {
      const size: TerminalSize | undefined = how.tty ? terminalSize([process.stdout, process.stderr]) : undefined;
      const running = await this.runtime.execAttached(container, argv, {
        signal: this.abort.signal,
        ...(size ? { tty: size } : {}),
        ...(how.withStdin ? { stdin: process.stdin as Readable } : held ? { stdin: held } : {}),
        ...(env.length ? { env } : {}),
      });
      link?.onResize((s) => void running.resize(s).catch(tolerated('cli', 'resize the terminal of the exec')));
      const [code] = await Promise.all([running.exited, pipeThrough(running.stdout, process.stdout), pipeThrough(running.stderr, process.stderr)]);
      if (this.abort.signal.aborted) {
        const reason = this.abort.signal.reason as unknown;
        return reason instanceof InterruptedError && reason.signal === 'SIGTERM' ? 143 : 130;
      }
      return code;
    } finally {
      held?.end();
      link?.restore();
      if (how.withStdin) process.stdin.pause();
      // stdin must not keep the process alive once the command has ended
      if (how.withStdin) process.stdin.destroy();
    }
  }

  protected renderHuman(r: ExecOutput): string {
    if (r.streamed) return '';
    if (r.stderr) process.stderr.write(r.stderr);
    return r.stdout.replace(/\n$/, '');
  }
}
