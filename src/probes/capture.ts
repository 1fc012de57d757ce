// The capture probe: tcpdump at an interface while something else runs, the pcap decoded here.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { decodeCapture } from '../pcap/decode.js';
import type { CapturedPacket } from '../pcap/packet.js';
import { inEndpoint, type Endpoint } from './endpoint.js';

export interface CaptureTarget extends Endpoint {
  iface: string;
}

export interface CaptureResult<T> {
  on: string;
  linkType: number;
  packets: CapturedPacket[];
  truncated: boolean;
  during: T;
}

const SNAPLEN = 256; // room for outer + VXLAN + inner headers
const READY_TIMEOUT_MS = 10_000;

/** Resolve once tcpdump has said it is listening (its stderr), so no packet is missed. */
function waitUntilListening(stderr: NodeJS.ReadableStream, exited: Promise<number>, label: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump on ${label} did not start within ${READY_TIMEOUT_MS / 1000}s: ${text.trim()}`)), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (/listening on/.test(text)) {
        clearTimeout(timer);
        stderr.off('data', onData);
        resolve(text);
      }
    };
    stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump on ${label} exited (${code}) before listening: ${text.trim()}`));
    });
  });
}

export function tcpdumpArgv(target: CaptureTarget): string[] {
  // `exec` keeps the shell's PID for tcpdump, so it can be stopped by PID, never by name.
  const tcpdump = inEndpoint(target, ['tcpdump', '-i', target.iface, '--immediate-mode', '-U', '-n', '-s', String(SNAPLEN), '-w', '-']).join(' ');
  return ['sh', '-c', `echo "pid $$" >&2; exec ${tcpdump}`];
}

export async function captureWhile<T>(
  runtime: ContainerRuntime,
  target: CaptureTarget,
  during: () => Promise<T>,
): Promise<CaptureResult<T>> {
  const label = `${target.label}:${target.iface}`;
  const proc = await runtime.execStream(target.container, tcpdumpArgv(target));
  const chunks: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  let pid: string | undefined;
  proc.stderr.on('data', (chunk: Buffer) => {
    pid ??= /pid (\d+)/.exec(chunk.toString('utf8'))?.[1];
  });
  const stop = async () => {
    if (pid) await runtime.exec(target.container, ['kill', '-INT', pid]);
  };
  try {
    await waitUntilListening(proc.stderr, proc.exited, label);
    const result = await during();
    await stop();
    await proc.exited;
    const decoded = decodeCapture(new Uint8Array(Buffer.concat(chunks)));
    return { on: label, linkType: decoded.linkType, packets: decoded.packets, truncated: decoded.truncated, during: result };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
