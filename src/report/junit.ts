// JUnit XML for CI systems: one testsuite per lab, one testcase per check.
import type { VerifyReport } from '../checks/run-checks.js';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // XML 1.0 forbids most control characters even when escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function renderJunit(reports: VerifyReport[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const tests = reports.reduce((n, r) => n + r.checks.length, 0);
  const failures = reports.reduce((n, r) => n + r.checks.filter((c) => c.status === 'fail').length, 0);
  const errors = reports.reduce((n, r) => n + r.checks.filter((c) => c.status === 'error').length, 0);
  const skipped = reports.reduce((n, r) => n + r.checks.filter((c) => c.status === 'unreachable').length, 0);
  lines.push(`<testsuites name="overlab verify" tests="${tests}" failures="${failures}" errors="${errors}"${skipped ? ` skipped="${skipped}"` : ''}>`);
  for (const report of reports) {
    const suiteTime = report.checks.reduce((t, c) => t + c.durationMs, 0) / 1000;
    const suiteFailures = report.checks.filter((c) => c.status === 'fail').length;
    const suiteErrors = report.checks.filter((c) => c.status === 'error').length;
    const suiteSkipped = report.checks.filter((c) => c.status === 'unreachable').length;
    lines.push(
      `  <testsuite name="${escapeXml(report.lab)}" tests="${report.checks.length}" failures="${suiteFailures}" errors="${suiteErrors}"${suiteSkipped ? ` skipped="${suiteSkipped}"` : ''} time="${suiteTime.toFixed(3)}">`,
    );
    for (const check of report.checks) {
      const open = `    <testcase classname="overlab.${escapeXml(report.lab)}" name="${escapeXml(check.name)}" time="${(check.durationMs / 1000).toFixed(3)}"`;
      if (check.status === 'pass') {
        lines.push(`${open}>`, `      <system-out>${escapeXml(check.seen)}</system-out>`, '    </testcase>');
      } else if (check.status === 'unreachable') {
        // Not judged: JUnit's own word for a test that did not run to a verdict.
        lines.push(`${open}>`, `      <skipped message="${escapeXml(check.reason ?? 'unreachable')}"/>`, '    </testcase>');
      } else {
        const tag = check.status === 'fail' ? 'failure' : 'error';
        lines.push(
          `${open}>`,
          `      <${tag} message="${escapeXml(check.reason ?? check.status)}" type="${check.kind}">${escapeXml(check.seen)}</${tag}>`,
          '    </testcase>',
        );
      }
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}
