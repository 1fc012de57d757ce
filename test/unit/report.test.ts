import { describe, expect, it } from 'vitest';
import { renderTable, visibleLength } from '../../src/text/table.js';
import { renderJunit } from '../../src/report/junit.js';
import { palette, shouldUseColour } from '../../src/text/colour.js';
import { chooseRenderer } from '../../src/cli/progress.js';
import { errorEnvelope, renderErrorForHuman, successEnvelope } from '../../src/cli/envelope.js';
import { exitCodeFor, inputError, environmentError, interruptedError, OverlabError } from '../../src/base/errors.js';
import { renderVerifyReport } from '../../src/report/verify-report.js';
import type { VerifyReport } from '../../src/checks/run-checks.js';

const report: VerifyReport = {
  lab: 'demo',
  passed: 1,
  failed: 1,
  unreachable: 0,
  checks: [
    { name: 'ping', kind: 'ping', status: 'pass', seen: 'a → b: 3/3 replies', durationMs: 500, details: {} },
    { name: 'cap <x>', kind: 'capture', status: 'fail', seen: '0 packets', reason: 'not seen on h:eth0: icmp & "x"', durationMs: 1500, details: {} },
  ],
};

describe('tables', () => {
  it('aligns columns and ignores colour codes when measuring', () => {
    const text = renderTable([{ a: 'x', b: 'long value' }, { a: palette(true).green('yy'), b: 'v' }], [
      { header: 'A', value: (r) => r.a },
      { header: 'B', value: (r) => r.b },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('A   B');
    expect(lines[1]).toBe('x   long value');
    expect(visibleLength(lines[2]!)).toBe('yy  v'.length);
  });
  it('cuts long cells', () => {
    expect(renderTable([{ a: 'abcdefgh' }], [{ header: 'A', value: (r) => r.a, maxWidth: 4 }])).toBe('A\nabc…');
  });
});

describe('junit', () => {
  it('writes one testcase per check with escaped failures', () => {
    const xml = renderJunit([report]);
    expect(xml).toContain('<testsuites name="overlab verify" tests="2" failures="1" errors="0">');
    expect(xml).toContain('<testcase classname="overlab.demo" name="cap &lt;x&gt;" time="1.500">');
    expect(xml).toContain('<failure message="not seen on h:eth0: icmp &amp; &quot;x&quot;" type="capture">0 packets</failure>');
    expect(xml).toContain('<system-out>a → b: 3/3 replies</system-out>');
  });
});

describe('terminal decisions', () => {
  it('colours only on a TTY without NO_COLOR or --json', () => {
    expect(shouldUseColour({ isTTY: true, env: {}, json: false })).toBe(true);
    expect(shouldUseColour({ isTTY: false, env: {}, json: false })).toBe(false);
    expect(shouldUseColour({ isTTY: true, env: { NO_COLOR: '1' }, json: false })).toBe(false);
    expect(shouldUseColour({ isTTY: true, env: {}, json: true })).toBe(false);
    expect(shouldUseColour({ isTTY: false, env: { FORCE_COLOR: '1' }, json: false })).toBe(true);
  });
  it('chooses the listr2 renderer from flags, env and TTY', () => {
    expect(chooseRenderer({ json: true, isTTY: true, env: {} })).toBe('silent');
    expect(chooseRenderer({ json: false, isTTY: true, env: {} })).toBe('default');
    expect(chooseRenderer({ json: false, isTTY: true, env: { CI: 'true' } })).toBe('simple');
    expect(chooseRenderer({ json: false, isTTY: false, env: {} })).toBe('simple');
    expect(chooseRenderer({ json: false, quiet: true, isTTY: true, env: {} })).toBe('silent');
  });
});

describe('errors and envelopes', () => {
  it('maps error kinds to exit codes', () => {
    expect(exitCodeFor(inputError('x'))).toBe(2);
    expect(exitCodeFor(environmentError('x'))).toBe(3);
    expect(exitCodeFor(new OverlabError('check', 'x'))).toBe(1);
    expect(exitCodeFor(Object.assign(new Error('spec'), { exitCode: 2 }))).toBe(2);
    expect(exitCodeFor(new Error('boom'))).toBe(70); // not ours: a bug
    expect(exitCodeFor(new TypeError('x'))).toBe(70);
    expect(exitCodeFor(interruptedError('SIGTERM'))).toBe(143);
    expect(exitCodeFor(interruptedError())).toBe(130);
  });
  it('wraps results and errors', () => {
    expect(successEnvelope({ a: 1 }, 1)).toEqual({ status: 1, result: { a: 1 } });
    const e = environmentError('no engine', 'start dockerd');
    expect(errorEnvelope(e, 3)).toEqual({ status: 3, name: 'OverlabError', message: 'no engine', hint: 'start dockerd' });
    expect(renderErrorForHuman(e, palette(false))).toBe('Error: no engine\nTry: start dockerd');
    const withIssues = Object.assign(new Error('bad'), { issues: [{ line: 1 }] });
    expect(errorEnvelope(withIssues, 2).issues).toEqual([{ line: 1 }]);
  });
  it('renders a verify report with a one-line reason per failure', () => {
    const text = renderVerifyReport(report, palette(false));
    expect(text).toContain('PASS    ping');
    expect(text).toContain('✗ cap <x>: not seen on h:eth0: icmp & "x"');
    expect(text.trim().endsWith('demo: 1/2 checks passed, 1 failed')).toBe(true);
  });
});
