// The asking probe: sends requests to an address and port (a ClusterIP, a NodePort on a node, a
// pod) over TCP or UDP, one after another, each from a new source port (so each is a new flow,
// and kube-proxy chooses an endpoint anew), and prints one JSON line per request: who answered,
// from which address the probe asked, how long it took, or how it failed (refused, timed out,
// reset). Node built-ins only.
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parseAskArgs, UsageError, type AskArgs } from './pod-tool-args.js';
import { failureOf, parseReply, type AskResult } from '../shared/pod-reply.js';

function askTcp(args: AskArgs, seq: number): Promise<AskResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    const socket = connect({ host: args.address, port: args.port });
    let data = '';
    let local: string | undefined;
    let settled = false;
    const done = (result: Omit<AskResult, 'seq' | 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ seq, ms: Math.round((performance.now() - start) * 1000) / 1000, ...(local ? { local } : {}), ...result });
    };
    const timer = setTimeout(() => done({ failure: 'timeout' }), args.timeoutMs);
    socket.on('connect', () => {
      local = `${socket.localAddress}:${socket.localPort}`;
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('end', () => {
      const reply = parseReply(data);
      done(reply ? { reply } : { failure: 'bad-reply' });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done({ failure: failureOf(error.code), ...(error.code ? { code: error.code } : {}) }));
  });
}

function askUdp(args: AskArgs, seq: number): Promise<AskResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    const socket = createSocket('udp4');
    let local: string | undefined;
    let settled = false;
    const done = (result: Omit<AskResult, 'seq' | 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve({ seq, ms: Math.round((performance.now() - start) * 1000) / 1000, ...(local ? { local } : {}), ...result });
    };
    const timer = setTimeout(() => done({ failure: 'timeout' }), args.timeoutMs);
    socket.on('message', (message) => {
      const reply = parseReply(message.toString('utf8'));
      done(reply ? { reply } : { failure: 'bad-reply' });
    });
    // A connected UDP socket hears the ICMP port-unreachable a REJECT sends back.
    socket.on('error', (error: NodeJS.ErrnoException) => done({ failure: failureOf(error.code), ...(error.code ? { code: error.code } : {}) }));
    socket.connect(args.port, args.address, () => {
      const address = socket.address();
      local = `${address.address}:${address.port}`;
      socket.send('who are you?\n');
    });
  });
}

async function main(): Promise<void> {
  let args: AskArgs;
  try {
    args = parseAskArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`ask: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const deadline = performance.now() + args.budgetMs;
  for (let seq = 0; seq < args.count; seq++) {
    if (performance.now() > deadline) break;
    const result = await (args.protocol === 'tcp' ? askTcp(args, seq) : askUdp(args, seq));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`ask: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
