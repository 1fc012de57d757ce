// The pod tools' argument parsing and their one-line JSON protocol.
import { describe, expect, it } from 'vitest';
import { parseAskArgs, parseServeArgs, UsageError } from '../../src/pod-tools/pod-tool-args.js';
import { failureOf, parseAskOutput, parseReply, replyLine } from '../../src/shared/pod-reply.js';

describe('serve arguments', () => {
  it('a pod, its host and one or more ports', () => {
    expect(parseServeArgs(['--pod', 'web1', '--host', 'host1', '--listen', 'tcp:8080', '--listen', 'udp:53'])).toEqual({
      pod: 'web1',
      host: 'host1',
      listen: [{ protocol: 'tcp', port: 8080 }, { protocol: 'udp', port: 53 }],
    });
  });

  it.each([
    [['--pod', 'web1', '--host', 'host1'], /--listen is needed/],
    [['--pod', 'Web;1', '--host', 'host1', '--listen', 'tcp:80'], /--pod must be/],
    [['--pod', 'web1', '--host', 'host1', '--listen', 'sctp:80'], /tcp or udp/],
    [['--pod', 'web1', '--host', 'host1', '--listen', 'tcp:0'], /port 1-65535/],
    [['--pod', 'web1', '--host', 'host1', '--listen', 'tcp:80', '--listen', 'tcp:80'], /twice/],
    [['--pod', 'web1', '--host', 'host1', '--listen', 'tcp:80', '--exec', 'sh'], /unknown option/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseServeArgs(argv)).toThrow(UsageError);
    expect(() => parseServeArgs(argv)).toThrow(message);
  });
});

describe('ask arguments', () => {
  it('defaults: one TCP request, 1 s to answer', () => {
    expect(parseAskArgs(['--to', '10.96.0.10:80'])).toEqual({ address: '10.96.0.10', port: 80, protocol: 'tcp', count: 1, timeoutMs: 1000, budgetMs: 60_000 });
  });

  it.each([['--to', '10.96.0.300:80'], ['--to', 'web:80'], ['--to', '10.96.0.10'], ['--to', '10.96.0.10:80', '--count', '0'], ['--to', '10.96.0.10:80', '--count', '-1']])(
    '%j is refused',
    (...argv) => expect(() => parseAskArgs(argv)).toThrow(UsageError),
  );
});

describe('replies and results', () => {
  const reply = { pod: 'web1', host: 'host1', protocol: 'tcp' as const, addr: '10.244.1.2', port: 8080, peer: '10.244.2.3', peerPort: 40000 };

  it('a reply survives its own line; a foreign answer is not one', () => {
    expect(parseReply(replyLine(reply))).toEqual(reply);
    expect(parseReply('HTTP/1.1 400 Bad Request\r\n')).toBeUndefined();
    expect(parseReply(JSON.stringify({ ...reply, port: 70000 }))).toBeUndefined();
  });

  it('the probe output, line by line, skipping what is not a result', () => {
    const text = [JSON.stringify({ seq: 0, ms: 1.2, local: '10.244.2.3:40000', reply }), 'garbage', JSON.stringify({ seq: 1, ms: 0.4, failure: 'refused', code: 'ECONNREFUSED' }), ''].join('\n');
    expect(parseAskOutput(text)).toEqual([
      { seq: 0, ms: 1.2, local: '10.244.2.3:40000', reply },
      { seq: 1, ms: 0.4, failure: 'refused', code: 'ECONNREFUSED' },
    ]);
  });

  it('system error codes become plain failures', () => {
    expect(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'EWHATEVER'].map(failureOf)).toEqual(['refused', 'reset', 'unreachable', 'error']);
  });
});
