// The tunnel-port probe: for every ordered pair of a lab's engines, at once, a datagram from the
// sending machine to the receiving machine's address on the tunnels' UDP port, and whether it
// arrives there. Each end runs in a helper container with network `host` that the caller made
// (one per engine, NET_RAW granted): the same machine namespace the VXLAN devices live in, so the
// datagram takes the tunnel's path through both machines' firewalls. Nothing is sent to any
// address but an engine's own; every listener ends with the try (or with overlab, by stdin).
import { randomBytes } from 'node:crypto';
import type { ContainerRuntime, StreamingExec } from '../runtime/runtime.js';
import { endingWithCaller } from './stdin-bound.js';
import { enginePairs, firewallFix, LISTENING, listenerArgv, probeToken, refusedBySender, senderArgv, type EnginePair, type PairResult, type PortEngine } from '../plan/tunnel-port.js';
import { debugLog } from '../base/debug-log.js';

/** One engine's end: its address, its runtime and the helper container there. */
export interface ProbeSide extends PortEngine {
  runtime: ContainerRuntime;
  container: string;
}

export interface TunnelPortOptions {
  port: number;
  signal: AbortSignal;
  /** How long one pair is tried before it is called dropped. */
  deadlineMs?: number;
  /** How long to wait for one datagram before sending another. */
  resendMs?: number;
  /** How long the listener may take to start (an exec on a busy engine can take seconds). */
  listenStartMs?: number;
  /** Injected in tests: the time now. */
  now?: () => number;
}

/** A datagram lost once on a healthy LAN is rare; one never seen in this long is not coming. */
export const DEFAULT_PROBE_DEADLINE_MS = 5_000;
const DEFAULT_RESEND_MS = 1_000;
/** At least this many datagrams before a pair is called dropped. */
const MIN_SENDS = 3;
const LISTEN_START_MS = 20_000;

/** Every ordered pair of `sides`, tried at the same time. */
export async function probeTunnelPort(sides: ProbeSide[], options: TunnelPortOptions): Promise<PairResult[]> {
  return Promise.all(enginePairs(sides).map((pair) => probePair(pair, options)));
}

function linkedAbort(signal: AbortSignal): AbortController {
  const controller = new AbortController();
  const stop = () => controller.abort(signal.reason);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  controller.signal.addEventListener('abort', () => signal.removeEventListener('abort', stop), { once: true });
  return controller;
}

/** Text of a stream as it comes; `seen(re)` resolves when it matches, or with false at `until`. */
function watch(stream: NodeJS.ReadableStream, exited: Promise<number>) {
  let text = '';
  let ended = false;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    wake();
  });
  void exited.then(() => {
    ended = true;
    wake();
  });
  return {
    text: () => text,
    ended: () => ended,
    seen(match: (text: string) => boolean, ms: number): Promise<boolean> {
      return new Promise((resolve) => {
        const done = (value: boolean) => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(value);
        };
        const check = () => {
          if (match(text)) done(true);
          else if (ended) done(false);
        };
        const timer = setTimeout(() => done(match(text)), Math.max(0, ms));
        waiters.add(check);
        check();
      });
    },
  };
}

async function probePair(pair: EnginePair & { from: ProbeSide; to: ProbeSide }, options: TunnelPortOptions): Promise<PairResult> {
  const now = options.now ?? Date.now;
  const deadlineMs = options.deadlineMs ?? DEFAULT_PROBE_DEADLINE_MS;
  const resendMs = options.resendMs ?? DEFAULT_RESEND_MS;
  const listenStartMs = options.listenStartMs ?? LISTEN_START_MS;
  const base = { from: pair.from.name, fromAddress: pair.from.address, to: pair.to.name, toAddress: pair.to.address, port: options.port, protocol: 'udp' as const };
  const token = probeToken(pair, randomBytes(6).toString('hex'));
  const stop = linkedAbort(options.signal);
  const started = now();
  let listener: StreamingExec | undefined;
  let sent = 0;
  try {
    const lifetime = (listenStartMs + deadlineMs) / 1000 + 5;
    listener = await pair.to.runtime.execStream(pair.to.container, endingWithCaller(listenerArgv(pair, lifetime)), { signal: stop.signal, holdStdin: true });
    const out = watch(listener.stdout, listener.exited);
    const err = watch(listener.stderr, listener.exited);
    if (!(await err.seen((t) => LISTENING.test(t), listenStartMs))) {
      options.signal.throwIfAborted();
      const said = err.text().trim().split('\n').at(-1) ?? '';
      return { ...base, verdict: 'skipped', sent, ms: now() - started, detail: `the listener on engine ${pair.to.name} did not start${said ? `: ${said}` : ''}` };
    }
    const from = now();
    // Dropped only after MIN_SENDS datagrams, each given resendMs to show up, and the deadline:
    // on a busy machine one exec (the send) or the listener's output can take seconds.
    while (sent < MIN_SENDS || now() - from < deadlineMs) {
      options.signal.throwIfAborted();
      const send = await pair.from.runtime.exec(pair.from.container, senderArgv(pair, options.port), { stdin: token, signal: options.signal });
      sent++;
      if (send.exitCode !== 0) {
        // socat's last line: "… E sendto(5, …): Operation not permitted" — the reason is its tail.
        const said = send.stderr.trim().split('\n').at(-1)?.split(': ').at(-1) || `exit ${send.exitCode}`;
        const verdict = refusedBySender(send.stderr) ? 'refused' : 'failed';
        return { ...base, verdict, sent, ms: now() - started, detail: said, fix: firewallFix(pair, options.port, verdict) };
      }
      if (await out.seen((t) => t.includes(token), sent < MIN_SENDS ? resendMs : Math.max(resendMs, deadlineMs - (now() - from)))) {
        debugLog('probes', `tunnel port ${pair.from.name} → ${pair.to.name}: listening after ${from - started} ms, arrived ${now() - from} ms later (${sent} sent)`);
        return { ...base, verdict: 'passes', sent, ms: now() - started };
      }
      if (out.ended()) break;
    }
    options.signal.throwIfAborted();
    return { ...base, verdict: 'dropped', sent, ms: now() - started, fix: firewallFix(pair, options.port, 'dropped') };
  } finally {
    stop.abort();
    // The listener's end: the engine closes its stdin, the wrapper ends socat.
    if (listener) await listener.exited.catch((error: unknown) => debugLog('probes', `end the tunnel-port listener on ${pair.to.name}`, error));
  }
}
