// A pod's server: listens on TCP and/or UDP ports inside the pod's network namespace and answers
// every request with who it is (reply.ts). Started in the pod (`ip netns exec <pod> node
// serve.js …`); Node built-ins only. It stays up until signalled; a port it cannot bind ends it
// with exit 1 and the system's reason, so a lab never believes a server runs that does not.
import { createServer, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { parseServeArgs, UsageError, type ServeArgs } from './pod-tool-args.js';
import { replyLine } from '../shared/pod-reply.js';

function listenTcp(args: ServeArgs, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket: Socket) => {
      socket.on('error', () => socket.destroy());
      socket.end(
        replyLine({
          pod: args.pod,
          host: args.host,
          protocol: 'tcp',
          addr: socket.localAddress ?? '',
          port: socket.localPort ?? port,
          peer: socket.remoteAddress ?? '',
          peerPort: socket.remotePort ?? 0,
        }),
      );
    });
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0' }, () => {
      server.off('error', reject);
      server.on('error', (error) => process.stderr.write(`serve: tcp:${port}: ${String(error)}\n`));
      resolve();
    });
  });
}

function listenUdp(args: ServeArgs, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.on('message', (_message, from) => {
      // A socket bound to 0.0.0.0 is not told which address a datagram reached; a pod has one
      // address, the one its answer leaves from.
      const local = socket.address();
      socket.send(
        replyLine({ pod: args.pod, host: args.host, protocol: 'udp', addr: podAddress ?? local.address, port: local.port, peer: from.address, peerPort: from.port }),
        from.port,
        from.address,
      );
    });
    socket.once('error', reject);
    socket.bind({ port, address: '0.0.0.0' }, () => {
      socket.off('error', reject);
      socket.on('error', (error) => process.stderr.write(`serve: udp:${port}: ${String(error)}\n`));
      resolve();
    });
  });
}

/** The pod's own IPv4 address (its only non-loopback one). */
let podAddress: string | undefined;

async function main(): Promise<void> {
  let args: ServeArgs;
  try {
    args = parseServeArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`serve: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const { networkInterfaces } = await import('node:os');
  podAddress = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  for (const l of args.listen) {
    await (l.protocol === 'tcp' ? listenTcp(args, l.port) : listenUdp(args, l.port));
  }
  process.stdout.write(`serve: ${args.host}/${args.pod} listening on ${args.listen.map((l) => `${l.protocol}:${l.port}`).join(' ')}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`serve: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
