#!/usr/bin/env node
// Entry point inside a lab host:
//   node /opt/overlab/agent/main.js --config /etc/overlab/agent.json [--tun-fd 3]
// Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 bad config or arguments.

import { readFileSync } from 'node:fs';
import { Agent } from './agent.js';
import { ConfigError, parseAgentConfig } from './config.js';
import { formatLogLine } from './log.js';

const USAGE = 'usage: node main.js --config /etc/overlab/agent.json [--tun-fd N]';

function die(code: number, msg: string): never {
  process.stderr.write(formatLogLine('error', msg) + '\n');
  process.exit(code);
}

function parseArgs(argv: string[]): { config: string; tunFd?: number } {
  let config: string | undefined;
  let tunFd: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) die(2, `${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--config' || a === '-c') config = val();
    else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (a === '--tun-fd') {
      const v = val();
      if (!/^\d+$/.test(v)) die(2, `--tun-fd must be a descriptor number\n${USAGE}`);
      tunFd = Number(v);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else die(2, `unknown argument ${a}\n${USAGE}`);
  }
  if (!config) die(2, `--config is required\n${USAGE}`);
  return tunFd === undefined ? { config } : { config, tunFd };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let text: string;
  try {
    text = readFileSync(args.config, 'utf8');
  } catch (e) {
    die(2, `cannot read config ${args.config}: ${(e as Error).message}`);
  }
  let cfg;
  try {
    cfg = parseAgentConfig(text, args.config);
  } catch (e) {
    if (e instanceof ConfigError) die(2, `${args.config}: ${e.message}`);
    throw e;
  }
  const agent = new Agent(cfg, args.tunFd === undefined ? {} : { tunFd: args.tunFd });
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    agent
      .stop(sig)
      .catch((e) => agent.log.error(`stop: ${(e as Error).message}`))
      .finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => agent.log.info('SIGHUP ignored'));
  process.on('unhandledRejection', (e) => agent.log.error(`unhandled rejection: ${e instanceof Error ? e.stack : String(e)}`));
  try {
    await agent.start();
  } catch (e) {
    if (stopping) return;
    agent.log.error(`agent failed to start: ${(e as Error).message}`);
    await agent.stop('start failure').catch(() => undefined);
    process.exit(1);
  }
}

main().catch((e) => die(1, `fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
