#!/usr/bin/env node
// Stands in for `ssh` in unit tests (first on PATH): records its argv, then relays stdin/stdout to
// the fake engine's unix socket as `docker system dial-stdio` would, half-close included. With
// FAKE_SSH_FAIL="<exit>:<stderr text>" it fails the way ssh does instead.
import { appendFileSync } from 'node:fs';
import net from 'node:net';

if (process.env.FAKE_SSH_LOG) appendFileSync(process.env.FAKE_SSH_LOG, JSON.stringify(process.argv.slice(2)) + '\n');
const fail = process.env.FAKE_SSH_FAIL;
if (fail) {
  const colon = fail.indexOf(':');
  process.stderr.write(fail.slice(colon + 1) + '\n');
  process.exit(Number(fail.slice(0, colon)));
}
const socket = net.connect(process.env.FAKE_SSH_SOCKET);
socket.on('connect', () => {
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
});
socket.on('end', () => process.stdout.end());
socket.on('close', () => process.exit(0));
socket.on('error', (error) => {
  process.stderr.write(`dial-stdio: ${error.message}\n`);
  process.exit(1);
});
