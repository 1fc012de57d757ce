// `ip -batch -` / `bridge -batch -`: the batch text is the only variable part of the process, so
// nothing but plain words may enter it, and a failing line must be reported as that line.
import { describe, expect, it } from 'vitest';
import { BatchTokenError, batchLine, runBatch } from '../../src/agent/kernel-batch.js';
import type { CommandRunner, RunResult } from '../../src/agent/kernel.js';
import { peerCommandsArgv, peerRemovalArgv } from '../../src/shared/peer-state.js';

class Recorder implements CommandRunner {
  calls: { argv: string[]; input?: string }[] = [];
  constructor(private readonly reply: RunResult) {}
  async run(argv: string[], opts: { input?: string } = {}): Promise<RunResult> {
    this.calls.push({ argv, ...(opts.input === undefined ? {} : { input: opts.input }) });
    return this.reply;
  }
}

describe('batch lines', () => {
  it('turn the agent\'s argv lists into batch lines', () => {
    const state = {
      routes: [{ dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true }],
      neighbours: [{ ip: '10.244.2.0', lladdr: '0a:00:00:00:00:02', dev: 'flannel.1' }],
      fdb: [{ mac: '0a:00:00:00:00:02', dst: '192.168.50.3', dev: 'flannel.1' }],
      forwarding: [],
    };
    const lines = [...peerCommandsArgv(state), ...peerRemovalArgv(state)].map((argv) => batchLine(argv[0] as 'ip' | 'bridge', argv));
    expect(lines).toEqual([
      'neigh replace 10.244.2.0 lladdr 0a:00:00:00:00:02 dev flannel.1 nud permanent',
      'fdb replace 0a:00:00:00:00:02 dev flannel.1 dst 192.168.50.3 self permanent',
      'route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      'route del 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      'neigh del 10.244.2.0 dev flannel.1',
      'fdb del 0a:00:00:00:00:02 dev flannel.1 dst 192.168.50.3 self',
    ]);
  });

  it.each(['zz;reboot', 'a b', 'a\nlink del eth0', 'a\r', '"x"', "'x'", '#x', '$(id)', '`id`', 'a\\b', '', 'ä', 'a\u0000'])('refuses %j as a word', (word) => {
    expect(() => batchLine('ip', ['ip', 'neigh', 'replace', '10.244.2.0', 'lladdr', word, 'dev', 'flannel.1'])).toThrow(BatchTokenError);
  });

  it('refuses a command of another tool', () => {
    expect(() => batchLine('ip', ['bridge', 'fdb', 'show'])).toThrow(/ip batch cannot run "bridge"/);
  });
});

describe('runBatch', () => {
  it('runs one process with a fixed argv and the commands on stdin', async () => {
    const r = new Recorder({ code: 0, stdout: '', stderr: '' });
    const res = await runBatch(r, 'ip', [['ip', 'route', 'replace', '10.244.2.0/24', 'via', '10.244.2.0', 'dev', 'flannel.1', 'onlink'], ['ip', 'neigh', 'del', '10.244.3.0', 'dev', 'flannel.1']]);
    expect(r.calls).toEqual([{ argv: ['ip', '-force', '-batch', '-'], input: 'route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\nneigh del 10.244.3.0 dev flannel.1\n' }]);
    expect(res).toMatchObject({ failed: [], processes: 1 });
    expect(res.done).toHaveLength(2);
  });

  it('starts nothing for an empty batch', async () => {
    const r = new Recorder({ code: 0, stdout: '', stderr: '' });
    expect(await runBatch(r, 'bridge', [])).toEqual({ done: [], failed: [], processes: 0 });
    expect(r.calls).toEqual([]);
  });

  it('names the failing lines from "Command failed -:N"', async () => {
    const r = new Recorder({ code: 1, stdout: '', stderr: 'RTNETLINK answers: No such process\nCommand failed -:2\nCannot find device "nosuch"\nCommand failed -:3\n' });
    const cmds = [1, 2, 3].map((n) => ['ip', 'route', 'del', `10.244.${n}.0/24`]);
    const res = await runBatch(r, 'ip', cmds);
    expect(res.done).toEqual([cmds[0]]);
    expect(res.failed).toEqual([
      { argv: cmds[1], error: 'RTNETLINK answers: No such process' },
      { argv: cmds[2], error: 'Cannot find device "nosuch"' },
    ]);
  });

  it('counts every command as failed when the tool itself failed', async () => {
    const r = new Recorder({ code: 127, stdout: '', stderr: 'spawn ip ENOENT' });
    const res = await runBatch(r, 'ip', [['ip', 'route', 'del', '10.244.1.0/24']]);
    expect(res.failed).toEqual([{ argv: ['ip', 'route', 'del', '10.244.1.0/24'], error: 'spawn ip ENOENT' }]);
  });
});
