// Names and labels other tools and scripts rely on (docs/architecture.md "Names").
import { createHash } from 'node:crypto';
import { LINUX_IFNAME_MAX } from '../shared/interface-names.js';

export const LABEL_LAB = 'overlab.lab';
export const LABEL_NODE = 'overlab.node';
export const LABEL_ROLE = 'overlab.role';
export const LABEL_SPEC = 'overlab.spec';
export const LABEL_UNDERLAY = 'overlab.underlay';
/** On the switch: a hash of the resolved lab `up` built, to tell "already up" from "different". */
export const LABEL_FINGERPRINT = 'overlab.fingerprint';
/** On every container: the id of the `up` (or `node add`) that made it, so a rollback removes
 * only what its own run made, never a concurrent run's containers. */
export const LABEL_RUN = 'overlab.run';
/** On a host whose pods are attached through CNI (`cni`): `down` runs their DEL first. */
export const LABEL_POD_ATTACH = 'overlab.pod-attach';

/** Inside the switch container: the resolved lab (every address and MAC, the current members),
 * written during `up` and rewritten by `node add|rm`, read through the archive API. Labels keep
 * only small values: a model of any size never goes into an HTTP header or a label. */
export const LAB_STATE_DIR = '/etc/overlab';
export const LAB_MODEL_FILE = `${LAB_STATE_DIR}/lab.json`;
/** Written as the very last step of `up`, after every agent converged: the lab is whole. */
export const LAB_COMPLETE_FILE = `${LAB_STATE_DIR}/complete.json`;
/** In the switch of every engine of a lab spread over several but its first: the lab's engines
 * (how each is reached, the first the primary), so a command talking to that engine finds the
 * primary, where the model, the marker and the lock are. */
export const LAB_ENGINES_FILE = `${LAB_STATE_DIR}/engines.json`;
/** When each node's container had started when it was last wired (node → the engine's
 * StartedAt): a node whose container started since has lost its network namespace. */
export const LAB_BOOTS_FILE = `${LAB_STATE_DIR}/boots.json`;

/** The lab's share: a volume every container of the lab mounts here (read-only, but in the
 * switch), holding the helper that hands the switch's network namespace to the nodes
 * (native/netns-share.c) and its socket. */
export const SHARE_DIR = '/run/overlab/share';

export function shareVolumeName(lab: string): string {
  return `overlab-${lab}-share`;
}

export const UNDERLAY_BRIDGE = 'underlay';
export const SWITCH_NODE = 'switch';

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
