// stop-agent and stop-etcd: the control plane's processes, stopped through their node's supervisor
// (held, as `systemctl stop` holds a service, until the fault is cleared). With the agent stopped a host keeps the
// kernel state it had (flannel's), except that a udp host's TUN flannel0 goes with the process;
// with etcd stopped nothing changes until a host needs a lease — `joining` hosts show that: their
// agents start again as newcomers (their leases gone) while etcd is down, and cannot join.
import { environmentError, inputError } from '../../base/errors.js';
import { readAgentState, waitForAgents } from '../../deploy/agents.js';
import { pollUntil } from '../../base/poll.js';
import { readDaemonStatus, setDaemonWant, stopDaemons } from '../../deploy/node-daemons.js';
import { agentDaemonName, ETCD_DAEMON, etcdNode, etcdPrefix, hostSubnet, usesAgent } from '../../plan/overlay.js';
import type { ResolvedHost, ResolvedLab } from '../../plan/resolved-lab.js';
import { defineFaultKind, type FaultContext } from '../fault-kind.js';
import { nodeNamespace } from '../namespace.js';
import { expectArgs } from '../values.js';
import { agentNetworks, ETCD_NODE } from './targets.js';

const ETCD_READY_MS = 20_000;
const PEERS_DROP_MS = 15_000;

export interface StopAgentSpec {
  on: string;
}

export interface StopEtcdSpec {
  joining: string[];
}

/** Daemons a fault stopped through their node's supervisor (node-init.ts): held, not started
 * again until the fault is cleared. */
export interface HeldDaemons {
  container: string;
  daemons: string[];
}

function host(lab: ResolvedLab, name: string): ResolvedHost {
  const h = lab.hosts.find((x) => x.name === name);
  if (!h) throw inputError(`"${name}" is not a host of lab ${lab.name}`, `its hosts: ${lab.hosts.map((x) => x.name).join(', ')}`);
  return h;
}

/** The agents of a host that run now (one per agent network), as its supervisor says. */
async function runningAgents(context: FaultContext, h: ResolvedHost): Promise<string[]> {
  const names = context.lab.networks.filter(usesAgent).map((net) => agentDaemonName(context.lab, net));
  const states = await Promise.all(names.map((name) => readDaemonStatus(context.runtime, h.container, name, { signal: context.signal })));
  return names.filter((_, i) => states[i]?.state === 'running');
}

/** Stop a host's agents as a service manager does: they stay stopped (a kill alone would see
 * them started again by the supervisor). */
async function stopAgents(context: FaultContext, h: ResolvedHost): Promise<HeldDaemons> {
  const agents = await runningAgents(context, h);
  if (!agents.length) throw inputError(`the agent on ${h.name} is not running`, 'nothing to stop; `overlab logs <lab> <host>` shows its log');
  await stopDaemons(context.runtime, h.container, agents, context.signal);
  return { container: h.container, daemons: agents };
}

/** Start held agents again and wait until they have programmed their peers. */
async function restartAgents(context: FaultContext, held: HeldDaemons[]): Promise<void> {
  for (const h of held) await setDaemonWant(context.runtime, h.container, h.daemons, 'up', { signal: context.signal });
  await waitForAgents(context.runtime, context.lab, context.signal);
}

export interface StopAgentUndo {
  agents: HeldDaemons;
}

export const stopAgentKind = defineFaultKind({
  key: 'stop-agent',
  summary: 'stop-agent: {on}',
  args: '<host>',
  help: "stop a host's agent (our flanneld): no lease renewals, no peer updates; udp loses flannel0",
  schema: (k) => k.T.Object({ on: k.nodeName('The host whose agent stops.') }, { additionalProperties: false, description: "Stop a host's agent." }),
  fromArgs: (args) => {
    expectArgs('stop-agent', '<host>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): StopAgentSpec => {
    scope.hostRef(raw.on, [...at, 'on']);
    if (!scope.networks.some((n) => n.controlPlane === 'etcd' && n.backend !== 'none') && !scope.gaps.anyNetwork) {
      scope.err([...at, 'on'], 'this lab has no agents: stop-agent needs a network with controlPlane etcd.');
    }
    return { on: raw.on };
  },
  describe: (spec) => `the agent on ${spec.on} is stopped`,
  nodes: (spec) => [spec.on],
  namespaces: (spec, lab) => [nodeNamespace(lab, spec.on)!],
  apply: async (spec, context): Promise<StopAgentUndo> => {
    agentNetworks(context.lab, 'stop-agent');
    return { agents: await stopAgents(context, host(context.lab, spec.on)) };
  },
  undo: async (_spec, data, context) => restartAgents(context, [data.agents]),
});

export interface StopEtcdUndo {
  etcd: HeldDaemons;
  /** The joining hosts' agents (started again while etcd was down). */
  agents: HeldDaemons[];
}

async function etcdHealthy(context: FaultContext): Promise<boolean> {
  const etcd = etcdNode(context.lab)!;
  return (await context.runtime.exec(etcd.container, ['etcdctl', 'endpoint', 'health'], { signal: context.signal })).exitCode === 0;
}

export const stopEtcdKind = defineFaultKind({
  key: 'stop-etcd',
  summary: 'stop-etcd: {joining}',
  args: '[<host>…]',
  help: 'stop etcd; hosts named after it join while it is down (their agents restart without a lease)',
  schema: (k) =>
    k.T.Object(
      {
        joining: k.T.Optional(
          k.T.Array(k.nodeName(), { maxItems: 16, description: 'Hosts whose agents start again as newcomers (their leases deleted) while etcd is down.' }),
        ),
      },
      { additionalProperties: false, description: 'Stop etcd.' },
    ),
  fromArgs: (args) => ({ joining: [...args] }),
  resolve: (raw, scope, at): StopEtcdSpec => {
    if (!scope.networks.some((n) => n.controlPlane === 'etcd' && n.backend !== 'none') && !scope.gaps.anyNetwork) scope.err(at, 'this lab has no etcd: stop-etcd needs a network with controlPlane etcd.');
    (raw.joining ?? []).forEach((h, i) => scope.hostRef(h, [...at, 'joining', i]));
    return { joining: raw.joining ?? [] };
  },
  describe: (spec) => `etcd is stopped${spec.joining.length ? `; ${spec.joining.join(', ')} joined while it was down` : ''}`,
  nodes: (spec, lab) => [ETCD_NODE, ...(spec.joining.length ? lab.hosts.map((h) => h.name) : [])],
  namespaces: (spec, lab) => (spec.joining.length ? lab.hosts.map((h) => nodeNamespace(lab, h.name)!) : []),
  apply: async (spec, context): Promise<StopEtcdUndo> => {
    agentNetworks(context.lab, 'stop-etcd');
    const joining = spec.joining.map((n) => host(context.lab, n));
    const etcdContainer = etcdNode(context.lab)!.container;
    if ((await readDaemonStatus(context.runtime, etcdContainer, ETCD_DAEMON, { signal: context.signal }))?.state !== 'running') {
      throw inputError(`etcd is not running in lab ${context.lab.name}`, 'nothing to stop; `overlab fault ls <lab>` shows whether a fault stopped it');
    }
    const agents: HeldDaemons[] = [];
    for (const h of joining) agents.push(await stopAgents(context, h));
    // Their leases go, and every other host drops them (as after `node rm`).
    for (const h of joining) {
      for (const net of context.lab.networks.filter(usesAgent)) {
        const key = `${etcdPrefix(context.lab, net)}/subnets/${hostSubnet(h, net).replace('/', '-')}`;
        const r = await context.runtime.exec(etcdContainer, ['etcdctl', 'del', key], { signal: context.signal });
        if (r.exitCode !== 0) throw environmentError(`deleting ${h.name}'s lease ${key} failed: ${r.stderr.trim()}`);
      }
    }
    const others = context.lab.hosts.filter((h) => !joining.includes(h));
    if (joining.length) {
      const dropped = await pollUntil(
        async () => {
          for (const o of others) {
            for (const net of context.lab.networks.filter(usesAgent)) {
              const { routes } = await readAgentState(context.runtime, context.lab, o, net);
              if (joining.some((j) => routes.some((r) => r.dst === hostSubnet(j, net)))) return false;
            }
          }
          return true;
        },
        { timeoutMs: PEERS_DROP_MS, intervalMs: 100, signal: context.signal },
      );
      if (!dropped) throw environmentError(`the other hosts did not drop ${spec.joining.join(', ')} within ${PEERS_DROP_MS / 1000} s after their leases were deleted`);
    }
    await stopDaemons(context.runtime, etcdContainer, [ETCD_DAEMON], context.signal);
    const etcd = { container: etcdContainer, daemons: [ETCD_DAEMON] };
    for (const a of agents) await setDaemonWant(context.runtime, a.container, a.daemons, 'up', { signal: context.signal });
    return { etcd, agents };
  },
  undo: async (_spec, data, context) => {
    await setDaemonWant(context.runtime, data.etcd.container, data.etcd.daemons, 'up', { signal: context.signal });
    if (!(await pollUntil(() => etcdHealthy(context), { timeoutMs: ETCD_READY_MS, intervalMs: 100, signal: context.signal }))) {
      throw environmentError(`etcd did not answer within ${ETCD_READY_MS / 1000} s after it was started again`, `overlab exec ${context.lab.name} etcd -- tail /var/log/etcd.log`);
    }
    // The joining agents are running (since the fault); they take their leases now, and every peer
    // programs them. One stopped meanwhile is started again.
    await restartAgents(context, data.agents);
  },
});
