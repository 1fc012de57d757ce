// What fault kinds share: where a reference points in a running lab (a namespace and an
// interface), running one argv there, and the checks every kind makes before it changes anything.
import { environmentError, inputError } from '../../base/errors.js';
import type { ResolvedLab, ResolvedNetwork } from '../../plan/resolved-lab.js';
import { usesAgent } from '../../plan/overlay.js';
import type { SpecScope } from '../../lab-spec/spec-scope.js';
import { parseRef } from '../../lab-spec/refs.js';
import type { PathSeg } from '../../lab-spec/yaml-source.js';
import type { ApplyContext, FaultContext } from '../fault-kind.js';
import { inNamespace, namespaceKey, nodeNamespace, type Namespace } from '../namespace.js';
import type { LinkState, NetnsState } from '../snapshot.js';

export const ETCD_NODE = 'etcd';

/** Spec time: a reference to a node (host or external node; "etcd" when the lab has one). */
export function resolveNode(scope: SpecScope, ref: string, path: PathSeg[], options: { hostOnly?: boolean } = {}): void {
  if (ref === ETCD_NODE && !options.hostOnly) {
    if (!scope.networks.some((n) => n.controlPlane === 'etcd')) scope.err(path, '"etcd" is a node only in labs with controlPlane etcd.');
    return;
  }
  if (options.hostOnly) return scope.hostRef(ref, path);
  const r = scope.ref(ref, path);
  if (!r) return;
  if (r.kind !== 'host' && r.kind !== 'node') return scope.err(path, `"${ref}" is not a node; name a host or an external node.`);
  scope.exists(r, path, ref);
}

/** Spec time: a node or a pod (where a route lives). */
export function resolveNodeOrPod(scope: SpecScope, ref: string, path: PathSeg[]): void {
  const r = scope.ref(ref, path);
  if (!r) return;
  if (r.kind !== 'host' && r.kind !== 'node' && r.kind !== 'pod') return scope.err(path, `"${ref}" is not a node or a pod; name a host, host/pod or an external node.`);
  scope.exists(r, path, ref);
}

/** Run time: the namespace of a node or pod reference. */
export function namespaceOf(lab: ResolvedLab, ref: string): Namespace {
  if (ref === ETCD_NODE) {
    const etcd = lab.externals.find((e) => e.role === 'etcd');
    if (etcd) return { node: etcd.name, container: etcd.container };
  }
  const r = parseRef(ref, lab.externals.map((e) => e.name));
  if (r && (r.kind === 'host' || r.kind === 'node')) {
    const ns = nodeNamespace(lab, r.kind === 'host' ? r.host : r.node);
    if (ns) return ns;
  }
  if (r?.kind === 'pod') {
    const host = lab.hosts.find((h) => h.name === r.host);
    if (host?.pods.some((p) => p.name === r.pod)) return { node: host.name, container: host.container, netns: r.pod };
  }
  throw inputError(`"${ref}" names no node or pod of lab ${lab.name}`, `its nodes: ${[...lab.hosts.map((h) => h.name), ...lab.externals.map((e) => e.name)].join(', ')}`);
}

/** Run time: an interface reference → its namespace and name. */
export function interfaceOf(lab: ResolvedLab, ref: string): { ns: Namespace; iface: string } {
  const r = parseRef(ref, lab.externals.map((e) => e.name));
  if (!r || r.kind !== 'iface') throw inputError(`"${ref}" is not an interface`, 'use <node>:<iface> or <host>/<pod>:<iface>, e.g. host1:eth0');
  return { ns: namespaceOf(lab, r.pod !== undefined ? `${r.host}/${r.pod}` : r.host), iface: r.iface };
}

export function stateOf(context: ApplyContext, ns: Namespace): NetnsState {
  const state = context.before.get(namespaceKey(ns));
  if (!state) throw new Error(`no kernel state read for ${namespaceKey(ns)}`);
  return state;
}

/** The interface as the kernel has it, or exit 2 listing the ones there are. */
export function linkOf(context: ApplyContext, ns: Namespace, iface: string): LinkState {
  const link = stateOf(context, ns).links[iface];
  if (!link) {
    const names = Object.keys(stateOf(context, ns).links).filter((n) => n !== 'lo');
    throw inputError(`${namespaceKey(ns)} has no interface ${iface}`, `its interfaces: ${names.join(', ')}`);
  }
  return link;
}

/** Run one argv in the namespace; a failure is an environment problem with the tool's words. */
export async function run(context: FaultContext, ns: Namespace, argv: string[]): Promise<void> {
  const r = await context.runtime.exec(ns.container, inNamespace(ns, argv), { signal: context.signal });
  if (r.exitCode !== 0) {
    throw environmentError(`\`${argv.join(' ')}\` failed in ${namespaceKey(ns)}: ${r.stderr.trim().split('\n').at(-1) || `exit ${r.exitCode}`}`);
  }
}

/** Run one argv; its output, or undefined when it failed. */
export async function read(context: FaultContext, ns: Namespace, argv: string[]): Promise<string | undefined> {
  const r = await context.runtime.exec(ns.container, inNamespace(ns, argv), { signal: context.signal });
  return r.exitCode === 0 ? r.stdout : undefined;
}

/** The pod network a VXLAN fault is about: the named one, or the lab's first vxlan network. */
export function vxlanNetwork(lab: ResolvedLab, name: string | undefined, kind: string): ResolvedNetwork {
  const net = name === undefined ? lab.networks.find((n) => n.backend === 'vxlan') : lab.networks.find((n) => n.name === name);
  if (!net || net.backend !== 'vxlan') {
    const what = lab.networks.map((n) => `${n.name} (${n.backend})`).join(', ');
    throw inputError(`${kind} needs a VXLAN network, and lab ${lab.name} has ${name ? `network ${name} as ` : ''}${what}`, 'FDB entries and VTEP neighbours exist only on a VXLAN overlay (flannel.<VNI>)');
  }
  return net;
}

export function agentNetworks(lab: ResolvedLab, kind: string): ResolvedNetwork[] {
  const nets = lab.networks.filter(usesAgent);
  if (!nets.length) {
    throw inputError(
      `${kind}: lab ${lab.name} has no agents — its networks (${lab.networks.map((n) => `${n.name}: ${n.backend}, controlPlane ${n.controlPlane}`).join('; ')}) are programmed by overlab itself`,
      'agents and etcd run only where a network has controlPlane etcd (flannel-vxlan, flannel-udp)',
    );
  }
  return nets;
}

/** Spec time: the named network, if given, must exist (its backend is checked when applied). */
export function resolveNetwork(scope: SpecScope, name: string | undefined, path: PathSeg[], fits: (backend: string) => boolean, what: string): string | undefined {
  if (name === undefined) {
    if (!scope.networks.some((n) => fits(n.backend)) && !scope.gaps.anyNetwork) scope.err(path.slice(0, -1), `this fault needs ${what}, and the lab has none.`);
    return undefined;
  }
  return scope.overlayNetwork(name, path, (b) => fits(b), what);
}
