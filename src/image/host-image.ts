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
];

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function hostImageTags(): string[] {
  return [`${HOST_IMAGE_REPO}:${packageVersion()}`, `${HOST_IMAGE_REPO}:latest`];
}

/** Image config for `docker import`: what a Dockerfile's CMD/LABEL would set. */
export function importChanges(): string[] {
  return [
    'CMD ["sleep", "infinity"]',
    `LABEL org.opencontainers.image.title="overlab host" overlab.image.packages="${HOST_PACKAGES.join(',')}"`,
    'ENV LC_ALL=C.UTF-8',
  ];
}
