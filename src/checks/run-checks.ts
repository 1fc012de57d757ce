// Run a lab's checks one after another (a capture must not see another check's ping) and say,
// for each, what was seen and — when it failed — why, in one line.
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { CaptureSpec, CheckSpec, PingSpec } from '../spec/model.js';
import { ping, pingDeadlineSeconds, type PingResult } from '../probes/ping.js';
import { captureDeadlineSeconds, captureWhile } from '../probes/capture.js';
import { describePacket } from '../pcap/describe.js';
import { LabNames } from './lab-names.js';
import { describeMatch, matchesPacket, resolvePacketMatch } from './packet-match.js';
import { evaluatePing } from './ping-verdict.js';
import { OverlabError } from '../core/errors.js';
import { runAgentCostCheck, runKernelCheck, runLeaseCheck } from './overlay-checks.js';

export type CheckStatus = 'pass' | 'fail' | 'error';
export type CheckKind = 'ping' | 'capture' | 'kernel' | 'lease' | 'agent-cost';

export function checkKind(check: CheckSpec): CheckKind {
  if (check.ping) return 'ping';
  if (check.capture) return 'capture';
  if (check.kernel) return 'kernel';
  if (check.lease) return 'lease';
  return 'agent-cost';
}

export interface CheckResult {
  name: string;
  kind: CheckKind;
  status: CheckStatus;
  /** What was seen, one line. */
  seen: string;
  /** Why it failed, one line; absent when it passed. */
  reason?: string;
  durationMs: number;
  details: Record<string, unknown>;
}

export interface VerifyReport {
  lab: string;
  passed: number;
  failed: number;
  checks: CheckResult[];
}

async function runPing(runtime: ContainerRuntime, names: LabNames, spec: PingSpec, signal?: AbortSignal): Promise<PingResult> {
  return ping(runtime, names.endpoint(spec.from), names.probeTarget(spec.to), { count: spec.count, ...(signal ? { signal } : {}) });
}

async function runPingCheck(runtime: ContainerRuntime, names: LabNames, check: CheckSpec & { ping: PingSpec }, signal?: AbortSignal) {
  const result = await runPing(runtime, names, check.ping, signal);
  const verdict = evaluatePing(result, check.ping.expect);
  return { kind: 'ping' as const, ...verdict, details: { ping: result } };
}

async function runCaptureCheck(runtime: ContainerRuntime, names: LabNames, check: CheckSpec & { capture: CaptureSpec }, signal?: AbortSignal) {
  const spec = check.capture;
  const expect = spec.expect.map((m) => resolvePacketMatch(m, names));
  const absent = spec.absent.map((m) => resolvePacketMatch(m, names));
  const target = names.captureTarget(spec.on);
  const deadlineSeconds = captureDeadlineSeconds(pingDeadlineSeconds(spec.during.ping));
  const captured = await captureWhile(runtime, target, () => runPing(runtime, names, spec.during.ping, signal), { deadlineSeconds });
  const packets = captured.packets.map((p) => p.packet);
  const missing = expect.filter((m) => !packets.some((p) => matchesPacket(p, m)));
  const intruders = absent
    .map((m) => ({ match: m, packet: packets.find((p) => matchesPacket(p, m)) }))
    .filter((x) => x.packet !== undefined);
  const matched = expect.map((m) => packets.filter((p) => matchesPacket(p, m)).length);
  const first = expect.length ? packets.find((p) => matchesPacket(p, expect[0]!)) : undefined;
  const seen =
    `${packets.length} packets on ${captured.on}` +
    (expect.length ? `; expected seen ${matched.filter((n) => n > 0).length}/${expect.length}` : '') +
    (first ? `; e.g. ${describePacket(first)}` : '');
  let reason: string | undefined;
  if (missing.length) {
    reason = `not seen on ${captured.on}: ${describeMatch(missing[0]!)}` + (missing.length > 1 ? ` (+${missing.length - 1} more)` : '');
  } else if (intruders.length) {
    reason = `must not appear on ${captured.on} but did: ${describePacket(intruders[0]!.packet!)}`;
  }
  return {
    kind: 'capture' as const,
    status: (reason ? 'fail' : 'pass') as CheckStatus,
    seen,
    ...(reason ? { reason } : {}),
    details: {
      on: captured.on,
      ping: captured.during,
      packets: captured.packets.map((p) => ({ index: p.index, summary: describePacket(p.packet) })),
      expectMatched: expect.map((m, i) => ({ match: describeMatch(m), count: matched[i] })),
      absentSeen: intruders.map((x) => ({ match: describeMatch(x.match), packet: describePacket(x.packet!) })),
    },
  };
}

export async function runCheck(runtime: ContainerRuntime, names: LabNames, check: CheckSpec, signal?: AbortSignal): Promise<CheckResult> {
  const started = Date.now();
  try {
    const outcome = check.ping
      ? await runPingCheck(runtime, names, { ...check, ping: check.ping }, signal)
      : check.capture
        ? await runCaptureCheck(runtime, names, { ...check, capture: check.capture }, signal)
        : check.kernel
          ? { kind: 'kernel' as const, ...(await runKernelCheck(runtime, names, check.kernel)) }
          : check.lease
            ? { kind: 'lease' as const, ...(await runLeaseCheck(runtime, names, check.lease)) }
            : { kind: 'agent-cost' as const, ...(await runAgentCostCheck(runtime, names, check.agentCost!, signal)) };
    return { name: check.name, ...outcome, durationMs: Date.now() - started };
  } catch (error) {
    if (error instanceof OverlabError && error.kind === 'interrupted') throw error;
    const message = error instanceof Error ? error.message : String(error);
    return {
      name: check.name,
      kind: checkKind(check),
      status: 'error',
      seen: '-',
      reason: message.split('\n')[0]!,
      durationMs: Date.now() - started,
      details: {},
    };
  }
}

export function summarize(lab: string, checks: CheckResult[]): VerifyReport {
  return {
    lab,
    passed: checks.filter((c) => c.status === 'pass').length,
    failed: checks.filter((c) => c.status !== 'pass').length,
    checks,
  };
}
