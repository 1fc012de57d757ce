// Watching many agents at once: one process in the lab's etcd node (it has Node and sits on the
// underlay) asks every agent's status listener (src/agent/status-server.ts) every interval and
// prints a line only when an answer changed. overlab reads those lines from one streaming exec,
// so waiting for 64 agents costs one process in one container, not one per host per round (which
// had cost ~90 ms of CPU each, a whole 2-core machine for a 64-host lab).
import { parseAgentStats, type AgentStats } from '../shared/agent-stats.js';
import { bounded, PROBE_PID_DIR, recordingPid } from '../plan/process-argv.js';

/** Constant program text (no value is ever part of it): argv is the run time and the interval in
 * ms, then the targets as `<ip>:<port>`. Output: `<ip>:<port> <status JSON>` when an
 * answer changed, `.` after every round (a reader that went away ends the program with EPIPE). */
export const STATUS_COLLECTOR_SCRIPT = [
  "'use strict';",
  "const http = require('http');",
  'const [runMs, everyMs, ...targets] = process.argv.slice(1);',
  'const end = Date.now() + Number(runMs);',
  'const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });',
  'const last = new Map();',
  "process.stdout.on('error', () => process.exit(0));",
  'function ask(target) {',
  '  return new Promise((resolve) => {',
  "    const [host, port] = target.split(':');",
  "    const req = http.get({ host, port: Number(port), path: '/status', agent, timeout: 2000 }, (res) => {",
  "      let body = '';",
  "      res.setEncoding('utf8');",
  "      res.on('data', (chunk) => { if (body.length < 1e6) body += chunk; });",
  "      res.on('end', () => resolve(res.statusCode === 200 ? body : ''));",
  "      res.on('error', () => resolve(''));",
  '    });',
  "    req.on('timeout', () => req.destroy());",
  "    req.on('error', () => resolve(''));",
  '  });',
  '}',
  '(async () => {',
  '  for (;;) {',
  '    const answers = await Promise.all(targets.map(ask));',
  "    let out = '';",
  '    answers.forEach((body, i) => {',
  "      const line = body.replace(/[\\r\\n]+/g, ' ');",
  '      if (line && last.get(targets[i]) !== line) {',
  '        last.set(targets[i], line);',
  "        out += targets[i] + ' ' + line + '\\n';",
  '      }',
  '    });',
  "    process.stdout.write(out + '.\\n');",
  '    if (Date.now() >= end) break;',
  '    await new Promise((r) => setTimeout(r, Number(everyMs)));',
  '  }',
  '  process.exit(0);',
  '})();',
].join('\n');

export interface StatusTarget {
  ip: string;
  port: number;
}

export const targetKey = (t: StatusTarget): string => `${t.ip}:${t.port}`;

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The collector's argv: bounded by `timeout` (a killed CLI leaves nothing running for long) and
 * with a PID file (stopped by PID, never by name). */
export function statusCollectorArgv(targets: StatusTarget[], runMs: number, intervalMs: number): string[] {
  for (const t of targets) {
    if (!IPV4.test(t.ip) || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new RangeError(`not an agent status target: ${t.ip}:${t.port}`);
  }
  const argv = ['node', '-e', STATUS_COLLECTOR_SCRIPT, String(Math.round(runMs)), String(Math.round(intervalMs)), ...targets.map(targetKey)];
  return recordingPid(PROBE_PID_DIR, bounded(argv, runMs / 1000 + 5, 'TERM'));
}

export type CollectorLine = { kind: 'tick' } | { kind: 'status'; target: string; stats: Partial<AgentStats> } | { kind: 'other' };

/** Pure: one line of the collector's output. */
export function parseCollectorLine(line: string): CollectorLine {
  if (line === '.') return { kind: 'tick' };
  const space = line.indexOf(' ');
  if (space < 0) return { kind: 'other' };
  const stats = parseAgentStats(line.slice(space + 1));
  return stats ? { kind: 'status', target: line.slice(0, space), stats } : { kind: 'other' };
}
