// --dry-run: every command `up` would run, per container, as a student could type them. Every
// value is quoted by shellQuote (shell-quote.ts); nothing here is ever run.
import { containerSpecs } from './containers.js';
import { renderNodePlans, renderSwitchPlan, UNDERLAY_NETNS } from './node-plans.js';
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

/** The shell variable the dry run keeps the switch's network namespace file in. */
const UNDERLAY_VARIABLE = 'underlay_netns';

function dockerRunLine(spec: ContainerSpec, withUnderlay: boolean): string {
  const parts = ['docker run -d', `--name ${shellQuote(spec.name)}`, `--hostname ${shellQuote(spec.hostname)}`, '--network none', '--init'];
  for (const cap of spec.capAdd) parts.push(`--cap-add ${shellQuote(cap)}`);
  for (const device of spec.devices) parts.push(`--device ${shellQuote(device)}`);
  for (const [key, value] of Object.entries(spec.sysctls)) parts.push(`--sysctl ${shellQuote(`${key}=${value}`)}`);
  for (const t of spec.tmpfs ?? []) parts.push(`--tmpfs ${shellQuote(t.options ? `${t.target}:${t.options}` : t.target)}`);
  if (spec.cpuShares) parts.push(`--cpu-shares ${spec.cpuShares}`);
  for (const [key, value] of Object.entries(spec.labels)) parts.push(`--label ${shellQuote(`${key}=${value}`)}`);
  if (withUnderlay) parts.push(`--mount type=bind,source="$${UNDERLAY_VARIABLE}",${shellQuote(`target=${UNDERLAY_NETNS},readonly`)}`);
  parts.push(shellCommand([spec.image, ...spec.command]));
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
  const blocks = [
    `# lab ${lab.name}: underlay ${lab.underlay.subnet}, ${lab.hosts.length} hosts` + (lab.description ? ` — ${commentText(lab.description)}` : ''),
    '# 1. the underlay switch first: a container with one Linux bridge',
    dockerRunLine(switchSpec, false),
    planBlock(renderSwitchPlan(lab)),
    `# 2. its network namespace, bound read-only into every other node at ${UNDERLAY_NETNS} (the switch shares no PID namespace)`,
    `${UNDERLAY_VARIABLE}=$(docker inspect -f '{{.NetworkSettings.SandboxKey}}' ${shellQuote(switchSpec.name)})`,
    '# 3. the other containers (in parallel)',
    ...specs.filter((s) => s !== switchSpec).map((s) => dockerRunLine(s, true)),
    '# 4. wiring (one exec per container, in parallel): each node makes its own cable to the switch',
    ...renderNodePlans(lab).map(planBlock),
    ...etcdBlock(lab),
    ...agentBlocks(lab),
    ...cniBlocks(lab),
  ];
  return blocks.join('\n\n') + '\n';
}
