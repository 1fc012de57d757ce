// --dry-run: every command `up` would run, per container, as a student could type them.
import { containerSpecs } from './containers.js';
import { dryRunPid, renderNodeScripts, renderSwitchScript, type NodeScript } from './node-scripts.js';
import type { ResolvedLab } from './resolved-lab.js';
import { agentStartLine, AGENT_DIR, labUsesAgents, usesAgent } from './overlay.js';

function dockerRunLine(spec: ReturnType<typeof containerSpecs>[number]): string {
  const parts = ['docker run -d', `--name ${spec.name}`, `--hostname ${spec.hostname}`, '--network none', '--init'];
  if (spec.hostPid) parts.push('--pid host');
  for (const cap of spec.capAdd) parts.push(`--cap-add ${cap}`);
  for (const device of spec.devices) parts.push(`--device ${device}`);
  for (const [key, value] of Object.entries(spec.sysctls)) parts.push(`--sysctl ${key}=${value}`);
  for (const [key, value] of Object.entries(spec.labels)) parts.push(`--label ${key}=${value}`);
  parts.push(spec.image, ...spec.command);
  return parts.join(' \\\n    ');
}

function scriptBlock(script: NodeScript): string {
  return [`# ---- ${script.node}: docker exec ${script.container} sh -c '…' ----`, ...script.lines].join('\n');
}

export function renderDryRun(lab: ResolvedLab): string {
  const blocks = [
    `# lab ${lab.name}: underlay ${lab.underlay.subnet}, ${lab.hosts.length} hosts` + (lab.description ? ` — ${lab.description}` : ''),
    '# 1. containers (in parallel)',
    ...containerSpecs(lab).map(dockerRunLine),
    '# 2. cabling (in the switch container, which shares the engine\'s PID namespace)',
    scriptBlock(renderSwitchScript(lab, dryRunPid)),
    '# 3. wiring (one script per container, in parallel)',
    ...renderNodeScripts(lab).map(scriptBlock),
  ];
  if (labUsesAgents(lab)) {
    const start = lab.networks.filter(usesAgent).map((n) => agentStartLine(lab, n));
    blocks.push(
      `# 4. agents (after etcd answers): copy dist/agent and tun-open to ${AGENT_DIR} in every host, then start them`,
      ...lab.hosts.map((h) => [`# ---- ${h.name}: docker exec ${h.container} sh -c '…' ----`, ...start].join('\n')),
    );
  }
  return blocks.join('\n\n') + '\n';
}
