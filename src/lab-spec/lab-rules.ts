// The rules a spec must meet beyond its shape (names that must exist or be unique, addresses that
// must fit together, references in checks), run on every well-formed part of the spec (the draft),
// and the typed LabSpec built from it. Networks and the underlay: network-rules.ts; hosts and
// nodes: member-rules.ts; each check and fault through its kind's `resolve` (the kinds are handed
// in: src/lab-loader/lab-kinds.ts).
import type { Draft } from './draft.js';
import type { RawCheck } from './lab-schema.js';
import type { SpecIssue } from './spec-error.js';
import { resolveKeyed, type LabKinds } from './keyed-kinds.js';
import { labSpec } from './spec-defaults.js';
import { checkGateway, checkHosts, checkNames, checkServePorts, checkUnderlayIps } from './member-rules.js';
import type { CheckSpec, FaultSpec, LabSpec } from './lab-spec.js';
import { checkNetworks, checkUnderlaySubnet } from './network-rules.js';
import { checkPodAttach } from './pod-attach-rules.js';
import { checkEngines } from './engine-rules.js';
import { checkSegments } from './segment-rules.js';
import { checkBgp } from './bgp-rules.js';
import { RuleState } from './rule-state.js';
import { checkServices } from './service-rules.js';
import { formatPath, type PathSeg, type SpecSource } from './yaml-source.js';
import { SpecScope } from './spec-scope.js';

export function checkLab(draft: Draft, src: SpecSource, file: string, kinds: LabKinds): { lab: LabSpec; issues: SpecIssue[] } {
  const st = new RuleState(draft, src);
  checkNetworks(st);
  checkUnderlaySubnet(st);
  const externals = checkNames(st);
  const hosts = checkHosts(st);
  checkUnderlayIps(st);
  checkGateway(st);
  checkSegments(st);
  checkBgp(st);
  checkPodAttach(st);
  checkServePorts(st);
  const services = checkServices(st, hosts);
  checkEngines(st);
  const scope = new SpecScope(
    src,
    st.issues,
    st.members,
    st.nets.map((n) => ({ name: n.spec.name, backend: n.spec.backend, controlPlane: n.spec.controlPlane, ...(n.cidr ? { cidr: n.cidr } : {}) })),
    st.underlay,
    st.knownIps,
    draft.gaps,
  );
  scope.services = services.scope;
  const checks = resolveCheckList(kinds, draft.lab.checks ?? [], scope);
  const faults = resolveFaults(kinds, draft.lab.faults ?? [], scope);
  const lab = labSpec(draft.lab, file, { networks: st.nets.map((n) => n.spec), hosts, externals, checks, faults, ...(services.spec ? { services: services.spec } : {}) });
  return { lab, issues: st.issues };
}

/** Each fault through its kind's `resolve`; `at` is where the list sits. */
export function resolveFaults(kinds: LabKinds, raws: readonly (Record<string, unknown> | undefined)[], scope: SpecScope, at: PathSeg[] = ['faults']): FaultSpec[] {
  const out: FaultSpec[] = [];
  raws.forEach((f, i) => {
    if (f === undefined) return;
    const path: PathSeg[] = [...at, i];
    const resolved = resolveKeyed(kinds.faults, f, scope, path);
    if (!resolved) return;
    out.push({
      kind: resolved.kind,
      ...(typeof f.description === 'string' ? { description: f.description } : {}),
      position: scope.position(path),
      [resolved.kind]: resolved.spec,
    } as FaultSpec);
  });
  return out;
}

/** Each check through its kind's `resolve`; names unique; `at` is where the list sits. */
export function resolveCheckList(kinds: LabKinds, raws: readonly (RawCheck | undefined)[], scope: SpecScope, at: PathSeg[] = ['checks']): CheckSpec[] {
  const seen = new Map<string, PathSeg[]>();
  const out: CheckSpec[] = [];
  raws.forEach((c, i) => {
    if (c === undefined) return;
    const path: PathSeg[] = [...at, i];
    const first = seen.get(c.name);
    if (first) scope.err([...path, 'name'], `duplicate check name "${c.name}"; ${formatPath(first)} already uses it.`);
    else seen.set(c.name, path);
    const resolved = resolveKeyed(kinds.checks, c as Record<string, unknown>, scope, path);
    if (!resolved) return;
    out.push({
      kind: resolved.kind,
      name: c.name,
      ...(c.description !== undefined ? { description: c.description } : {}),
      position: scope.position(path),
      [resolved.kind]: resolved.spec,
    } as CheckSpec);
  });
  return out;
}
