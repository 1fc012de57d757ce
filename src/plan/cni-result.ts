// Pure: what a CNI ADD result tells the lab. The bridge plugin picks the pod's MAC (the kernel's
// random one), the host-side veth name (vethXXXXXXXX) and, when it made the bridge, leaves the
// bridge with its own MAC; host-local picks the address. The rest of overlab reads those from the
// lab model, so `up` writes them there (applyAttachments) once the pods are attached.
import { OverlabError } from '../base/errors.js';
import { isValidMac } from '../shared/ipv4.js';
import { isValidName } from '../lab-spec/name-rules.js';
import type { JsonObject } from './cni-conflist.js';
import type { ResolvedHost, ResolvedLab } from './resolved-lab.js';

/** A pod as its ADD left it. */
export interface AttachedPod {
  host: string;
  pod: string;
  /** eth0 inside the pod. */
  mac: string;
  /** The veth end in the host, a port of the bridge. */
  hostVeth: string;
  bridge: string;
  /** The bridge's MAC when the plugin finished. */
  bridgeMac: string;
  /** `a.b.c.d/len` host-local handed out. */
  address: string;
}

interface ResultInterface {
  name?: unknown;
  mac?: unknown;
  sandbox?: unknown;
}

function problem(host: string, pod: string, what: string): OverlabError {
  return new OverlabError('environment', `CNI ADD of ${host}/${pod} returned ${what}`, 'the plugins in /usr/lib/cni and /opt/cni/bin may not match this overlab: rebuild the host image (`overlab image build`)');
}

/** The result's interfaces, addresses and MACs, checked (names and MACs go into commands later). */
export function attachedPod(host: string, pod: string, bridge: string, ifName: string, result: JsonObject): AttachedPod {
  const interfaces = Array.isArray(result.interfaces) ? (result.interfaces as ResultInterface[]) : [];
  const ips = Array.isArray(result.ips) ? (result.ips as { address?: unknown; interface?: unknown }[]) : [];
  const inPod = interfaces.findIndex((i) => i.name === ifName && typeof i.sandbox === 'string' && i.sandbox !== '');
  const br = interfaces.find((i) => i.name === bridge && !i.sandbox);
  const veth = interfaces.find((i) => typeof i.name === 'string' && i.name !== bridge && !i.sandbox);
  if (inPod < 0 || !br || !veth) throw problem(host, pod, `no ${ifName}, ${bridge} and host veth in its interfaces: ${JSON.stringify(result.interfaces ?? null)}`);
  const eth = interfaces[inPod]!;
  const ip = ips.find((i) => i.interface === inPod && typeof i.address === 'string');
  if (!ip) throw problem(host, pod, `no address for ${ifName}: ${JSON.stringify(result.ips ?? null)}`);
  for (const [what, mac] of [[`${ifName}'s MAC`, eth.mac], [`${bridge}'s MAC`, br.mac], ['the host veth\'s MAC', veth.mac]] as const) {
    if (typeof mac !== 'string' || !isValidMac(mac)) throw problem(host, pod, `${what} as ${JSON.stringify(mac)}`);
  }
  if (!isValidName('iface', veth.name)) throw problem(host, pod, `a host veth named ${JSON.stringify(veth.name)}`);
  return {
    host,
    pod,
    mac: (eth.mac as string).toLowerCase(),
    hostVeth: veth.name,
    bridge,
    bridgeMac: (br.mac as string).toLowerCase(),
    address: ip.address as string,
  };
}

/** Is host-local's address the plan's? It must be: every check and probe uses the plan's. */
export function assertPlannedAddress(host: ResolvedHost, attached: AttachedPod): void {
  const pod = host.pods.find((p) => p.name === attached.pod)!;
  const planned = `${pod.ip}/${pod.prefixLen}`;
  if (attached.address !== planned) {
    throw new OverlabError(
      'internal',
      `host-local gave ${host.name}/${pod.name} ${attached.address}, but the plan says ${planned} (a bug in overlab's host-local model, src/plan/cni-host-local.ts: please report it)`,
    );
  }
}

/** Write what the plugins chose into the lab model: pods' MACs and veth names, the bridge's MAC
 * (the last ADD's answer is the bridge as it is now). Changes `lab` in place. */
export function applyAttachments(lab: ResolvedLab, attached: readonly AttachedPod[]): void {
  for (const a of attached) {
    const host = lab.hosts.find((h) => h.name === a.host);
    const pod = host?.pods.find((p) => p.name === a.pod);
    if (!host || !pod) continue;
    pod.mac = a.mac;
    pod.hostVeth = a.hostVeth;
    const network = host.networks.find((n) => n.network === pod.network);
    if (network) network.bridgeMac = a.bridgeMac;
  }
}

/** How a diagram names a pod's host veth (and MAC) before CNI has chosen them. */
export function vethLabel(hostVeth: string): string {
  return hostVeth || 'CNI veth';
}
export function macLabel(mac: string): string {
  return mac || 'MAC by CNI';
}
