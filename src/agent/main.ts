#!/usr/bin/env node
// Entry point inside a lab host:
//   node /opt/overlab/agent/main.js --config /etc/overlab/agent.json [--tun-fd 3]
// Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 bad config or arguments.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent } from './agent.js';
import { ConfigError, parseAgentConfig } from './config.js';
import { dropped, formatLogLine } from './log.js';

const USAGE = 'usage: node main.js --config /etc/overlab/agent.json [--tun-fd N]';

function die(code: number, msg: string): never {
  process.stderr.write(formatLogLine('error', msg) + '\n');
  process.exit(code);
}

interface Args {
  config: string;
  tunFd?: number;
}

function parseArguments(argv: string[]): Args {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, 'tun-fd': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    die(2, `${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  if (!values.config) die(2, `--config is required\n${USAGE}`);
  const fd = values['tun-fd'];
  if (fd === undefined) return { config: values.config };
  if (!/^\d+$/.test(fd)) die(2, `--tun-fd must be a descriptor number\n${USAGE}`);
  return { config: values.config, tunFd: Number(fd) };
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
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
    await agent.stop('start failure').catch(dropped(agent.log, 'stop after the start failure'));
    process.exit(1);
  }
}

main().catch((e) => die(1, `fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
