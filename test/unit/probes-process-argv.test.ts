import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { announcedPid, bounded, reportingPid } from '../../src/plan/process-argv.js';

describe('process argv wrappers', () => {
  it('reportingPid passes hostile arguments through the real sh as data, never as code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlab-canary-'));
    const canary = join(dir, 'canary');
    const hostile = [`$(touch ${canary})`, `;touch ${canary}`, `\`touch ${canary}\``, `' ; touch ${canary} ; '`, `a\ntouch ${canary}`];
    const [cmd, ...args] = reportingPid(['printf', '%s|', ...hostile]);
    const out = execFileSync(cmd!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe(hostile.map((h) => `${h}|`).join(''));
    expect(existsSync(canary)).toBe(false);
  });

  it('reportingPid announces the PID of the process that becomes the command', () => {
    const [cmd, ...args] = reportingPid(['sh', '-c', 'echo $$']);
    // exec keeps the PID: the announced one is the command's own.
    const both = spawnSync(cmd!, args, { encoding: 'utf8' });
    expect(Number(both.stdout.trim())).toBeGreaterThan(1);
    expect(announcedPid(both.stderr)).toBe(Number(both.stdout.trim()));
  });

  it('bounded puts the deadline in front and refuses a non-positive one', () => {
    expect(bounded(['tcpdump', '-i', 'eth0'], 9.2)).toEqual(['timeout', '-k', '2', '-s', 'INT', '10', 'tcpdump', '-i', 'eth0']);
    expect(() => bounded(['ping'], 0)).toThrow(RangeError);
  });
});
