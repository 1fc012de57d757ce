// overlab's own terminal joined to a process in a lab (exec's shell): raw keys, the window's
// size, and output passed on as it comes. Restores the terminal however the process ends.
import { spawnSync } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { TerminalSize } from '../runtime/runtime.js';

interface TtyIn {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  isRaw?: boolean;
}

interface TtyOut {
  isTTY?: boolean;
  rows?: number;
  columns?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface TerminalLink {
  /** Called with the new size whenever the window changes. */
  onResize(listener: (size: TerminalSize) => void): void;
  /** The terminal as it was (cooked mode), listeners removed. Safe to call twice. */
  restore(): void;
}

const FALLBACK: TerminalSize = { rows: 24, columns: 80 };

/** The size of the first of these that is a terminal (24×80 when none is). */
export function terminalSize(outputs: readonly TtyOut[]): TerminalSize {
  const tty = outputs.find((o) => o.isTTY && o.rows && o.columns);
  return tty ? { rows: tty.rows!, columns: tty.columns! } : FALLBACK;
}

/**
 * Node's raw mode leaves output processing on (ONLCR): every "\n" the lab's terminal sends,
 * already "\r\n", would reach the screen as "\r\r\n", and a full-screen program (top, vi) that
 * moves down with a bare "\n" would find its cursor back in column 0. `stty -opost` on the
 * terminal (stdin's) turns that off, as `docker exec -it` does; Node's cooked mode puts the
 * terminal's own settings back.
 */
export function outputProcessingOff(): void {
  spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'], timeout: 2_000 });
}

/** Raw mode on `input` (every key, Ctrl-C too, goes to the process as a byte) and resize
 * events from the first output that is a terminal. */
export function attachTerminal(input: TtyIn, outputs: readonly TtyOut[], rawOutput: () => void = outputProcessingOff): TerminalLink {
  const wasRaw = Boolean(input.isRaw);
  if (input.isTTY && input.setRawMode) {
    input.setRawMode(true);
    rawOutput();
  }
  const window = outputs.find((o) => o.isTTY && typeof o.on === 'function');
  const listeners: (() => void)[] = [];
  let restored = false;
  return {
    onResize(listener) {
      if (!window?.on) return;
      const handler = () => listener(terminalSize([window]));
      listeners.push(handler);
      window.on('resize', handler);
    },
    restore() {
      if (restored) return;
      restored = true;
      for (const l of listeners) window?.off?.('resize', l);
      if (input.isTTY && input.setRawMode) input.setRawMode(wasRaw);
    },
  };
}

/** Everything `from` gives, written to `to` as it comes (never ending `to`: it is overlab's own
 * stdout or stderr); resolves once `from` has ended and the last chunk was handed on. */
export function pipeThrough(from: Readable, to: Writable): Promise<void> {
  return new Promise((resolve) => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.once('end', resolve);
    from.once('error', () => resolve());
    from.once('close', resolve);
  });
}
