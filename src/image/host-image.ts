// What goes into overlab's host image, shared by both build methods.
import { readFileSync } from 'node:fs';

export const HOST_IMAGE_REPO = 'overlab/host';

/** Debian packages every lab node needs (docs/architecture.md "Host image"). */
export const HOST_PACKAGES = [
  'iproute2',
  'iputils-ping',
  'tcpdump',
  'iptables',
  'iperf3',
  'procps',
  'socat',
  'ethtool',
  'etcd-server',
  'etcd-client',
  'nodejs',
  // the reference CNI plugins (bridge, host-local, loopback, portmap, …) in /usr/lib/cni: hosts
  // with `podAttach: cni` attach their pods through them, as a kubelet does (docs/cni.md)
  'containernetworking-plugins',
  // BIRD 2 (bird, birdc): `backend: bgp` routes pod blocks the Calico way, one BIRD per host
  'bird2',
  // conntrack and nft: Services (kube-proxy's rules) and the proof of their translation
  'conntrack',
  'nftables',
];

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function hostImageTags(): string[] {
  return [`${HOST_IMAGE_REPO}:${packageVersion()}`, `${HOST_IMAGE_REPO}:latest`];
}

export const PACKAGES_LABEL = 'overlab.image.packages';

/** An image built before HOST_PACKAGES last changed lacks something a lab needs (e.g. the CNI
 * plugins): the packages it was built with, as its label says, must be exactly today's. */
export function missingPackages(labels: Record<string, string>): string[] {
  const has = new Set((labels[PACKAGES_LABEL] ?? '').split(',').filter(Boolean));
  return HOST_PACKAGES.filter((p) => !has.has(p));
}

/** Image config for `docker import`: what a Dockerfile's CMD/LABEL would set. */
export function importChanges(): string[] {
  return [
    'CMD ["sleep", "infinity"]',
    `LABEL org.opencontainers.image.title="overlab host" ${PACKAGES_LABEL}="${HOST_PACKAGES.join(',')}"`,
    'ENV LC_ALL=C.UTF-8',
  ];
}
