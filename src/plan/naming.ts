// Names and labels other tools and scripts rely on (DESIGN.md "Conventions").
import { createHash } from 'node:crypto';

export const LABEL_LAB = 'overlab.lab';
export const LABEL_NODE = 'overlab.node';
export const LABEL_ROLE = 'overlab.role';
export const LABEL_SPEC = 'overlab.spec';
export const LABEL_UNDERLAY = 'overlab.underlay';
/** On the switch container: the resolved lab as JSON, so labs can be verified without the spec. */
export const LABEL_RESOLVED = 'overlab.resolved';
export const LABEL_FINGERPRINT = 'overlab.fingerprint';
/** On a host that joined a running lab (`overlab node add`): its resolved host as JSON. */
export const LABEL_JOINED_HOST = 'overlab.joined-host';

export const UNDERLAY_BRIDGE = 'underlay';
export const SWITCH_NODE = 'switch';
export const LINUX_IFNAME_MAX = 15;

export function containerName(lab: string, node: string): string {
  return `overlab-${lab}-${node}`;
}

export function switchContainerName(lab: string): string {
  return containerName(lab, SWITCH_NODE);
}

/** Host-side veth of a pod: readable when it fits Linux's 15 characters, hashed otherwise. */
export function hostVethName(pod: string): string {
  const readable = `veth-${pod}`;
  if (readable.length <= LINUX_IFNAME_MAX) return readable;
  return `veth${createHash('sha256').update(pod).digest('hex').slice(0, 8)}`;
}
