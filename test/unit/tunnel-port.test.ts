// The tunnels' UDP port between every pair of engines: the pairs, the argv of both ends, the
// sentence and rule a failed pair is told with (pure), and the probe's logic against a small
// in-memory LAN whose listeners hear a datagram only after its sender's exec — late, as a real one.
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import {
  enginePairs,
  failedPairsMessage,
  firewallFix,
  listenerArgv,
  pairMatrix,
  pairSentence,
  senderArgv,
  type PairResult,
} from '../../src/plan/tunnel-port.js';
import { probeTunnelPort, type ProbeSide } from '../../src/probes/tunnel-port-probe.js';
import type { ContainerRuntime, ExecResult, StreamingExec } from '../../src/runtime/runtime.js';

const a = { name: 'a', address: '10.0.0.1' };
const b = { name: 'b', address: '10.0.0.2' };
const c = { name: 'c', address: '10.0.0.3' };

describe('the pairs and both ends of one try', () => {
  it('every ordered pair, each direction on its own (a firewall is often one-sided)', () => {
    expect(enginePairs([a, b, c]).map((p) => `${p.from.name}>${p.to.name}`)).toEqual(['a>b', 'a>c', 'b>a', 'b>c', 'c>a', 'c>b']);
    expect(enginePairs([a])).toEqual([]);
  });

  it('listens with a raw socket for the sender\'s address only, and sends from the engine\'s own address (the tunnel\'s `local`)', () => {
    expect(listenerArgv({ from: a, to: b }, 9.2)).toEqual(['timeout', '10', 'socat', '-d', '-d', '-u', 'IP4-RECV:17,range=10.0.0.1/32', 'STDOUT']);
    expect(senderArgv({ from: a, to: b }, 14789)).toEqual(['socat', '-u', 'STDIN', 'UDP4-SENDTO:10.0.0.2:14789,bind=10.0.0.1']);
  });

  it('refuses anything but a dotted IPv4 address and a UDP port: no other text reaches socat\'s address syntax', () => {
    for (const address of ['10.0.0.2,fork', 'example.com', '10.0.0.256', '10.0.0.2:1', '']) {
      expect(() => senderArgv({ from: a, to: { name: 'x', address } }, 14789)).toThrow(/not an IPv4 address/);
      expect(() => listenerArgv({ from: { name: 'x', address }, to: b }, 5)).toThrow(/not an IPv4 address/);
    }
    expect(() => senderArgv({ from: a, to: b }, 70000)).toThrow(/not a UDP port/);
  });
});

describe('what a failed pair is told with', () => {
  const dropped: PairResult = { from: 'a', fromAddress: a.address, to: 'b', toAddress: b.address, port: 14789, protocol: 'udp', verdict: 'dropped', sent: 5, ms: 5200 };

  it('dropped: both engines, their addresses, the port and protocol; the INPUT rule on the receiving machine, iptables and nft', () => {
    expect(pairSentence(dropped)).toBe('UDP 14789 from engine a (10.0.0.1) to engine b (10.0.0.2) does not arrive (5 datagrams sent in 5.2 s, none received)');
    const fix = firewallFix({ from: a, to: b }, 14789, 'dropped');
    expect(fix).toContain("into engine b's machine (10.0.0.2)");
    expect(fix).toContain('`iptables -I INPUT -p udp -s 10.0.0.1 --dport 14789 -j ACCEPT`');
    expect(fix).toContain('`nft insert rule inet filter input ip saddr 10.0.0.1 udp dport 14789 accept`');
    expect(fix).toContain('stitch.port');
  });

  it('refused by the sender\'s own firewall: the OUTPUT rule on the sending machine', () => {
    const fix = firewallFix({ from: a, to: b }, 4789, 'refused');
    expect(fix).toContain("engine a's machine (10.0.0.1) refuses to send UDP 4789 to 10.0.0.2");
    expect(fix).toContain('`iptables -I OUTPUT -p udp -d 10.0.0.2 --dport 4789 -j ACCEPT`');
    expect(fix).toContain('`nft insert rule inet filter output ip daddr 10.0.0.2 udp dport 4789 accept`');
  });

  it('the matrix: a row per sender, a column per receiver, the diagonal is the engine itself', () => {
    const passes: PairResult = { ...dropped, from: 'b', fromAddress: b.address, to: 'a', toAddress: a.address, verdict: 'passes', sent: 1 };
    expect(pairMatrix(['a', 'b'], [dropped, passes])).toEqual([
      { from: 'a', cells: { a: 'self', b: 'dropped' } },
      { from: 'b', cells: { a: 'passes', b: 'self' } },
    ]);
  });

  it('up\'s error names every failed pair; the hint says each fix once', () => {
    const fix = firewallFix({ from: a, to: b }, 14789, 'dropped');
    const { message, hint } = failedPairsMessage([{ ...dropped, fix }]);
    expect(message).toBe("the tunnels' UDP port 14789 does not pass between one pair of the lab's engines: " + pairSentence(dropped));
    expect(hint).toBe(fix);
  });
});

/** A LAN of engines in memory: listeners hear a datagram some milliseconds after the sender's
 * exec returns, unless the receiving machine drops it; a refusing sender gets EPERM. */
function lan(options: { dropInto?: string[]; refuseFrom?: string[]; silentListener?: string[] } = {}) {
  const listeners: { on: string; from: string; stdout: PassThrough; ended: boolean }[] = [];
  const ended: string[] = [];
  const runtimeOf = (engine: { name: string; address: string }): ContainerRuntime =>
    ({
      endpoint: engine.name,
      async execStream(_container: string, command: string[], opts: { signal?: AbortSignal; holdStdin?: boolean } = {}): Promise<StreamingExec> {
        expect(opts.holdStdin).toBe(true); // ends with overlab
        const from = /range=([\d.]+)\/32/.exec(command.join(' '))![1]!;
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        const l = { on: engine.address, from, stdout, ended: false };
        listeners.push(l);
        let finish!: (code: number) => void;
        const exited = new Promise<number>((resolve) => (finish = resolve));
        const stop = () => {
          l.ended = true;
          ended.push(`${engine.name}<${from}`);
          stdout.end();
          stderr.end();
          finish(130);
        };
        opts.signal?.addEventListener('abort', stop, { once: true });
        if (!options.silentListener?.includes(engine.name)) setTimeout(() => stderr.write('2026/12/07 socat[9] N starting data transfer loop with FDs [5,5] and [1,1]\n'), 5);
        return { stdout, stderr, exited };
      },
      async exec(_container: string, command: string[], opts: { stdin?: string } = {}): Promise<ExecResult> {
        const [, to, , bind] = /UDP4-SENDTO:([\d.]+):(\d+),bind=([\d.]+)/.exec(command.join(' '))!;
        expect(bind).toBe(engine.address);
        if (options.refuseFrom?.includes(engine.name)) return { stdout: '', stderr: '2026/12/07 socat[3] E sendto(5, 0x5, 24, 0, AF=2 x:14789, 16): Operation not permitted\n', exitCode: 1 };
        const receiver = [a, b, c].find((e) => e.address === to)!;
        if (!options.dropInto?.includes(receiver.name)) {
          setTimeout(() => listeners.filter((l) => l.on === to && l.from === engine.address && !l.ended).forEach((l) => l.stdout.write(Buffer.from(`\u00e0\u00ec9\u00c5${opts.stdin}`, 'latin1'))), 10);
        }
        return { stdout: '', stderr: '', exitCode: 0 };
      },
    }) as unknown as ContainerRuntime;
  const sides = (engines: { name: string; address: string }[]): ProbeSide[] => engines.map((e) => ({ ...e, runtime: runtimeOf(e), container: `helper-${e.name}` }));
  return { sides, listeners, ended };
}

describe('the probe (a LAN in memory)', () => {
  const quick = { port: 14789, deadlineMs: 300, resendMs: 60 };

  it('every pair passes on an open LAN, each on its first datagram; every listener is ended', async () => {
    const net = lan();
    const results = await probeTunnelPort(net.sides([a, b, c]), { ...quick, signal: new AbortController().signal });
    expect(results.map((r) => `${r.from}>${r.to}:${r.verdict}:${r.sent}`)).toEqual(['a>b:passes:1', 'a>c:passes:1', 'b>a:passes:1', 'b>c:passes:1', 'c>a:passes:1', 'c>b:passes:1']);
    expect(net.ended).toHaveLength(6);
  });

  it('a machine that drops the port: only the pairs into it fail, resent until the deadline, with the rule for that machine', async () => {
    const net = lan({ dropInto: ['b'] });
    // The probe's clock steps on each look at it, so how many datagrams a dropped pair sends does
    // not depend on how busy the machine running the test is.
    let t = 0;
    const now = () => (t += 10);
    const results = await probeTunnelPort(net.sides([a, b, c]), { port: 14789, deadlineMs: 1_000, resendMs: 20, now, signal: new AbortController().signal });
    const failed = results.filter((r) => r.verdict !== 'passes');
    expect(failed.map((r) => `${r.from}>${r.to}:${r.verdict}`)).toEqual(['a>b:dropped', 'c>b:dropped']);
    expect(failed[0]!.sent).toBeGreaterThan(1);
    expect(failed[0]!.fix).toContain("into engine b's machine (10.0.0.2)");
    expect(net.ended).toHaveLength(6);
  });

  it('a sender whose own firewall refuses: refused at once, with the rule for the sending machine', async () => {
    const net = lan({ refuseFrom: ['a'] });
    const results = await probeTunnelPort(net.sides([a, b]), { ...quick, signal: new AbortController().signal });
    expect(results.map((r) => `${r.from}>${r.to}:${r.verdict}:${r.sent}`)).toEqual(['a>b:refused:1', 'b>a:passes:1']);
    expect(results[0]!.detail).toBe('Operation not permitted');
    expect(results[0]!.fix).toContain('iptables -I OUTPUT');
  });

  it('a listener that never starts: its pair is not tried and says why (no datagram sent)', async () => {
    const net = lan({ silentListener: ['b'] });
    const results = await probeTunnelPort(net.sides([a, b]), { ...quick, listenStartMs: 100, signal: new AbortController().signal });
    expect(results.map((r) => `${r.from}>${r.to}:${r.verdict}:${r.sent}`)).toEqual(['a>b:skipped:0', 'b>a:passes:1']);
    expect(results[0]!.detail).toBe('the listener on engine b did not start');
  });

  it('Ctrl-C during the tries: the probe rejects and every listener is ended', async () => {
    const net = lan({ dropInto: ['a', 'b'] });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('interrupted')), 40);
    await expect(probeTunnelPort(net.sides([a, b]), { port: 14789, deadlineMs: 5_000, resendMs: 50, signal: abort.signal })).rejects.toThrow('interrupted');
    expect(net.ended).toHaveLength(2);
  });
});
