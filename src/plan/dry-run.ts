// --dry-run: every command `up` would run, per container, as a student could type them. Every
// value is quoted by shellQuote (shell-quote.ts); nothing here is ever run.
import { containerSpecs } from './containers.js';
import { NETNS_SHARE, netnsServeArgv, renderNodePlans, renderSwitchPlan, UNDERLAY_NETNS } from './node-plans.js';
import { SHARE_DIR, shareVolumeName } from './container-names.js';
import { shareLabels } from './containers.js';
import { commentText, renderPlanLines, type NodePlan } from './node-plan.js';
import type { ResolvedLab } from './resolved-lab.js';
import { shellCommand, shellQuote } from './shell-quote.js';
import type { ContainerSpec } from '../runtime/runtime.js';
import { cniDryRunLines, cniHosts } from './cni-plan.js';
import {
  AGENT_DIR,
  agentArgv,
  agentInputFiles,
  agentOutput,
  ETCD_HEALTH_ARGV,
  ETCD_LOG,
  etcdArgv,
  etcdConfigPuts,
  etcdNode,
  labUsesAgents,
  usesAgent,
} from './overlay.js';

function dockerRunLine(spec: ContainerSpec): string {
  const parts = ['docker run -d', `--name ${shellQuote(spec.name)}`, `--hostname ${shellQuote(spec.hostname)}`, '--network none', '--init'];
  for (const cap of spec.capAdd) parts.push(`--cap-add ${shellQuote(cap)}`);
  for (const device of spec.devices) parts.push(`--device ${shellQuote(device)}`);
  for (const [key, value] of Object.entries(spec.sysctls)) parts.push(`--sysctl ${shellQuote(`${key}=${value}`)}`);
  for (const t of spec.tmpfs ?? []) parts.push(`--tmpfs ${shellQuote(t.options ? `${t.target}:${t.options}` : t.target)}`);
  if (spec.cpuShares) parts.push(`--cpu-shares ${spec.cpuShares}`);
  if (spec.restartPolicy) parts.push(`--restart ${spec.restartPolicy}`);
  for (const [key, value] of Object.entries(spec.labels)) parts.push(`--label ${shellQuote(`${key}=${value}`)}`);
  for (const m of spec.mounts ?? []) {
    const source = 'volume' in m ? `type=volume,source=${m.volume}` : `type=bind,source=${m.source}`;
    parts.push(`--mount ${shellQuote(`${source},target=${m.target}${m.readonly ? ',readonly' : ''}`)}`);
  }
  // overlab runs its node supervisor here (copied in before the container starts); by hand, a
  // process that waits does, and the daemons below are started with nohup.
  parts.push(shellCommand([spec.image, 'sleep', 'infinity']));
  return parts.join(' \\\n    ');
}

function planBlock(plan: NodePlan): string {
  return [`# ---- ${plan.node}: inside ${plan.container} (docker exec -it ${shellQuote(plan.container)} bash) ----`, ...renderPlanLines(plan.lines)].join('\n');
}

/** A daemon as a student would start it: in the background, its output to a file. */
function daemonLine(argv: string[], output: string): string {
  return `nohup ${shellCommand(argv)} >>${shellQuote(output)} 2>&1 </dev/null &`;
}

function fileLine(path: string, content: string): string {
  return `printf '%s\\n' ${content.trimEnd().split('\n').map(shellQuote).join(' ')} > ${shellQuote(path)}`;
}

function etcdBlock(lab: ResolvedLab): string[] {
  const etcd = etcdNode(lab);
  if (!etcd) return [];
  return [
    [
      `# ---- ${etcd.name}: etcd, flannel's subnet → host map, after its wiring ----`,
      daemonLine(etcdArgv(lab), ETCD_LOG),
      `# wait until etcd answers (overlab polls this, it does not sleep a fixed time)`,
      `until ${shellCommand([...ETCD_HEALTH_ARGV])} >/dev/null 2>&1; do sleep 0.1; done`,
      `# the network config every agent reads`,
      ...etcdConfigPuts(lab).map((put) => shellCommand(put.argv)),
    ].join('\n'),
  ];
}

function agentBlocks(lab: ResolvedLab): string[] {
  if (!labUsesAgents(lab)) return [];
  const networks = lab.networks.filter(usesAgent);
  return [
    `# 5. agents (after etcd answers): the agent (one bundled file) and tun-open copied to ${AGENT_DIR} and these files written (the engine's archive API, no process), then each agent started`,
    ...lab.hosts.map((host) =>
      [
        `# ---- ${host.name}: inside ${host.container} ----`,
        shellCommand(['mkdir', '-p', ...new Set(networks.flatMap((n) => agentInputFiles(lab, host, n).map((f) => f.path.slice(0, f.path.lastIndexOf('/')))))]),
        ...networks.flatMap((n) => agentInputFiles(lab, host, n).map((f) => fileLine(f.path, f.content))),
        ...networks.map((n) => daemonLine(agentArgv(lab, n), agentOutput(lab, n))),
      ].join('\n'),
    ),
  ];
}

function cniBlocks(lab: ResolvedLab): string[] {
  const hosts = cniHosts(lab);
  if (hosts.length === 0) return [];
  return [
    `# ${labUsesAgents(lab) ? 6 : 5}. pods attached through CNI (after /run/flannel/subnet.env exists), as a kubelet with flannel's config would; hosts in parallel, pods in order`,
    ...hosts.map((host) => [`# ---- ${host.name}: inside ${host.container} ----`, ...cniDryRunLines(lab, host)].join('\n')),
  ];
}

export function renderDryRun(lab: ResolvedLab): string {
  const specs = containerSpecs(lab);
  const switchSpec = specs.find((s) => s.name === lab.underlay.switchContainer)!;
  const nodes = renderNodePlans(lab);
  const share = shareVolumeName(lab.name);
  const blocks = [
    `# lab ${lab.name}: underlay ${lab.underlay.subnet}, ${lab.hosts.length} hosts` + (lab.description ? ` — ${commentText(lab.description)}` : ''),
    `# 1. the lab's share (a volume every container mounts at ${SHARE_DIR}) and the underlay switch: a container with one Linux bridge`,
    `docker volume create ${Object.entries(shareLabels(lab)).map(([k, v]) => `--label ${shellQuote(`${k}=${v}`)}`).join(' ')} ${shellQuote(share)}`,
    dockerRunLine(switchSpec),
    `docker cp dist/native/netns-share ${shellQuote(`${switchSpec.name}:${NETNS_SHARE}`)}`,
    planBlock(renderSwitchPlan(lab)),
    `# then the switch hands its network namespace to the ${nodes.length} nodes that ask, over a unix socket on the share (it shares no PID namespace); each binds it at ${UNDERLAY_NETNS}`,
    `docker exec -d ${shellQuote(switchSpec.name)} ${shellCommand(netnsServeArgv(nodes.length))}`,
    '# 2. the other containers, started while the switch starts (in parallel), the share read-only',
    ...specs.filter((s) => s !== switchSpec).map((s) => dockerRunLine(s)),
    '# 3. wiring (one exec per container, in parallel): each node takes the switch\'s namespace, then makes its own cable to the switch',
    ...nodes.map(planBlock),
    ...etcdBlock(lab),
    ...agentBlocks(lab),
    ...cniBlocks(lab),
  ];
  return blocks.join('\n\n') + '\n';
}
