import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { writeFile } from 'node:fs/promises';
import { BaseCommand } from '../cli/base-command.js';
import { absentContainers, requireLab } from '../lab/engine-labs.js';
import { inputError } from '../base/errors.js';
import { verifyLab } from '../core/lab-verify.js';
import { readLeases } from '../lab/etcd-leases.js';
import { usesAgent } from '../plan/overlay.js';
import { readSnapshot, traceLab, DEFAULT_TRACE_OPTIONS } from '../trace/trace-lab.js';
import { renderReportHtml, type ReportData } from '../report/html/report-page.js';
import { outcomeLine } from '../trace/trace-text.js';
import { progressLine } from '../cli/verify-output.js';

interface ReportResult {
  out: string;
  bytes: number;
  checks?: { passed: number; failed: number };
  traces: { from: string; to: string; outcome: string }[];
}

export function parseTraceFlag(value: string): { from: string; to: string } {
  const parts = value.split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw inputError(`--trace ${value} is not <from>:<to>`, 'e.g. --trace host1/pod1:host2/pod1');
  return { from: parts[0], to: parts[1] };
}

export default class Report extends BaseCommand<ReportResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab'];
  static override summary = 'Write one self-contained HTML page about a running lab: its topology drawn, traces on it, verify results, leases, routes, neighbours and FDB.';
  static override description =
    'Runs the lab\'s checks (unless --no-verify) and every --trace, then reads the kernel tables, and writes the page: no network access is needed to view it. Progress (each check as it passes or fails, each trace\'s outcome) goes to stderr; with --out - the page itself goes to stdout, so it can be piped or redirected.';
  static override examples = [
    '<%= config.bin %> report flannel-vxlan --out report.html --trace host1/pod1:host2/pod1',
    '<%= config.bin %> report no-overlay --out r.html --trace host1/pod1:host2/pod1 --no-verify',
    '<%= config.bin %> report host-gw --out - > host-gw.html',
  ];
  static override args = { lab: Args.string({ description: 'Lab name.', required: true }) };
  static override flags = {
    out: Flags.string({ description: 'The HTML file to write; - writes the page to stdout.', required: true }),
    trace: Flags.string({ description: 'Trace <from>:<to> and draw it on the diagram (repeatable).', multiple: true }),
    verify: Flags.boolean({ description: 'Run the lab\'s checks and include the results.', default: true, allowNo: true }),
  };

  protected async execute(): Promise<ReportResult> {
    const { args, flags } = await this.parse(Report);
    const wanted = (flags.trace ?? []).map(parseTraceFlag);
    const toStdout = flags.out === '-';
    if (toStdout && this.json) throw inputError('--out - writes the page to stdout, where --json writes its envelope', 'write the page to a file (--out report.html), or drop --json');
    // A degraded lab is reported as it is: what is there, and what is not named.
    const open = await requireLab(this.runtime, args.lab, { acceptDegraded: true, measure: true });
    const { model: lab, state } = open;
    const absent = absentContainers(open);
    const signal = this.abort.signal;
    const c = this.colours;
    if (flags.verify) this.note(c.dim(`verifying lab ${lab.name}: ${lab.checks.length} checks`));
    const verify = flags.verify ? await verifyLab(this.runtime, lab, lab.checks, { signal, problems: state.problems, onResult: (r) => this.note(progressLine(r, c)) }) : undefined;
    const traces = [];
    for (const t of wanted) {
      this.note(c.dim(`tracing ${t.from} → ${t.to}`));
      const traced = (await traceLab(this.runtime, lab, t.from, t.to, DEFAULT_TRACE_OPTIONS, signal, absent)).result;
      this.note(`${traced.delivered ? c.green('✓') : c.red('✗')} ${t.from} → ${t.to}: ${outcomeLine(traced)}`);
      traces.push(traced);
    }
    this.note(c.dim('reading routes, neighbours, FDB and leases'));
    const snapshot = await readSnapshot(this.runtime, lab, signal, undefined, absent);
    const leases = await Promise.all(
      lab.networks
        .filter(usesAgent)
        .map((n) => readLeases(this.runtime, lab, n).then((leases) => ({ network: n.name, leases }), (error: unknown) => ({ network: n.name, leases: [], unreadable: error instanceof Error ? error.message.split('\n')[0]! : String(error) }))),
    );
    const data: ReportData = {
      lab,
      generatedAt: new Date().toISOString(),
      ...(state.status === 'degraded' ? { degraded: state.detail } : {}),
      ...(verify ? { verify } : {}),
      leases,
      hosts: snapshot.containers
        .filter((c) => lab.hosts.some((h) => h.name === c.node) || lab.externals.some((e) => e.name === c.node && e.role === 'router'))
        .map((c) => {
          const own = c.namespaces.find((n) => !n.netns);
          return { node: c.node, routes: own?.routes ?? [], neighbours: own?.neighbours ?? [], fdb: c.fdb };
        }),
      traces,
    };
    const html = renderReportHtml(data);
    if (toStdout) process.stdout.write(html.endsWith('\n') ? html : `${html}\n`);
    else await writeFile(flags.out, html);
    return {
      out: flags.out,
      bytes: Buffer.byteLength(html),
      ...(verify ? { checks: { passed: verify.passed, failed: verify.failed } } : {}),
      traces: traces.map((t) => ({ from: t.from, to: t.to, outcome: outcomeLine(t) })),
    };
  }

  protected renderHuman(r: ReportResult): string {
    if (r.out === '-') {
      // stdout holds the page; what was measured was already said on stderr.
      this.note(`wrote the page to stdout (${Math.round(r.bytes / 1024)} KiB)`);
      return '';
    }
    const lines = [`wrote ${r.out} (${Math.round(r.bytes / 1024)} KiB)`];
    if (r.checks) lines.push(`checks: ${r.checks.passed} passed, ${r.checks.failed} failed`);
    for (const t of r.traces) lines.push(`trace ${t.from} → ${t.to}: ${t.outcome}`);
    return lines.join('\n');
  }
}
