// Entry point of the flannel shim: /opt/cni/bin/flannel (a constant wrapper) runs
// `node /opt/overlab/agent/cni-flannel-main.js` with the CNI_* environment and the network
// config on stdin. The logic is cni-flannel.ts; this file only gives it the real I/O.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { runFlannelPlugin, type CniIo } from './flannel-plugin.js';

/** A delegate gets this long (the bridge plugin alone may wait 2.5 s for its port). */
const DELEGATE_TIMEOUT_MS = 25_000;

const io: CniIo = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
  writeFileSynced(path, content) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(path, 'w', 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  removeFile: (path) => rmSync(path, { force: true }),
  exists: (path) => existsSync(path),
  exec(path, env, stdin) {
    const r = spawnSync(path, [], { env, input: stdin, encoding: 'utf8', timeout: DELEGATE_TIMEOUT_MS, maxBuffer: 1 << 20 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error.message) : '') };
  },
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

const outcome = runFlannelPlugin(io, readFileSync(0, 'utf8'));
if (outcome.stdout) process.stdout.write(outcome.stdout.endsWith('\n') ? outcome.stdout : `${outcome.stdout}\n`);
process.exitCode = outcome.exitCode;
