import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import type { ArgCompletion } from '../cli/completion.js';
import { runDoctor, type Finding } from '../core/doctor.js';
import { doctorAcrossPassed, runDoctorAcross, type DoctorAcrossEngines } from '../core/doctor-engines.js';
import { loadLabSpec } from '../lab-loader/load.js';
import { specFileFor } from '../cli/bundled-labs.js';
import { parseEngineFlag, withEnvironmentTls } from '../runtime/engine-runtime.js';
import { RoutedRuntime } from '../runtime/routed-runtime.js';
import type { EngineSpec } from '../lab-spec/lab-spec.js';
import { pairSentence, type PairVerdict } from '../plan/tunnel-port.js';
import { renderTable } from '../text/table.js';

type DoctorResult = Finding[] | DoctorAcrossEngines;

export default class Doctor extends BaseCommand<DoctorResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['spec'];
  static override summary = 'Check the engine, the host image, capabilities and kernel features (veth, bridge, TUN, VXLAN); across several engines, that the tunnels\' UDP port passes between every pair.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --json',
    '<%= config.bin %> doctor flannel-vxlan --engine a=unix:///var/run/docker.sock --engine b=ssh://me@10.0.0.2',
  ];
  static override description =
    'Exit 0 when everything a lab needs works, 3 otherwise; each failure says how to fix it. Kernel features only some fault kinds need (tc qdiscs such as netem, iptables statistic, ebtables) are listed with a dash when missing and do not fail doctor. With a spec naming several engines (engines:) or two or more --engine flags, every engine is checked, each machine\'s address is found as `up` finds it, and a UDP datagram is sent each way between every pair of engines on the tunnels\' port (stitch.port, default 14789), from and to the machines\' own namespaces as the tunnels go: a pair it does not pass names both engines, their addresses and the firewall rule that lets it through. Only the engines\' own addresses are ever sent to.';
  static override args = { spec: Args.string({ description: 'A lab spec (or bundled lab name) whose engines: and stitch.port to check.', required: false }) };
  static override flags = {
    engine: Flags.string({
      description: 'NAME=ENDPOINT: an engine to check (unix://, tcp://, ssh:// or a Docker context name), added to the spec\'s engines: (or replacing one of the same name). Two or more: the tunnels\' port is tried between every pair.',
      multiple: true,
    }),
  };

  protected async execute(): Promise<DoctorResult> {
    const { args, flags } = await this.parse(Doctor);
    const spec = args.spec ? await loadLabSpec(specFileFor(args.spec)) : undefined;
    let engines: EngineSpec[];
    let runtime = this.runtime;
    if (spec) {
      runtime = this.specRuntime(spec, flags.engine ?? []);
      engines = spec.engines ?? [];
    } else {
      engines = (flags.engine ?? []).map(parseEngineFlag).map((e) => withEnvironmentTls(e));
      if (engines.length === 1) runtime = this.engineRuntime(engines[0]!);
    }
    if (engines.length < 2) {
      const findings = await runDoctor(runtime);
      this.resultExitCode = findings.every((f) => f.ok || f.optional) ? 0 : 3;
      return findings;
    }
    const routed = runtime instanceof RoutedRuntime && runtime.named.length === engines.length ? runtime : this.labEnginesRuntime(engines);
    const result = await runDoctorAcross(routed.named, engines, { ...(spec?.stitch?.port !== undefined ? { port: spec.stitch.port } : {}), signal: this.abort.signal });
    this.resultExitCode = doctorAcrossPassed(result) ? 0 : 3;
    return result;
  }

  private mark(f: Finding): string {
    return f.ok ? this.colours.green('✓') : f.optional ? this.colours.yellow('–') : this.colours.red('✗');
  }

  protected renderHuman(result: DoctorResult): string {
    if (Array.isArray(result)) {
      return renderTable(result, [
        { header: '', value: (f) => this.mark(f) },
        { header: 'CHECK', value: (f) => f.check },
        { header: 'DETAIL', value: (f) => f.detail, maxWidth: 80 },
        { header: 'FIX', value: (f) => f.fix ?? '' },
      ]);
    }
    const findings = renderTable(result.findings, [
      { header: '', value: (f) => this.mark(f) },
      { header: 'ENGINE', value: (f) => f.engine },
      { header: 'CHECK', value: (f) => f.check },
      { header: 'DETAIL', value: (f) => f.detail, maxWidth: 80 },
    ]);
    const { port, matrix, pairs } = result.tunnelPort;
    const cell = (v: PairVerdict | 'self') => (v === 'self' ? '·' : v === 'passes' ? this.colours.green('✓ passes') : v === 'skipped' ? this.colours.yellow('– not tried') : this.colours.red(`✗ ${v}`));
    const names = result.engines.map((e) => e.name);
    const grid = renderTable(matrix, [
      { header: `UDP ${port} FROM ↓ TO →`, value: (r) => `${r.from} (${result.engines.find((e) => e.name === r.from)?.address || '?'})` },
      ...names.map((to) => ({ header: to, value: (r: (typeof matrix)[number]) => cell(r.cells[to]!) })),
    ]);
    const fixes = result.findings.filter((f) => !f.ok && !f.optional && f.fix).map((f) => `${this.colours.red('✗')} ${f.engine}: ${f.check}: ${f.detail}\n  fix: ${f.fix}`);
    const skipped = pairs.filter((p) => p.verdict === 'skipped').map((p) => `${this.colours.yellow('–')} ${pairSentence(p)}`);
    return [findings, '', grid, ...(fixes.length || skipped.length ? ['', ...fixes, ...skipped] : [])].join('\n');
  }
}
