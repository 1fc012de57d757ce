// Timestamped log lines, appended to the log file and echoed to stdout.

import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setting } from '../shared/settings.js';

export type LogLevel = 'info' | 'warn' | 'error' | 'debug';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

export function formatLogLine(level: LogLevel, msg: string, now = new Date()): string {
  return `${now.toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
}

export class FileLogger implements Logger {
  private fileOk = true;
  constructor(
    private readonly file: string | null,
    private readonly echo = true,
    private readonly debugOn = setting('agentDebug', '0') === '1',
  ) {
    if (file) {
      try {
        mkdirSync(dirname(file), { recursive: true });
      } catch {
        /* reported on first write */
      }
    }
  }
  private write(level: LogLevel, msg: string): void {
    const line = formatLogLine(level, msg);
    if (this.echo) (level === 'error' ? process.stderr : process.stdout).write(line + '\n');
    if (this.file && this.fileOk) {
      try {
        appendFileSync(this.file, line + '\n');
      } catch (e) {
        this.fileOk = false;
        process.stderr.write(formatLogLine('warn', `cannot append to ${this.file}: ${(e as Error).message}; logging to stdout only`) + '\n');
      }
    }
  }
  info(msg: string): void {
    this.write('info', msg);
  }
  warn(msg: string): void {
    this.write('warn', msg);
  }
  error(msg: string): void {
    this.write('error', msg);
  }
  debug(msg: string): void {
    if (this.debugOn) this.write('debug', msg);
  }
}

/** A `.catch` handler for a failure the agent goes on without (a best-effort revoke, a cleanup):
 * a debug line (OVERLAB_AGENT_DEBUG=1), then undefined. */
export function dropped(log: Logger, what: string): (error: unknown) => undefined {
  return (error) => {
    log.debug(`${what} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
    return undefined;
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
