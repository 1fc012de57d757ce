// Resolve the names a spec uses ("host1", "host1/pod1", "outside", "host1:docker0", literal
// addresses) against a resolved lab: to addresses, MACs, probe endpoints and capture points.
import { inputError } from '../core/errors.js';
import type { ResolvedLab } from '../plan/resolved-lab.js';
import type { CaptureTarget } from '../probes/capture.js';
import type { Endpoint } from '../probes/endpoint.js';
import { cidrContains, isValidIpv4, isValidMac } from '../spec/ipv4.js';
import { hostSubnet, vtepMac, vxlanDevice } from '../plan/overlay.js';

/** What only the running lab knows: the VTEP MACs the agents chose, read from their etcd leases
 * (keyed "<host>/<network>"). A static control plane pins them, so the plan knows those. */
export interface LabFacts {
  vtepMacs: Record<string, string>;
}

interface Addressable {
  ip: string;
  mac: string;
}

const POD_SEPARATOR = '/';
const IFACE_SEPARATOR = ':';

function splitIface(ref: string): { node: string; iface?: string } {
  // MAC literals contain ':' too; callers test for them first.
  const colon = ref.indexOf(IFACE_SEPARATOR);
  return colon < 0 ? { node: ref } : { node: ref.slice(0, colon), iface: ref.slice(colon + 1) };
}

export class LabNames {
  constructor(
    readonly lab: ResolvedLab,
    readonly facts: LabFacts = { vtepMacs: {} },
  ) {}

  /** flannel's own devices in a host: flannel.<VNI> (VTEP) and flannel0 (TUN), at <subnet>.0. */
  private flannelDevice(host: ResolvedLab['hosts'][number], iface: string): Addressable | undefined {
    for (const network of this.lab.networks) {
      const ip = hostSubnet(host, network).split('/')[0]!;
      if (network.backend === 'vxlan' && iface === vxlanDevice(network)) {
        return { ip, mac: this.facts.vtepMacs[`${host.name}/${network.name}`] ?? vtepMac(host, network) };
      }
      if (network.backend === 'udp' && iface === 'flannel0') return { ip, mac: '' };
    }
    return undefined;
  }

  private unknown(ref: string): never {
    throw inputError(`"${ref}" names nothing in lab ${this.lab.name}`, 'use <host>, <host>/<pod>, <node>, or <host>:<iface>');
  }

  /** The address and MAC a name stands for (its eth0, or the named interface). */
  addressOf(ref: string): Addressable {
    const { node, iface } = splitIface(ref);
    const [hostName, podName] = node.split(POD_SEPARATOR);
    const host = this.lab.hosts.find((h) => h.name === hostName);
    if (host && podName !== undefined) {
      const pod = host.pods.find((p) => p.name === podName);
      if (!pod || (iface !== undefined && iface !== 'eth0')) return this.unknown(ref);
      return { ip: pod.ip, mac: pod.mac };
    }
    if (host) {
      if (iface === undefined || iface === 'eth0') return { ip: host.underlayIp, mac: host.underlayMac };
      const bridge = host.networks.find((n) => n.bridge === iface);
      if (bridge) return { ip: bridge.bridgeIp, mac: bridge.bridgeMac };
      return this.flannelDevice(host, iface) ?? this.unknown(ref);
    }
    const external = this.lab.externals.find((e) => e.name === node);
    if (external && (iface === undefined || iface === 'eth0')) return { ip: external.underlayIp, mac: external.underlayMac };
    return this.unknown(ref);
  }

  ip(ref: string): string {
    if (isValidIpv4(ref)) return ref;
    return this.addressOf(ref).ip;
  }

  mac(ref: string): string {
    if (isValidMac(ref)) return ref.toLowerCase();
    return this.addressOf(ref).mac;
  }

  endpoint(ref: string): Endpoint {
    const [hostName, podName] = ref.split(POD_SEPARATOR);
    const host = this.lab.hosts.find((h) => h.name === hostName);
    if (host && podName !== undefined) {
      if (!host.pods.some((p) => p.name === podName)) return this.unknown(ref);
      return { container: host.container, netns: podName, label: ref };
    }
    if (host) return { container: host.container, label: ref };
    const external = this.lab.externals.find((e) => e.name === ref);
    if (external) return { container: external.container, label: ref };
    return this.unknown(ref);
  }

  captureTarget(ref: string): CaptureTarget {
    const { node, iface } = splitIface(ref);
    return { ...this.endpoint(node), iface: iface ?? 'eth0' };
  }

  /** The address a probe may send to: only inside the lab, whatever the spec says. */
  probeTarget(ref: string): string {
    const target = this.ip(ref);
    if (!this.isInsideLab(target)) {
      throw inputError(`${ref} (${target}) is outside lab ${this.lab.name}; overlab only probes the lab's own addresses`);
    }
    return target;
  }

  /** Safety: a probe may only target addresses inside the lab (its underlay or pod networks). */
  isInsideLab(ip: string): boolean {
    const ranges = [this.lab.underlay.subnet, ...this.lab.networks.map((n) => n.cidr)];
    return ranges.some((cidr) => cidrContains(cidr, ip));
  }
}
