// Resolve the names a spec uses ("host1", "host1/pod1", "outside", "host1:docker0", literal
// addresses) against a resolved lab: to addresses, MACs, probe endpoints and capture points.
// References are parsed by the one parser (src/lab-spec/refs.ts), so a name that could not pass
// `validate` cannot reach a probe either.
import { inputError } from '../base/errors.js';
import type { ResolvedHost, ResolvedLab } from '../plan/resolved-lab.js';
import type { CaptureTarget } from '../probes/capture.js';
import type { Endpoint } from '../probes/endpoint.js';
import { cidrContains, isValidIpv4, isValidMac } from '../shared/ipv4.js';
import { parseRef, refProblem, type ParsedRef } from '../lab-spec/refs.js';
import { hostSubnet, usesAgent, vtepMac, vxlanDevice } from '../plan/overlay.js';
import { underlaySubnets } from '../plan/resolve-lab.js';
import { LabPartMissing } from './lab-part-missing.js';

/** What only the running lab knows: the VTEP MACs the agents chose, read from their etcd leases
 * (keyed "<host>/<network>"). A static control plane pins them, so the plan knows those. When
 * a network's leases could not be read, `unreadable` says why (keyed by network name). */
export interface LabFacts {
  vtepMacs: Record<string, string>;
  unreadable?: Record<string, string>;
}

interface Addressable {
  ip: string;
  mac: string;
}

export class LabReferences {
  constructor(
    readonly lab: ResolvedLab,
    readonly facts: LabFacts = { vtepMacs: {} },
  ) {}

  private parse(ref: string): ParsedRef {
    const externals = this.lab.externals.map((e) => e.name);
    const parsed = parseRef(ref, externals);
    if (!parsed) throw inputError(`${refProblem(ref) ?? `"${ref}" is not a reference`}`, 'use <host>, <host>/<pod>, <node>, <host>:<iface> or <host>/<pod>:<iface>');
    return parsed;
  }

  /** flannel's own devices in a host: flannel.<VNI> (VTEP) and flannel0 (TUN), at <subnet>.0. */
  private flannelDevice(host: ResolvedHost, iface: string, ref: string): Addressable | undefined {
    for (const network of this.lab.networks) {
      const ip = hostSubnet(host, network).split('/')[0]!;
      if (network.backend === 'vxlan' && iface === vxlanDevice(network)) {
        const key = `${host.name}/${network.name}`;
        const known = this.facts.vtepMacs[key];
        if (known) return { ip, mac: known };
        if (!usesAgent(network)) return { ip, mac: vtepMac(host, network) };
        // The agent chose this MAC and published it only in its lease: without the lease, the MAC is unknown.
        const why = this.facts.unreadable?.[network.name] ?? `${host.name} holds no lease in etcd`;
        throw new LabPartMissing(`${ref}: the VTEP MAC is published only in ${host.name}'s etcd lease, and ${why}`);
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
    const r = this.parse(ref);
    if (r.kind === 'ip' || r.kind === 'mac') return this.unknown(ref);
    const nodeName = r.kind === 'node' ? r.node : r.host;
    const pod = r.kind === 'pod' || (r.kind === 'iface' && r.pod !== undefined) ? r.pod : undefined;
    const iface = r.kind === 'iface' ? r.iface : undefined;
    const host = this.lab.hosts.find((h) => h.name === nodeName);
    if (host && pod !== undefined) {
      const found = host.pods.find((p) => p.name === pod);
      if (!found || (iface !== undefined && iface !== 'eth0')) return this.unknown(ref);
      return { ip: found.ip, mac: found.mac };
    }
    if (host) {
      if (iface === undefined || iface === 'eth0') return { ip: host.underlayIp, mac: host.underlayMac };
      const bridge = host.networks.find((n) => n.bridge === iface);
      if (bridge) return { ip: bridge.bridgeIp, mac: bridge.bridgeMac };
      return this.flannelDevice(host, iface, ref) ?? this.unknown(ref);
    }
    const external = this.lab.externals.find((e) => e.name === nodeName);
    if (external && pod === undefined && (iface === undefined || iface === 'eth0')) return { ip: external.underlayIp, mac: external.underlayMac };
    // a router on several segments: eth1, eth2, …
    const link = external && pod === undefined ? external.links?.find((l) => l.iface === iface) : undefined;
    if (link) return { ip: link.ip, mac: link.mac };
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

  /** Where a probe runs: a host, a pod (its netns) or an external node. */
  endpoint(ref: string): Endpoint {
    const r = this.parse(ref);
    if (r.kind === 'pod') {
      const host = this.lab.hosts.find((h) => h.name === r.host);
      if (!host || !host.pods.some((p) => p.name === r.pod)) return this.unknown(ref);
      return { container: host.container, netns: r.pod, label: ref };
    }
    if (r.kind === 'host' || r.kind === 'node') {
      const name = r.kind === 'host' ? r.host : r.node;
      const node = this.lab.hosts.find((h) => h.name === name) ?? this.lab.externals.find((e) => e.name === name);
      if (node) return { container: node.container, label: ref };
    }
    return this.unknown(ref);
  }

  captureTarget(ref: string): CaptureTarget {
    const r = this.parse(ref);
    if (r.kind !== 'iface') return { ...this.endpoint(ref), iface: 'eth0' };
    const at = r.pod !== undefined ? `${r.host}/${r.pod}` : r.host;
    return { ...this.endpoint(at), iface: r.iface };
  }

  /** The address a probe may send to: only inside the lab, whatever the spec says. */
  probeTarget(ref: string): string {
    const target = this.ip(ref);
    if (!this.isInsideLab(target)) {
      throw inputError(`${ref} (${target}) is outside lab ${this.lab.name}; overlab only probes the lab's own addresses`);
    }
    return target;
  }

  /** Safety: a probe may only target addresses inside the lab (its underlay, pod networks or
   * Service CIDR: ClusterIPs exist only in the lab's own rules). */
  isInsideLab(ip: string): boolean {
    const ranges = [...underlaySubnets(this.lab), ...this.lab.networks.map((n) => n.cidr), ...(this.lab.services ? [this.lab.services.serviceCIDR] : [])];
    return ranges.some((cidr) => cidrContains(cidr, ip));
  }

  /** The nodes an overlay check reads: the hosts, and etcd when the network's state lives there. */
  overlayNodes(networkName: string, ...hosts: string[]): string[] {
    const net = this.lab.networks.find((n) => n.name === networkName);
    const etcd = net && usesAgent(net) ? this.lab.externals.find((e) => e.role === 'etcd')?.name : undefined;
    return etcd ? [...hosts, etcd] : hosts;
  }

  /** The lab nodes (hosts and external nodes, by name) that these references stand on; a literal
   * address counts for the node that owns it. */
  nodesOf(...refs: string[]): string[] {
    const nodes = new Set<string>();
    for (const ref of refs) {
      const r = parseRef(ref, this.lab.externals.map((e) => e.name));
      if (!r || r.kind === 'mac') continue;
      if (r.kind === 'ip') {
        const owner =
          this.lab.hosts.find((h) => h.underlayIp === r.ip || h.pods.some((p) => p.ip === r.ip) || h.networks.some((n) => n.bridgeIp === r.ip)) ??
          this.lab.externals.find((e) => e.underlayIp === r.ip || e.links?.some((l) => l.ip === r.ip));
        if (owner) nodes.add(owner.name);
        continue;
      }
      nodes.add(r.kind === 'node' ? r.node : r.host);
    }
    return [...nodes];
  }
}
