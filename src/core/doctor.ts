// `overlab doctor`: can this machine run labs? Each finding says how to fix it.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { NODE_CAPABILITIES, NODE_DEVICES } from '../plan/containers.js';
import { hostImageTags } from '../image/host-image.js';
import { OverlabError } from './errors.js';
import { FAULT_FEATURE_PROBES } from '../faults/feature-probes.js';

export interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** Only some fault kinds need it: reported, but a lab builds without it. */
  optional?: boolean;
}

/** Kernel features a lab needs, each tried for real inside a throwaway lab-like container. */
export const KERNEL_PROBES: { check: string; script: string; fix: string }[] = [
  { check: 'network namespaces', script: 'ip netns add doctor && ip netns del doctor', fix: 'the container needs SYS_ADMIN (overlab grants it) and a kernel with network namespaces' },
  { check: 'veth pairs', script: 'ip link add dv0 type veth peer name dv1 && ip link del dv0', fix: 'load the veth module: modprobe veth' },
  { check: 'Linux bridge', script: 'ip link add db0 type bridge && ip link del db0', fix: 'load the bridge module: modprobe bridge' },
  { check: 'TUN device', script: 'ip tuntap add dev dt0 mode tun && ip link del dt0', fix: 'load the tun module (modprobe tun) and make /dev/net/tun available' },
  { check: 'VXLAN', script: 'ip link add dx0 type vxlan id 42 dstport 8472 local 127.0.0.1 nolearning && ip link del dx0', fix: 'load the vxlan module: modprobe vxlan' },
  { check: 'iptables NAT', script: 'iptables -t nat -A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE && iptables -t nat -F POSTROUTING', fix: 'load nf_nat / nft_masq (or the iptables nat table modules)' },
  {
    check: 'tcpdump capture',
    // Wait for tcpdump to say it is listening (a readiness poll), then send it one packet.
    script:
      "timeout 5 tcpdump -i lo -c 1 --immediate-mode -w /dev/null 2>/tmp/doctor-tcpdump & pid=$!; i=0; until grep -q listening /tmp/doctor-tcpdump; do i=$((i+1)); [ $i -lt 50 ] || exit 1; sleep 0.1; done; ping -c 1 -W 1 127.0.0.1 >/dev/null; wait $pid",
    fix: 'the container needs NET_RAW (overlab grants it)',
  },
];

export async function runDoctor(runtime: ContainerRuntime): Promise<Finding[]> {
  const findings: Finding[] = [];
  try {
    const info = await runtime.info();
    findings.push({ check: 'Docker engine', ok: true, detail: `${info.serverVersion} (API ${info.apiVersion}), kernel ${info.kernelVersion}` });
  } catch (error) {
    if (error instanceof OverlabError && error.kind === 'interrupted') throw error;
    const fix = error instanceof OverlabError && error.hint ? error.hint : 'bash scripts/setup.sh (installs docker.io and starts dockerd --bridge=none)';
    findings.push({ check: 'Docker engine', ok: false, detail: error instanceof Error ? error.message : String(error), fix });
    return findings;
  }
  const [tag] = hostImageTags();
  const image = tag!;
  const hasImage = await runtime.imageExists(image);
  findings.push({ check: 'host image', ok: hasImage, detail: hasImage ? image : `${image} is missing`, ...(hasImage ? {} : { fix: 'overlab image build' }) });
  if (!hasImage) return findings;

  const name = `overlab-doctor-${process.pid}`;
  try {
    await runtime.createAndStart({
      name,
      hostname: 'doctor',
      image,
      labels: { 'overlab.doctor': 'true' },
      command: ['sleep', 'infinity'],
      capAdd: NODE_CAPABILITIES,
      devices: NODE_DEVICES,
      sysctls: { 'net.ipv4.ip_forward': '1' },
    });
    findings.push({ check: 'capabilities', ok: true, detail: `a container with ${NODE_CAPABILITIES.join(', ')} and ${NODE_DEVICES.join(', ')} starts (without privileged mode)` });
    for (const probe of KERNEL_PROBES) {
      const result = await runtime.exec(name, ['sh', '-c', probe.script]);
      const ok = result.exitCode === 0;
      findings.push({ check: probe.check, ok, detail: ok ? 'works' : result.stderr.trim().split('\n').at(-1) ?? `exit ${result.exitCode}`, ...(ok ? {} : { fix: probe.fix }) });
    }
    for (const probe of FAULT_FEATURE_PROBES) {
      const result = await runtime.exec(name, ['sh', '-c', probe.script]);
      const ok = result.exitCode === 0;
      findings.push({ check: probe.check, ok, optional: true, detail: ok ? 'works' : `missing: ${result.stderr.trim().split('\n').at(-1) ?? `exit ${result.exitCode}`}`, ...(ok ? {} : { fix: probe.fix }) });
    }
  } catch (error) {
    findings.push({ check: 'capabilities', ok: false, detail: error instanceof Error ? error.message : String(error), fix: 'the engine must allow NET_ADMIN, SYS_ADMIN, NET_RAW and /dev/net/tun' });
  } finally {
    await runtime.remove(name);
  }
  return findings;
}
