// The capture probe: tcpdump at an interface while something else runs, the pcap decoded here.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { decodeCapture } from '../pcap/decode.js';
import type { CapturedPacket } from '../pcap/packet.js';
import { inEndpoint, type Endpoint } from './endpoint.js';
import { announcedPid, bounded, PROBE_PID_DIR, recordingPid } from '../plan/process-argv.js';
import { nameProblem } from '../lab-spec/name-rules.js';
import { inputError } from '../base/errors.js';
import { tolerated } from '../base/debug-log.js';
import { endingWithCaller } from './stdin-bound.js';

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
    exited.then(
      (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump on ${label} exited (${code}) before listening: ${text.trim()}`));
      },
      (error: Error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** A capture that nobody stops (its CLI was killed) ends by itself this long after it started,
 * when its caller does not say how long its `during` action may take. */
export const DEFAULT_CAPTURE_DEADLINE_SECONDS = 60;
/** Room around the `during` action: tcpdump's own start, the execs before and after. */
const CAPTURE_MARGIN_SECONDS = 10;

/** The deadline of a capture whose `during` action is itself bounded by `duringSeconds`. */
export function captureDeadlineSeconds(duringSeconds: number): number {
  return Math.ceil(READY_TIMEOUT_MS / 1000 + duringSeconds + CAPTURE_MARGIN_SECONDS);
}

export interface CaptureOptions {
  /** Seconds after which tcpdump stops inside the container whatever happens to this process:
   * longer than tcpdump's start plus the whole `during` action. */
  deadlineSeconds?: number;
}

/** tcpdump as an argv: a PID file and the PID on stderr (stopped by PID, never by name), a
 * deadline (timeout), then tcpdump in the endpoint's namespace. No shell reads any value. */
export function tcpdumpArgv(target: CaptureTarget, deadlineSeconds: number = DEFAULT_CAPTURE_DEADLINE_SECONDS): string[] {
  const problem = nameProblem('iface', target.iface);
  if (problem) throw inputError(`cannot capture on ${target.label}:${target.iface}: ${problem}`);
  const tcpdump = ['tcpdump', '-i', target.iface, '--immediate-mode', '-U', '-n', '-s', String(SNAPLEN), '-w', '-'];
  return recordingPid(PROBE_PID_DIR, bounded(inEndpoint(target, tcpdump), deadlineSeconds));
}

export async function captureWhile<T>(
  runtime: ContainerRuntime,
  target: CaptureTarget,
  during: () => Promise<T>,
  options: CaptureOptions = {},
): Promise<CaptureResult<T>> {
  const label = `${target.label}:${target.iface}`;
  // Ends with this process however it ends (Ctrl-C, SIGKILL): stdin-bound.ts.
  const proc = await runtime.execStream(target.container, endingWithCaller(tcpdumpArgv(target, options.deadlineSeconds)), { holdStdin: true });
  const chunks: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  let announced = '';
  proc.stderr.on('data', (chunk: Buffer) => {
    if (announced.length < 64) announced += chunk.toString('utf8');
  });
  // SIGINT to `timeout` (the announced PID) is passed on to tcpdump, which flushes and exits.
  const stop = async () => {
    const pid = announcedPid(announced);
    if (pid) await runtime.exec(target.container, ['kill', '-INT', String(pid)]);
  };
  try {
    await waitUntilListening(proc.stderr, proc.exited, label);
    const result = await during();
    await stop();
    await proc.exited;
    const decoded = decodeCapture(new Uint8Array(Buffer.concat(chunks)));
    return { on: label, linkType: decoded.linkType, packets: decoded.packets, truncated: decoded.truncated, during: result };
  } catch (error) {
    await stop().catch(tolerated('probes', `stop the capture on ${label} after a failure`));
    throw error;
  }
}
