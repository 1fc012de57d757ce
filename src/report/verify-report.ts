import type { VerifyReport } from '../checks/run-checks.js';
import type { Palette } from '../text/colour.js';
import { renderTable } from '../text/table.js';

export function renderVerifyReport(report: VerifyReport, colours: Palette): string {
  const status = (s: string) => (s === 'pass' ? colours.green('PASS') : s === 'fail' ? colours.red('FAIL') : s === 'unreachable' ? colours.yellow('UNREACHED') : colours.yellow('ERROR'));
  const table = renderTable(report.checks, [
    { header: 'RESULT', value: (c) => status(c.status) },
    { header: 'CHECK', value: (c) => c.name, maxWidth: 48 },
    { header: 'KIND', value: (c) => c.kind },
    { header: 'SEEN', value: (c) => c.seen, maxWidth: 110 },
  ]);
  const failures = report.checks
    .filter((c) => c.status !== 'pass')
    .map((c) => `${c.status === 'unreachable' ? colours.yellow('?') : colours.red('✗')} ${c.name}: ${c.reason ?? c.status}`);
  const total = report.checks.length;
  const unreached = report.unreachable ?? 0;
  const summary = `${report.lab}: ${report.passed}/${total} checks passed` + (report.failed ? `, ${report.failed} failed` : '') + (unreached ? `, ${unreached} not judged (an engine does not answer)` : '');
  const degraded = report.degraded ? [colours.yellow(`lab ${report.lab} is degraded: ${report.degraded}`)] : [];
  return [table, ...(failures.length ? ['', ...failures] : []), '', ...degraded, report.failed ? colours.red(summary) : unreached ? colours.yellow(summary) : colours.green(summary)].join('\n');
}
