// /run/flannel/subnet.env — what the CNI side (and overlab's CLI) reads to attach pods.

import { type Ip4Net, formatNet, formatIp, netAddr, parseNet } from './ipv4.js';

export interface SubnetEnv {
  network: string; // FLANNEL_NETWORK=10.244.0.0/16
  subnet: string; // FLANNEL_SUBNET=10.244.1.1/24 (the bridge/gateway address, like flannel)
  mtu: number; // FLANNEL_MTU=1450
  ipMasq: boolean; // FLANNEL_IPMASQ=true
}

export function subnetEnvFor(network: Ip4Net, lease: Ip4Net, mtu: number, ipMasq: boolean): SubnetEnv {
  return {
    network: formatNet(network),
    subnet: `${formatIp(netAddr(lease, 1))}/${lease.prefixLen}`,
    mtu,
    ipMasq,
  };
}

export function renderSubnetEnv(e: SubnetEnv): string {
  return [
    `FLANNEL_NETWORK=${e.network}`,
    `FLANNEL_SUBNET=${e.subnet}`,
    `FLANNEL_MTU=${e.mtu}`,
    `FLANNEL_IPMASQ=${e.ipMasq ? 'true' : 'false'}`,
    '',
  ].join('\n');
}

/** Parses subnet.env; returns null when a required variable is missing or malformed. */
export function parseSubnetEnv(text: string): SubnetEnv | null {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)=(.*)$/.exec(line);
    if (m && m[1] && m[2] !== undefined) vars.set(m[1], m[2].trim().replace(/^"(.*)"$/, '$1'));
  }
  const network = vars.get('FLANNEL_NETWORK');
  const subnet = vars.get('FLANNEL_SUBNET');
  const mtu = Number(vars.get('FLANNEL_MTU'));
  if (!network || !subnet || !Number.isInteger(mtu)) return null;
  try {
    parseNet(network, false);
    parseNet(subnet, false);
  } catch {
    return null;
  }
  return { network, subnet, mtu, ipMasq: vars.get('FLANNEL_IPMASQ') === 'true' };
}

/** The lease subnet (10.244.1.0/24) from FLANNEL_SUBNET (10.244.1.1/24). */
export function leaseSubnetOf(e: SubnetEnv): Ip4Net {
  return parseNet(e.subnet, false);
}
