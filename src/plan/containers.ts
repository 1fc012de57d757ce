// Pure: which containers a lab needs and how they are configured.
import type { ContainerSpec } from '../runtime/runtime.js';
import type { ResolvedLab } from './resolved-lab.js';
import { underlaySubnets } from './resolve-lab.js';
import { LABEL_FINGERPRINT, LABEL_LAB, LABEL_NODE, LABEL_POD_ATTACH, LABEL_ROLE, LABEL_RUN, LABEL_SPEC, LABEL_UNDERLAY, SHARE_DIR, shareVolumeName, SWITCH_NODE } from './container-names.js';
import { createHash } from 'node:crypto';
import { LABEL_ENGINE } from '../runtime/routed-runtime.js';
import { ETCD_DATA_DIR, ETCD_DATA_TMPFS_OPTIONS, etcdCpuShares } from './overlay.js';
import { NODE_INIT_COMMAND } from './node-init.js';
import { switchCommand } from './switch-boot.js';
import { renderNodePlans, switchBridges } from './node-plans.js';
import { wiringBootCommand } from './node-boot-wiring.js';
import { planCommands } from './node-plan.js';
import { toRunnerSteps } from './step-runner.js';

/** The capabilities a lab node needs; never privileged mode (docs/architecture.md "Safety rules"). */
export const NODE_CAPABILITIES = ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW'];
export const NODE_DEVICES = ['/dev/net/tun'];

/**
 * The engine's read-only /proc paths, with /proc/sys narrowed to everything but /proc/sys/net.
 * A node's network sysctls belong to its own network namespace (the kernel shows a namespace
 * only its own net.*, and refuses writes to the few global ones there), so a student can run
 * `sysctl -w net.ipv4.ip_forward=1` in a lab host — and a fault can turn it off — while kernel.*,
 * vm.*, fs.* and the rest of the machine's settings stay read-only, as the engine's default has
 * them. Paths the kernel lacks are skipped by the runtime. Never privileged mode.
 */
export const NODE_READONLY_PATHS = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sysrq-trigger',
  ...['abi', 'crypto', 'debug', 'dev', 'fs', 'kernel', 'sunrpc', 'user', 'vm'].map((d) => `/proc/sys/${d}`),
];

export function labFingerprint(lab: ResolvedLab): string {
  return createHash('sha256').update(JSON.stringify(lab)).digest('hex').slice(0, 16);
}

/** Small values only (labels travel in every list answer); the model lives in a file. */
function labels(lab: ResolvedLab, node: string, role: string, run: string | undefined): Record<string, string> {
  return {
    [LABEL_LAB]: lab.name,
    [LABEL_NODE]: node,
    [LABEL_ROLE]: role,
    [LABEL_SPEC]: lab.specFile,
    [LABEL_UNDERLAY]: underlaySubnets(lab).join(','),
    ...(run ? { [LABEL_RUN]: run } : {}),
  };
}

/** The labels of the lab's share (a volume; `run` made it). */
export function shareLabels(lab: ResolvedLab, run?: string): Record<string, string> {
  return { [LABEL_LAB]: lab.name, ...(run ? { [LABEL_RUN]: run } : {}) };
}

/** The lab's containers; `run` (the id of the `up` or `node add` making them) labels each. Each
 * mounts the lab's share: the switch to put the helper there, the nodes read-only. */
export function containerSpecs(lab: ResolvedLab, run?: string): ContainerSpec[] {
  const share = (readonly: boolean) => ({ mounts: [{ volume: shareVolumeName(lab.name), target: SHARE_DIR, readonly }] });
  // Every node runs the supervisor (node-init.ts): its daemons come back with it, and the engine
  // starts it again after its process ended or the engine restarted (not after a deliberate stop).
  const base = {
    image: lab.image,
    command: [...NODE_INIT_COMMAND],
    restartPolicy: 'unless-stopped' as const,
    capAdd: NODE_CAPABILITIES,
    devices: NODE_DEVICES,
    ...share(true),
  };
  const forwarding = { 'net.ipv4.ip_forward': '1' };
  const specs: ContainerSpec[] = [
    {
      ...base,
      // On one engine the switch makes its bridge(s) and hands its namespace to every node as it
      // boots (switch-boot.ts); across engines, overlab does both once every switch runs.
      ...(lab.engines?.length ? {} : { command: switchCommand(switchBridges(lab), lab.hosts.length + lab.externals.length) }),
      name: lab.underlay.switchContainer,
      hostname: SWITCH_NODE,
      labels: { ...labels(lab, SWITCH_NODE, 'switch', run), [LABEL_FINGERPRINT]: labFingerprint(lab) },
      sysctls: {},
      ...share(false),
    },
  ];
  // udp: the agent writes ICMP errors from the host's own <subnet>.0 into flannel0; without
  // accept_local the kernel drops them as martians (and /proc/sys is read-only inside).
  const hostSysctls = lab.networks.some((n) => n.backend === 'udp') ? { ...forwarding, 'net.ipv4.conf.all.accept_local': '1' } : forwarding;
  // On one engine each node wires itself as it first boots (node-boot-wiring.ts); across engines
  // overlab runs each node's plan with an exec once the node runs.
  const wiring = lab.engines?.length ? undefined : new Map(renderNodePlans(lab).map((p) => [p.container, wiringBootCommand(toRunnerSteps(planCommands(p)))]));
  const commandOf = (container: string) => (wiring ? { command: wiring.get(container)! } : {});
  for (const host of lab.hosts) {
    const attach: Record<string, string> = host.podAttach === 'cni' ? { [LABEL_POD_ATTACH]: 'cni' } : {};
    specs.push({ ...base, ...commandOf(host.container), name: host.container, hostname: host.name, labels: { ...labels(lab, host.name, 'host', run), ...attach }, sysctls: hostSysctls, readonlyPaths: NODE_READONLY_PATHS });
  }
  for (const node of lab.externals) {
    const sysctls = node.role === 'router' ? forwarding : {};
    const etcd = node.role === 'etcd' ? { tmpfs: [{ target: ETCD_DATA_DIR, options: ETCD_DATA_TMPFS_OPTIONS }], cpuShares: etcdCpuShares(lab) } : {};
    specs.push({ ...base, ...commandOf(node.container), name: node.container, hostname: node.name, labels: labels(lab, node.name, node.role, run), sysctls, readonlyPaths: NODE_READONLY_PATHS, ...etcd });
  }
  return lab.engines?.length ? placedOnEngines(lab, specs, { ...base, ...share(false) }, run) : specs;
}

/** Several engines: one more switch per engine after the first (writing the share on its engine),
 * and every container labelled with the engine it runs on (the routed runtime sends it there). */
function placedOnEngines(lab: ResolvedLab, specs: ContainerSpec[], switchBase: Pick<ContainerSpec, 'image' | 'command' | 'capAdd' | 'devices' | 'mounts'>, run: string | undefined): ContainerSpec[] {
  const engines = lab.engines!;
  const engineOf = new Map<string, string>([[lab.underlay.switchContainer, engines[0]!.name]]);
  for (const node of [...lab.hosts, ...lab.externals]) engineOf.set(node.container, node.engine ?? engines[0]!.name);
  const placed = specs.map((s) => ({ ...s, labels: { ...s.labels, [LABEL_ENGINE]: engineOf.get(s.name)! } }));
  const switches = engines.slice(1).map((e) => ({ ...switchBase, name: e.switchContainer, hostname: SWITCH_NODE, labels: { ...labels(lab, SWITCH_NODE, 'switch', run), [LABEL_ENGINE]: e.name }, sysctls: {} }));
  return [placed[0]!, ...switches, ...placed.slice(1)];
}
