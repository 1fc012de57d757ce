// `overlab doctor`: can this machine run labs? Each finding says how to fix it.
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { NODE_CAPABILITIES, NODE_DEVICES } from '../plan/containers.js';
import { hostImageTags, missingPackages } from '../image/host-image.js';
import { OverlabError } from '../base/errors.js';
import { failedCommand, runnerErrors, toRunnerSteps } from '../plan/step-runner.js';
import { shellCommand } from '../plan/shell-quote.js';
import { captureWhile } from '../probes/capture.js';
import { ping } from '../probes/ping.js';
import { runSteps } from '../deploy/run-steps.js';
import { FAULT_FEATURE_PROBES, type FeatureProbe } from '../faults/feature-probes.js';

export interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** Only some fault kinds need it: reported, but a lab builds without it. */
  optional?: boolean;
}

/** Kernel features a lab needs, each tried for real inside a throwaway lab-like container: argv
 * commands run in order by the step runner (one exec per feature). */
export const KERNEL_PROBES: { check: string; commands: string[][]; fix: string }[] = [
  { check: 'network namespaces', commands: [['ip', 'netns', 'add', 'doctor'], ['ip', 'netns', 'del', 'doctor']], fix: 'the container needs SYS_ADMIN (overlab grants it) and a kernel with network namespaces' },
  { check: 'veth pairs', commands: [['ip', 'link', 'add', 'dv0', 'type', 'veth', 'peer', 'name', 'dv1'], ['ip', 'link', 'del', 'dv0']], fix: 'load the veth module: modprobe veth' },
  { check: 'Linux bridge', commands: [['ip', 'link', 'add', 'db0', 'type', 'bridge'], ['ip', 'link', 'del', 'db0']], fix: 'load the bridge module: modprobe bridge' },
  { check: 'TUN device', commands: [['ip', 'tuntap', 'add', 'dev', 'dt0', 'mode', 'tun'], ['ip', 'link', 'del', 'dt0']], fix: 'load the tun module (modprobe tun) and make /dev/net/tun available' },
  {
    check: 'VXLAN',
    commands: [['ip', 'link', 'add', 'dx0', 'type', 'vxlan', 'id', '42', 'dstport', '8472', 'local', '127.0.0.1', 'nolearning'], ['ip', 'link', 'del', 'dx0']],
    fix: 'load the vxlan module: modprobe vxlan',
  },
  {
    check: 'iptables NAT',
    commands: [['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.99.0.0/16', '-j', 'MASQUERADE'], ['iptables', '-t', 'nat', '-F', 'POSTROUTING']],
    fix: 'load nf_nat / nft_masq (or the iptables nat table modules)',
  },
];

const TCPDUMP_CHECK = 'tcpdump capture';
const TCPDUMP_FIX = 'the container needs NET_RAW (overlab grants it)';

async function kernelProbe(runtime: ContainerRuntime, container: string, probe: { check: string; commands: string[][]; fix: string }): Promise<Finding> {
  const result = await runSteps(runtime, container, toRunnerSteps(probe.commands));
  if (result.exitCode === 0) return { check: probe.check, ok: true, detail: 'works' };
  const failed = failedCommand(toRunnerSteps(probe.commands), result.stderr);
  const said = runnerErrors(result.stderr).at(-1) ?? `exit ${result.exitCode}`;
  return { check: probe.check, ok: false, detail: failed ? `\`${shellCommand(failed)}\`: ${said}` : said, fix: probe.fix };
}

/** A feature only some fault kinds need: reported as optional, and cleaned up either way. */
async function featureProbe(runtime: ContainerRuntime, container: string, probe: FeatureProbe): Promise<Finding> {
  const found = await kernelProbe(runtime, container, probe);
  await runSteps(runtime, container, toRunnerSteps(probe.cleanup));
  return { ...found, optional: true, ...(found.ok ? {} : { detail: `missing: ${found.detail}` }) };
}

/** A real capture (the probe `verify` uses, deadline and all) on lo while one ping crosses it. */
async function tcpdumpProbe(runtime: ContainerRuntime, container: string): Promise<Finding> {
  try {
    const endpoint = { container, label: 'doctor' };
    const captured = await captureWhile(runtime, { ...endpoint, iface: 'lo' }, () => ping(runtime, endpoint, '127.0.0.1', { count: 1 }), { deadlineSeconds: 20 });
    const ok = captured.packets.length > 0;
    return { check: TCPDUMP_CHECK, ok, detail: ok ? `works (${captured.packets.length} packets seen)` : 'tcpdump started but saw no packet', ...(ok ? {} : { fix: TCPDUMP_FIX }) };
  } catch (error) {
    return { check: TCPDUMP_CHECK, ok: false, detail: error instanceof Error ? error.message.split('\n')[0]! : String(error), fix: TCPDUMP_FIX };
  }
}

/** Is this program on PATH (no shell asked)? */
export function onPath(program: string, path = process.env.PATH ?? ''): boolean {
  return path
    .split(':')
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, program), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** What a machine without a running engine needs, in order (Debian's packages; root). */
export function startEngineSteps(installed: boolean): string {
  const start = 'start it as root: dockerd --bridge=none & (labs bring their own switch: the machine needs no docker0)';
  return `${installed ? '' : 'install the engine: apt-get install docker.io; then '}${start}; then run overlab doctor again`;
}

export function buildImageStep(mmdebstrap: boolean): string {
  return `${mmdebstrap ? '' : 'apt-get install mmdebstrap; then '}overlab image build (offline, from Debian's packages, about a minute)`;
}

export async function runDoctor(runtime: ContainerRuntime): Promise<Finding[]> {
  const findings: Finding[] = [];
  try {
    const info = await runtime.info();
    const kind = info.kind === 'podman' ? 'Podman' : 'Docker';
    findings.push({ check: 'Docker engine', ok: true, detail: `${kind} ${info.serverVersion} at ${runtime.endpoint} (API ${info.apiVersion}), kernel ${info.kernelVersion}` });
  } catch (error) {
    if (error instanceof OverlabError && error.kind === 'interrupted') throw error;
    // No socket at all: nothing was ever started here, so say the whole way, step by step.
    const noEngineHere = runtime.endpoint.startsWith('/') && !existsSync(runtime.endpoint);
    const fix = noEngineHere ? startEngineSteps(onPath('dockerd')) : error instanceof OverlabError && error.hint ? error.hint : startEngineSteps(onPath('dockerd'));
    findings.push({ check: 'Docker engine', ok: false, detail: error instanceof Error ? error.message : String(error), fix });
    return findings;
  }
  const [tag] = hostImageTags();
  const image = tag!;
  const labels = await runtime.imageLabels(image);
  const lacks = labels ? missingPackages(labels) : [];
  if (!labels) findings.push({ check: 'host image', ok: false, detail: `${image} is missing`, fix: buildImageStep(onPath('mmdebstrap')) });
  else if (lacks.length > 0) findings.push({ check: 'host image', ok: false, detail: `${image} was built without ${lacks.join(', ')}`, fix: 'overlab image build (builds it again with every package)' });
  else findings.push({ check: 'host image', ok: true, detail: image });
  if (!labels) return findings;

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
    for (const probe of KERNEL_PROBES) findings.push(await kernelProbe(runtime, name, probe));
    findings.push(await tcpdumpProbe(runtime, name));
    for (const probe of FAULT_FEATURE_PROBES) findings.push(await featureProbe(runtime, name, probe));
  } catch (error) {
    findings.push({ check: 'capabilities', ok: false, detail: error instanceof Error ? error.message : String(error), fix: 'the engine must allow NET_ADMIN, SYS_ADMIN, NET_RAW and /dev/net/tun' });
  } finally {
    await runtime.remove(name);
  }
  return findings;
}
