// Rules for kube-proxy's part of a spec: the Service CIDR, the Services (unique names per
// namespace, ports Kubernetes would accept, ClusterIPs and NodePorts that fit and do not
// collide) and their endpoints — pods that exist and serve every targetPort. Builds the typed
// ServicesSpec; every problem is reported with its place in the file, all at once.
import { broadcastOf, cidrContains, cidrsOverlap, formatCidr, ipToInt, type Cidr } from '../shared/ipv4.js';
import type { HostSpec, ProxyMode, ServicePortSpec, ServicesSpec, ServiceSpec } from './lab-spec.js';
import type { RuleState } from './rule-state.js';
import type { ScopeService } from './spec-scope.js';
import { closest } from './suggest.js';
import { formatPath, type PathSeg } from './yaml-source.js';

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_NAMESPACE = 'default';
/** kube-apiserver refuses a Service range bigger than 2^20 addresses. */
const WIDEST_SERVICE_PREFIX = 12;

export function checkServices(st: RuleState, hosts: HostSpec[]): { spec?: ServicesSpec; scope: ScopeService[] } {
  const lab = st.draft.lab;
  if (lab.services === undefined && lab.proxyMode === undefined) return { scope: [] };
  const proxyMode: ProxyMode = lab.proxyMode ?? 'iptables';
  const serviceCIDR = lab.serviceCIDR ?? DEFAULT_SERVICE_CIDR;
  const range = serviceRange(st, serviceCIDR, lab.serviceCIDR !== undefined);

  const services: ServiceSpec[] = [];
  const names = new Map<string, PathSeg[]>();
  const clusterIPs = new Map<number, string>();
  const nodePorts = new Map<string, string>();
  (lab.services ?? []).forEach((raw, i) => {
    if (raw === undefined) return;
    const path: PathSeg[] = ['services', i];
    const namespace = raw.namespace ?? DEFAULT_NAMESPACE;
    const key = `${namespace}/${raw.name}`;
    const first = names.get(key);
    if (first) st.err([...path, 'name'], `duplicate Service "${key}"; ${formatPath(first)} already uses it.`, 'A Service name is unique in its namespace.');
    else names.set(key, path);
    const type = raw.type ?? 'ClusterIP';

    if (raw.clusterIP !== undefined && range) {
      const n = ipToInt(raw.clusterIP);
      const at: PathSeg[] = [...path, 'clusterIP'];
      if (!cidrContains(range, n)) st.err(at, `${raw.clusterIP} is outside serviceCIDR ${formatCidr(range)}.`, 'A ClusterIP comes from the Service range.');
      else if (n === range.network || n === broadcastOf(range)) st.err(at, `${raw.clusterIP} is the ${n === range.network ? 'network' : 'broadcast'} address of serviceCIDR ${formatCidr(range)}.`);
      else if (clusterIPs.has(n)) st.err(at, `${raw.clusterIP} is already the ClusterIP of ${clusterIPs.get(n)}.`);
      else clusterIPs.set(n, key);
    }

    const ports: ServicePortSpec[] = [];
    const portNames = new Map<string, number>();
    const seenPorts = new Set<string>();
    raw.ports.forEach((p, j) => {
      const at: PathSeg[] = [...path, 'ports', j];
      const protocol = p.protocol ?? 'TCP';
      if (p.name === undefined && raw.ports.length > 1) {
        st.err(at, `port ${p.port} has no name, and Service "${raw.name}" has ${raw.ports.length} ports.`, 'Kubernetes asks every port of a multi-port Service for a name: add name: (e.g. http).', 'key');
      }
      if (p.name !== undefined) {
        if (portNames.has(p.name)) st.err([...at, 'name'], `port name "${p.name}" is used twice in Service "${raw.name}".`);
        else portNames.set(p.name, j);
      }
      const portKey = `${p.port}/${protocol}`;
      if (seenPorts.has(portKey)) st.err([...at, 'port'], `${protocol} port ${p.port} is listed twice in Service "${raw.name}".`);
      seenPorts.add(portKey);
      if (p.nodePort !== undefined) {
        if (type !== 'NodePort') st.err([...at, 'nodePort'], `nodePort is for type NodePort, and Service "${raw.name}" is ${type}.`, 'Add type: NodePort, or remove nodePort.');
        const np = `${p.nodePort}/${protocol}`;
        const owner = nodePorts.get(np);
        if (owner) st.err([...at, 'nodePort'], `${protocol} NodePort ${p.nodePort} is already taken by ${owner}.`);
        else nodePorts.set(np, `${key}:${p.name ?? p.port}`);
      }
      ports.push({ name: p.name ?? '', port: p.port, targetPort: p.targetPort ?? p.port, protocol, ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}) });
    });

    const endpoints: string[] = [];
    raw.endpoints.forEach((ref, k) => {
      const at: PathSeg[] = [...path, 'endpoints', k];
      if (endpoints.includes(ref)) {
        st.err(at, `${ref} is listed twice as an endpoint of "${raw.name}".`);
        return;
      }
      endpoints.push(ref);
      endpointProblems(st, hosts, ref, ports, at);
    });

    services.push({ name: raw.name, namespace, type, ports, endpoints, ...(raw.clusterIP !== undefined ? { clusterIP: raw.clusterIP } : {}) });
  });

  return {
    spec: { proxyMode, serviceCIDR, services },
    scope: services.map((s) => ({ name: s.name, namespace: s.namespace, type: s.type, ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })), endpoints: s.endpoints })),
  };
}

function serviceRange(st: RuleState, text: string, given: boolean): Cidr | undefined {
  const at: PathSeg[] = ['serviceCIDR'];
  const c = st.cidr(at, text);
  if (!c) return undefined;
  const report = (message: string, hint?: string) => (given ? st.err(at, message, hint) : st.err(['services'], `the default serviceCIDR ${text}: ${message}`, hint ?? 'Set serviceCIDR to a free range.', 'key'));
  if (c.prefix < WIDEST_SERVICE_PREFIX) {
    report(`${text} is wider than a /${WIDEST_SERVICE_PREFIX}; Kubernetes allows at most 2^20 Service addresses.`);
    return undefined;
  }
  if (c.prefix > 28) {
    report(`${text} leaves too few addresses for Services; use a /28 or wider.`);
    return undefined;
  }
  const net = st.nets.find((n) => n.cidr && cidrsOverlap(n.cidr, c));
  if (net) {
    report(`${text} overlaps pod network "${net.spec.name}" (${net.spec.cidr}).`, 'A ClusterIP must not be a pod address: choose a range outside the pod networks.');
    return undefined;
  }
  if (st.underlay && cidrsOverlap(st.underlay, c)) {
    report(`${text} overlaps the underlay subnet ${formatCidr(st.underlay)}.`);
    return undefined;
  }
  return c;
}

/** An endpoint must be a pod that exists and serves each of the Service's target ports. */
function endpointProblems(st: RuleState, hosts: HostSpec[], ref: string, ports: ServicePortSpec[], at: PathSeg[]): void {
  const [hostName, podName] = ref.split('/') as [string, string];
  const member = st.members.get(hostName);
  if (!member) {
    if (st.draft.gaps.anyMember || st.draft.gaps.members.has(hostName)) return;
    const close = closest(hostName, [...st.members].filter(([, m]) => m.kind === 'host').map(([n]) => n));
    st.err(at, `unknown host "${hostName}" in endpoint "${ref}".`, close ? `Did you mean "${close}"?` : undefined);
    return;
  }
  if (member.kind === 'node') {
    st.err(at, `"${hostName}" is an external node; an endpoint is a pod on a host.`);
    return;
  }
  const pod = hosts.find((h) => h.name === hostName)?.pods.find((p) => p.name === podName);
  if (!pod) {
    if (st.draft.gaps.pods.has(ref) || st.draft.gaps.hostsWithUnnamedPods.has(hostName)) return;
    const close = closest(podName, member.pods);
    st.err(at, `${hostName} has no pod "${podName}".`, close ? `Did you mean "${hostName}/${close}"?` : `Its pods: ${member.pods.join(', ') || '(none)'}.`);
    return;
  }
  for (const p of ports) {
    if (pod.serve?.some((s) => s.port === p.targetPort && s.protocol === p.protocol)) continue;
    const serves = pod.serve?.length ? `it serves ${pod.serve.map((s) => `${s.protocol} ${s.port}`).join(', ')}` : 'it serves nothing';
    st.err(at, `${ref} does not serve ${p.protocol} ${p.targetPort} (targetPort of port ${p.name || p.port}); ${serves}.`, `Give the pod serve: [{ port: ${p.targetPort}${p.protocol === 'UDP' ? ', protocol: UDP' : ''} }].`);
  }
}
