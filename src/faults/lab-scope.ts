// A fault typed on the command line meets the same `resolve` as one in a spec: its kind checks
// names against a SpecScope, here built from the running lab's model instead of a spec draft.
// Problems become one input error (exit 2) that names each argument and what would be right.
import { inputError } from '../base/errors.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { SpecIssue } from '../lab-spec/spec-error.js';
import { ipToInt, parseCidr } from '../shared/ipv4.js';
import { resolveKeyed } from '../lab-spec/keyed-kinds.js';
import type { FaultSpec, LabSpec } from '../lab-spec/lab-spec.js';
import { SpecSource } from '../lab-spec/yaml-source.js';
import { SpecScope, type ScopeMember, type ScopeNetwork } from '../lab-spec/spec-scope.js';
import { FAULT_KINDS } from './fault-kinds.js';

/** A SpecScope over a running lab: its hosts (with pods), external nodes and networks. */
export function scopeOfLab(lab: ResolvedLab, src: SpecSource, issues: SpecIssue[]): SpecScope {
  const members = new Map<string, ScopeMember>();
  for (const h of lab.hosts) members.set(h.name, { kind: 'host', path: [], pods: h.pods.map((p) => p.name) });
  for (const e of lab.externals) if (e.role !== 'etcd') members.set(e.name, { kind: 'node', path: [], role: e.role, pods: [] });
  const networks: ScopeNetwork[] = lab.networks.map((n) => {
    const cidr = parseCidr(n.cidr);
    return { name: n.name, backend: n.backend, controlPlane: n.controlPlane, ...(cidr ? { cidr } : {}) };
  });
  const known = new Set<number>([...lab.hosts.map((h) => ipToInt(h.underlayIp)), ...lab.externals.map((e) => ipToInt(e.underlayIp)), ...lab.hosts.flatMap((h) => h.pods.map((p) => ipToInt(p.ip)))]);
  const scope = new SpecScope(src, issues, members, networks, parseCidr(lab.underlay.subnet), known);
  scope.services = (lab.services?.services ?? []).map((s) => ({ name: s.name, namespace: s.namespace, type: s.type, ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })), endpoints: s.endpoints }));
  return scope;
}

/** `<kind> <args…>` from the command line → a resolved fault, or exit 2 saying what is wrong. */
export function faultFromArgs(lab: ResolvedLab, kindName: string, args: readonly string[]): FaultSpec {
  const kind = FAULT_KINDS.find((k) => k.key === kindName);
  if (!kind) throw inputError(`"${kindName}" is not a fault kind`, `the kinds: ${FAULT_KINDS.map((k) => k.key).join(', ')} (\`overlab fault add --help\` says what each does)`);
  const raw = kind.fromArgs(args) as unknown as Record<string, unknown>;
  const entry = { [kind.key]: raw };
  const issues: SpecIssue[] = [];
  const src = new SpecSource(JSON.stringify(entry), '<command line>');
  const scope = scopeOfLab(lab, src, issues);
  const resolved = resolveKeyed(FAULT_KINDS, entry, scope, []);
  if (issues.length || !resolved) {
    const text = issues.map((i) => `${i.path ? `${i.path.replace(new RegExp(`^${kind.key.replace(/[-]/g, '\\-')}\\.?`), '')}: ` : ''}${i.message}${i.hint ? ` ${i.hint}` : ''}`).join('; ');
    throw inputError(`fault ${kind.key}: ${text || 'cannot be resolved'}`, `overlab fault add ${lab.name} ${kind.key} ${kind.args}`);
  }
  return { kind: resolved.kind, [resolved.kind]: resolved.spec } as unknown as FaultSpec;
}

/** A SpecScope over a checked lab spec (a workshop exercise's lab): for resolving the exercise's
 * own checks, faults and solution targets, with problems reported at `src` (the exercise file). */
export function scopeOfSpec(spec: LabSpec, src: SpecSource, issues: SpecIssue[]): SpecScope {
  const members = new Map<string, ScopeMember>();
  for (const h of spec.hosts) members.set(h.name, { kind: 'host', path: [], pods: h.pods.map((p) => p.name) });
  for (const e of spec.externals) members.set(e.name, { kind: 'node', path: [], role: e.role, pods: [] });
  const networks: ScopeNetwork[] = spec.networks.map((n) => {
    const cidr = parseCidr(n.cidr);
    return { name: n.name, backend: n.backend, controlPlane: n.controlPlane, ...(cidr ? { cidr } : {}) };
  });
  const known = new Set<number>([
    ...[...spec.hosts, ...spec.externals].flatMap((m) => (m.underlayIp ? [ipToInt(m.underlayIp)] : [])),
    ...spec.hosts.flatMap((h) => h.pods.flatMap((p) => (p.ip ? [ipToInt(p.ip)] : []))),
  ]);
  const scope = new SpecScope(src, issues, members, networks, spec.underlay.subnet ? parseCidr(spec.underlay.subnet) : undefined, known);
  scope.services = (spec.services?.services ?? []).map((s) => ({ name: s.name, namespace: s.namespace, type: s.type, ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })), endpoints: s.endpoints }));
  return scope;
}
