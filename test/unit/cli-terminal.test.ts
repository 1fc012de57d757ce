// overlab's terminal joined to a shell in a lab: raw mode on and back off, the window's size.
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { attachTerminal, pipeThrough, terminalSize } from '../../src/cli/terminal.js';

function fakeTty(rows: number, columns: number) {
  const out = Object.assign(new EventEmitter(), { isTTY: true, rows, columns });
  return out;
}

describe('the terminal link', () => {
  it('sets raw mode for the session and restores the mode it found, once', () => {
    const modes: (boolean | string)[] = [];
    const input = { isTTY: true, isRaw: false, setRawMode: (m: boolean) => modes.push(m) };
    const link = attachTerminal(input, [fakeTty(24, 80)], () => modes.push('-opost'));
    link.restore();
    link.restore();
    expect(modes).toEqual([true, '-opost', false]);
  });

  it('leaves a non-terminal stdin alone', () => {
    const modes: boolean[] = [];
    attachTerminal({ isTTY: false, setRawMode: (m: boolean) => modes.push(m) }, [], () => modes.push(false)).restore();
    expect(modes).toEqual([]);
  });

  it('reports the window\'s new size on every resize, until restored', () => {
    const window = fakeTty(24, 80);
    const link = attachTerminal({ isTTY: true, setRawMode: () => undefined }, [{ isTTY: false }, window], () => undefined);
    const sizes: unknown[] = [];
    link.onResize((s) => sizes.push(s));
    window.rows = 50;
    window.columns = 132;
    window.emit('resize');
    link.restore();
    window.emit('resize');
    expect(sizes).toEqual([{ rows: 50, columns: 132 }]);
  });

  it('takes the size of the first output that is a terminal, else 24×80', () => {
    expect(terminalSize([{ isTTY: false }, { isTTY: true, rows: 40, columns: 100 }])).toEqual({ rows: 40, columns: 100 });
    expect(terminalSize([{ isTTY: false }])).toEqual({ rows: 24, columns: 80 });
  });

  it('passes output on without ending overlab\'s own stream, waiting for a slow reader', async () => {
    const from = new PassThrough();
    const written: string[] = [];
    let ended = false;
    const to = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        written.push(chunk.toString());
        setTimeout(done, 2);
      },
      final(done) {
        ended = true;
        done();
      },
    });
    const piped = pipeThrough(from, to);
    from.write('a');
    from.write('b');
    from.end('c');
    await piped;
    expect(written.join('')).toBe('abc');
    expect(ended).toBe(false);
  });
});
