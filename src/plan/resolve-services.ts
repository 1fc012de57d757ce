// The Services with every value decided: each a ClusterIP (allocated from the Service range when
// the spec gives none, as the apiserver does — overlab from the 10th address up, in spec order,
// so a lab comes out the same every time) and each NodePort port a node port (from 30000 up).
// Pure.
import { inputError } from '../base/errors.js';
import { broadcastOf, intToIp, ipToInt, parseCidr } from '../shared/ipv4.js';
import type { ServicesSpec } from '../lab-spec/lab-spec.js';
import type { ResolvedServices } from './resolved-lab.js';

/** The first ClusterIP overlab hands out: .1 is the apiserver's (kubernetes.default), .10 its DNS. */
const FIRST_CLUSTER_IP_OFFSET = 10;
const NODE_PORTS = { first: 30000, last: 32767 };

export function resolveServices(spec: ServicesSpec): ResolvedServices {
  const range = parseCidr(spec.serviceCIDR);
  if (!range) throw inputError(`invalid serviceCIDR ${spec.serviceCIDR}`);
  const taken = new Set(spec.services.flatMap((s) => (s.clusterIP ? [ipToInt(s.clusterIP)] : [])));
  let next = range.network + FIRST_CLUSTER_IP_OFFSET;
  const nextClusterIP = (): string => {
    while (taken.has(next)) next++;
    if (next >= broadcastOf(range)) throw inputError(`serviceCIDR ${spec.serviceCIDR} has no address left for ${spec.services.length} Services`, 'use a wider serviceCIDR');
    taken.add(next);
    return intToIp(next++);
  };
  const usedNodePorts = new Set(spec.services.flatMap((s) => s.ports.flatMap((p) => (p.nodePort ? [`${p.nodePort}/${p.protocol}`] : []))));
  const nextNodePort = (protocol: string): number => {
    for (let port = NODE_PORTS.first; port <= NODE_PORTS.last; port++) {
      if (!usedNodePorts.has(`${port}/${protocol}`)) {
        usedNodePorts.add(`${port}/${protocol}`);
        return port;
      }
    }
    throw inputError('no NodePort left in 30000-32767', 'use fewer NodePort Services');
  };
  return {
    proxyMode: spec.proxyMode,
    serviceCIDR: spec.serviceCIDR,
    services: spec.services.map((s) => ({
      name: s.name,
      namespace: s.namespace,
      type: s.type,
      clusterIP: s.clusterIP ?? nextClusterIP(),
      ports: s.ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.targetPort,
        protocol: p.protocol,
        ...(s.type === 'NodePort' ? { nodePort: p.nodePort ?? nextNodePort(p.protocol) } : {}),
      })),
      endpoints: [...s.endpoints],
    })),
  };
}
