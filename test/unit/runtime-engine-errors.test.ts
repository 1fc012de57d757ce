// Every engine failure maps onto a documented exit code with a sentence of ours and a fix.
import { describe, expect, it } from 'vitest';
import { engineDetail, engineError, failureForStatus, type EngineFailure, type EngineFailureFacts } from '../../src/runtime/engine-errors.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { FrameDemuxer, frame, STDERR, STDOUT } from '../../src/runtime/stream-demux.js';

const engine = '/run/docker.sock';
const raw = 'Conflict. The container name "/overlab-a-switch" is already in use by container "4f2a"';

const table: { failure: EngineFailure; facts: Partial<EngineFailureFacts>; exit: number; message: RegExp; hint: RegExp }[] = [
  { failure: 'unreachable', facts: { code: 'ENOENT' }, exit: 3, message: /^no Docker engine answers at \/run\/docker\.sock \(the socket does not exist\)$/, hint: /dockerd|setup\.sh/ },
  { failure: 'unreachable', facts: { code: 'ECONNREFUSED' }, exit: 3, message: /nothing listens on it/, hint: /dockerd/ },
  { failure: 'unreachable', facts: { code: 'EACCES' }, exit: 3, message: /permission denied/, hint: /root|group/ },
  { failure: 'unreachable', facts: { code: 'ECONNRESET', operation: 'create', subject: 'container x' }, exit: 3, message: /closed the connection while overlab tried to create container x/, hint: /log/ },
  { failure: 'timeout', facts: { timeoutMs: 10_000, operation: 'list containers' }, exit: 3, message: /^the Docker engine at \/run\/docker\.sock does not answer within 10 s \(asked to list containers\)$/, hint: /wedged.*kill -USR1 <dockerd pid>.*OVERLAB_ENGINE_TIMEOUT_MS/ },
  { failure: 'not-found', facts: { operation: 'run a command in', subject: 'container overlab-a-etcd', detail: 'No such container: overlab-a-etcd' }, exit: 3, message: /^container overlab-a-etcd does not exist on the Docker engine/, hint: /--recreate/ },
  { failure: 'not-found', facts: { operation: 'look up', subject: 'image overlab/host:latest' }, exit: 3, message: /^image overlab\/host:latest does not exist/, hint: /image build/ },
  { failure: 'conflict', facts: { operation: 'create', subject: 'container overlab-a-switch', detail: raw }, exit: 3, message: /^the Docker engine refused to create container overlab-a-switch: it conflicts/, hint: /overlab ls/ },
  { failure: 'bad-request', facts: { operation: 'create', subject: 'container overlab-a-host1', detail: 'invalid reference format' }, exit: 2, message: /^the Docker engine rejected the request to create container overlab-a-host1 as invalid/, hint: /overlab validate/ },
  { failure: 'server', facts: { status: 500, operation: 'start', subject: 'container overlab-a-host1', detail: 'OCI runtime create failed' }, exit: 3, message: /^the Docker engine failed to start container overlab-a-host1 \(HTTP 500\)/, hint: /log/ },
];

describe('engine failures → exit codes', () => {
  it.each(table)('$failure $facts.code $facts.subject → exit $exit', ({ failure, facts, exit, message, hint }) => {
    const error = engineError(failure, { engine, operation: 'inspect', ...facts });
    expect(exitCodeFor(error)).toBe(exit);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
    // The engine's own text may follow our sentence, never stand in for it.
    if (facts.detail) expect(error.message.startsWith(facts.detail)).toBe(false);
  });

  it('maps HTTP statuses onto failure kinds', () => {
    expect([404, 409, 400, 431, 500, 503].map(failureForStatus)).toEqual(['not-found', 'conflict', 'bad-request', 'bad-request', 'server', 'server']);
  });

  it('keeps the engine\'s text to one short printable line', () => {
    expect(engineDetail('{"message":"no such\\ncontainer \\u001b[31mx"}')).toBe('no such container [31mx');
    expect(engineDetail('x'.repeat(500))!.length).toBe(200);
    expect(engineDetail('  ')).toBeUndefined();
  });
});

describe('FrameDemuxer', () => {
  it('gives the same frames however the stream is cut', () => {
    const frames: [number, string][] = [[STDOUT, 'a'], [STDERR, 'bb'], [STDOUT, ''], [STDOUT, 'x'.repeat(70_000)], [STDERR, 'end']];
    const stream = Buffer.concat(frames.map(([s, p]) => frame(s, p)));
    for (const size of [1, 3, 7, 8, 9, 4096, stream.length]) {
      const seen: [number, string][] = [];
      const demux = new FrameDemuxer((s, p) => seen.push([s, p.toString()]));
      for (let i = 0; i < stream.length; i += size) demux.push(stream.subarray(i, i + size));
      expect(seen).toEqual(frames.filter(([, p]) => p.length > 0));
      expect(demux.pendingBytes).toBe(0);
    }
  });

  it('holds back a frame that has not arrived whole', () => {
    const seen: string[] = [];
    const demux = new FrameDemuxer((_s, p) => seen.push(p.toString()));
    demux.push(frame(STDOUT, 'hello').subarray(0, 10));
    expect(seen).toEqual([]);
    expect(demux.pendingBytes).toBe(10);
  });
});
