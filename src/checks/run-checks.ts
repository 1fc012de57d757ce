// Run a lab's checks and say, for each, what was seen and — when it failed — why, in one line.
// planChecks says which may run together (src/checks/check-plan.ts).
// Dispatch is a registry lookup (src/checks/check-kinds.ts). A check whose lab part is gone
// (a stopped or removed node, an unreadable etcd) gets status "error" with the reason, never a
// pass or fail verdict drawn from missing evidence; one that needs a node on an engine that does
// not answer is "unreachable": not judged at all (verify exits 3 for it when nothing judged failed).
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { CheckSpec } from '../lab-spec/lab-spec.js';
import { EXIT_CHECK_FAILED, EXIT_ENVIRONMENT, OverlabError } from '../base/errors.js';
import type { CheckContext, Footprint, Verdict } from './check-kind.js';
import { CHECK_KINDS, checkKindOf } from './check-kinds.js';
import type { LabReferences } from '../lab/lab-references.js';
import { planGroups, reachOf, type CheckReach } from './check-plan.js';
import type { NodeAvailability, Unavailable } from '../lab/node-availability.js';
import { debugLog } from '../base/debug-log.js';

/** pass, fail; error: a part it needs is gone (a judged failure); unreachable: a node it needs is
 * on an engine that does not answer, so it could not be judged. */
export type CheckStatus = 'pass' | 'fail' | 'error' | 'unreachable';
/** The kind as reports name it ("ping", "capture", "kernel", "lease", "agent-cost"). */
export type CheckKind = string;

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
  /** The lab was degraded when verified: what is missing or broken (lab-state.ts). */
  degraded?: string;
  passed: number;
  /** Judged and not passed: fail or error. */
  failed: number;
  /** Not judged: a node a check needs is on an engine that does not answer (named in each reason). */
  unreachable: number;
  checks: CheckResult[];
}

/** The report label of a check's kind. */
export function checkKind(check: CheckSpec): CheckKind {
  return checkKindOf(check.kind)?.label ?? check.kind;
}

/** A check as stored with a lab built before checks carried `kind`: the kind is the key present. */
export function withKind(check: CheckSpec): CheckSpec {
  if ((check as { kind?: string }).kind !== undefined) return check;
  const kind = CHECK_KINDS.find((k) => Object.prototype.hasOwnProperty.call(check, k.key));
  return kind ? ({ ...check, kind: kind.key } as CheckSpec) : check;
}

/** The check's kind module, with the spec under its key (TypeScript cannot correlate the two). */
function kindAndSpec(check: CheckSpec) {
  const kind = checkKindOf(check.kind);
  if (!kind) throw new Error(`unknown check kind "${check.kind}"`);
  return { kind, spec: (check as unknown as Record<string, unknown>)[check.kind] as never };
}

export function footprintOf(check: CheckSpec, names: LabReferences): Footprint {
  const { kind, spec } = kindAndSpec(check);
  return kind.footprint(spec, names);
}


export async function runCheck(
  runtime: ContainerRuntime,
  names: LabReferences,
  check: CheckSpec,
  signal: AbortSignal,
  unavailable: NodeAvailability = new Map(),
  probe?: CheckContext['probe'],
): Promise<CheckResult> {
  const started = Date.now();
  const label = checkKind(check);
  const error = (reason: string, status: 'error' | 'unreachable' = 'error', details: Record<string, unknown> = {}): CheckResult => ({
    name: check.name,
    kind: label,
    status,
    seen: '-',
    reason,
    durationMs: Date.now() - started,
    details,
  });
  try {
    const { kind, spec } = kindAndSpec(check);
    const lab = names.lab;
    const members = new Set([...lab.hosts, ...lab.externals].map((n) => n.name));
    const needs = kind
      .footprint(spec, names)
      .nodes.map((n): Unavailable | undefined => unavailable.get(n) ?? (members.has(n) ? undefined : { reason: `${n} is not in lab ${lab.name} (removed with \`overlab node rm\`, or its container is gone)` }))
      .filter((r): r is Unavailable => r !== undefined);
    const reasons = [...new Set(needs.map((u) => u.reason))];
    // Something known to be wrong is a judged error; only engines that do not answer leave it unjudged.
    if (needs.length) {
      const engines = [...new Set(needs.flatMap((u) => (u.engine !== undefined ? [u.engine] : [])))];
      return needs.every((u) => u.engine !== undefined) ? error(reasons.join('; '), 'unreachable', { unreachableEngines: engines }) : error(reasons.join('; '));
    }
    const context: CheckContext = { runtime, lab: names.lab, names, ...(probe ? { probe } : {}) };
    const observation = await kind.run(spec, context, signal);
    const verdict: Verdict = kind.verdict(spec, observation as never);
    return { name: check.name, kind: label, ...verdict, durationMs: Date.now() - started };
  } catch (e) {
    if (e instanceof OverlabError && e.kind === 'interrupted') throw e;
    const message = e instanceof Error ? e.message : String(e);
    return error(message.split('\n')[0]!);
  }
}

/** The order checks run in: groups run one after another, the checks of a group together. Checks
 * that could see each other's traffic never share a group and keep the spec's order
 * (src/checks/check-plan.ts); a check whose footprint cannot be worked out runs alone. */
export function planChecks(checks: readonly CheckSpec[], names: LabReferences): CheckSpec[][] {
  const reaches = reachesOf(checks, names);
  return planGroups(reaches).map((group) => group.map((i) => checks[i]!));
}

/** Every check's reach (a check whose footprint cannot be worked out runs alone). */
export function reachesOf(checks: readonly CheckSpec[], names: LabReferences): CheckReach[] {
  return checks.map((check): CheckReach => {
    try {
      return reachOf(footprintOf(check, names), names);
    } catch (error) {
      debugLog('checks', `work out the footprint of ${check.name} (it runs alone)`, error);
      return { observes: new Set(), disturbs: new Set(), alone: true };
    }
  });
}

export function summarize(lab: string, checks: CheckResult[]): VerifyReport {
  return {
    lab,
    passed: checks.filter((c) => c.status === 'pass').length,
    failed: checks.filter((c) => c.status === 'fail' || c.status === 'error').length,
    unreachable: checks.filter((c) => c.status === 'unreachable').length,
    checks,
  };
}

/** The exit code of verified labs: 1 when a judged check failed; else 3 (environment) when a check
 * could not be judged because an engine does not answer; else 0. A failure outranks the unknown,
 * as a monitoring plugin's CRITICAL outranks its UNKNOWN. */
export function verifyExitCode(reports: readonly Pick<VerifyReport, 'failed' | 'unreachable'>[]): 0 | 1 | 3 {
  if (reports.some((r) => r.failed > 0)) return EXIT_CHECK_FAILED;
  if (reports.some((r) => (r.unreachable ?? 0) > 0)) return EXIT_ENVIRONMENT;
  return 0;
}
