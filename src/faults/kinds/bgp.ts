// BGP's faults (labs with `backend: bgp`): a session down, a host's blocks withdrawn, BIRD stopped
// on a node, a route reflector stopped — and, for the workshop, three mistakes in a node's BIRD
// configuration (a wrong AS, a neighbour left out, an export filter that hides a block). Each is
// done the way an operator would (`birdc disable`, `systemctl stop bird` — here its node's
// supervisor —, an edited bird.conf and `birdc configure`), argv only; the configuration is
// written through the archive API.
//
// The kernel state the fault engine compares is every BGP node's (the routes BIRD wrote come and
// go on all of them). `apply` returns once the routes stopped moving, so the record holds what
// the fault did; `undo` puts BIRD back and waits until every node routes every block again, so
// the engine's last read finds the kernels exactly as before.
import { inputError } from '../../base/errors.js';
import { pollUntil } from '../../base/poll.js';
import { waitForBgp } from '../../deploy/bird.js';
import { bgpNetwork, bgpNodes, birdConfigFile, birdConfigOf, BIRD_CONFIG_FILE, BIRD_DAEMON_NAME } from '../../plan/bgp-plan.js';
import { readDaemonStatus, setDaemonWant, stopDaemons } from '../../deploy/node-daemons.js';
import { sessionName } from '../../plan/bird-config.js';
import type { ResolvedExternal, ResolvedHost, ResolvedLab } from '../../plan/resolved-lab.js';
import { tarEntries } from '../../runtime/tar.js';
import type { SpecScope } from '../../lab-spec/spec-scope.js';
import type { PathSeg } from '../../lab-spec/yaml-source.js';
import { defineFaultKind, type FaultContext } from '../fault-kind.js';
import { nodeNamespace, type Namespace } from '../namespace.js';
import { expectArgs, intArg } from '../values.js';

type Node = ResolvedHost | ResolvedExternal;

/** A spec's reference to a node that runs BIRD: a host or a router of a bgp lab. */
function bgpNodeRef(scope: SpecScope, name: string, path: PathSeg[]): void {
  scope.overlayNetwork(undefined, path, (b) => b === 'bgp', 'a pod network with backend bgp');
  const r = scope.ref(name, path);
  if (!r) return;
  scope.exists(r, path, name);
  const m = scope.members.get(name);
  if (m?.kind === 'node' && m.role !== 'router') scope.err(path, `"${name}" is ${m.role === 'outside' ? 'an outside node' : `a ${m.role}`}; BIRD runs on hosts and routers.`);
}

function bgpNode(lab: ResolvedLab, name: string, kind: string): Node {
  if (!bgpNetwork(lab)) throw inputError(`${kind}: lab ${lab.name} runs no BIRD (no pod network with backend bgp)`);
  const node = bgpNodes(lab).find((n) => n.name === name);
  if (!node) throw inputError(`${kind}: ${name} runs no BIRD in lab ${lab.name}`, `BGP nodes: ${bgpNodes(lab).map((n) => n.name).join(', ')}`);
  return node;
}

/** Every BGP node's namespace: BIRD's routes change on all of them. */
function bgpNamespaces(lab: ResolvedLab): Namespace[] {
  return bgpNodes(lab).map((n) => nodeNamespace(lab, n.name)!);
}

async function birdc(context: FaultContext, node: Node, ...words: string[]): Promise<string> {
  const r = await context.runtime.exec(node.container, ['birdc', ...words], { signal: context.signal });
  const out = `${r.stdout}\n${r.stderr}`.trim();
  if (r.exitCode !== 0 || /Unable to connect|syntax error|No protocols match/.test(out)) {
    throw inputError(`birdc ${words.join(' ')} on ${node.name} failed: ${out.split('\n').filter((l) => !/^BIRD .* ready\.$/.test(l)).join(' ') || `exit ${r.exitCode}`}`);
  }
  return out;
}

/** Constant shell text: how many routes BIRD wrote into the kernel (learned ones and blackholes). */
export const BIRD_ROUTE_COUNT_SCRIPT = 'ip -4 route show proto bird | wc -l';

/** Wait until the routes BIRD wrote stop changing on every BGP node (two equal reads, 0.5 s apart). */
async function settle(context: FaultContext): Promise<void> {
  const nodes = bgpNodes(context.lab);
  const read = async () => (await Promise.all(nodes.map((n) => context.runtime.exec(n.container, ['sh', '-c', BIRD_ROUTE_COUNT_SCRIPT], { signal: context.signal })))).map((r) => r.stdout.trim()).join(',');
  let last = await read();
  await pollUntil(
    async () => {
      const now = await read();
      const same = now === last;
      last = now;
      return same;
    },
    { timeoutMs: 10_000, intervalMs: 500, signal: context.signal },
  );
}

/** Put BIRD's state back, then wait until every node routes every block as the plan says. */
async function converge(context: FaultContext): Promise<void> {
  await waitForBgp(context.runtime, context.lab, context.signal);
}

// ---------------------------------------------------------------- a session down

export interface SessionSpec {
  on: string;
  peer: string;
}

function sessionOf(lab: ResolvedLab, spec: SessionSpec, kind: string): { node: Node; protocol: string } {
  const node = bgpNode(lab, spec.on, kind);
  const peer = birdConfigOf(lab, spec.on)!.peers.find((p) => p.node === spec.peer);
  if (!peer) throw inputError(`${kind}: ${spec.on} has no BGP session with ${spec.peer}`, `its peers: ${birdConfigOf(lab, spec.on)!.peers.map((p) => p.node).join(', ') || 'none'}`);
  return { node, protocol: sessionName(peer) };
}

/** What the faults on one session (bgp-session-down, bgp-drop-neighbour) share: `<node> <peer>`
 * on the command line, two different BIRD nodes in the spec, both needed running. */
function sessionFault(key: string) {
  return {
    args: '<node> <peer>',
    fromArgs: (args: readonly string[]): SessionSpec => {
      expectArgs(key, '<node> <peer>', args, 2);
      return { on: args[0]!, peer: args[1]! };
    },
    resolve: (raw: SessionSpec, scope: SpecScope, at: PathSeg[]): SessionSpec => {
      bgpNodeRef(scope, raw.on, [...at, 'on']);
      bgpNodeRef(scope, raw.peer, [...at, 'peer']);
      if (raw.on === raw.peer) scope.err([...at, 'peer'], 'a node has no session with itself.');
      return { on: raw.on, peer: raw.peer };
    },
    nodes: (spec: SessionSpec) => [spec.on, spec.peer],
  };
}

export const bgpSessionDownKind = defineFaultKind({
  key: 'bgp-session-down',
  summary: 'bgp-session-down: {on, peer}',
  ...sessionFault('bgp-session-down'),
  help: 'take one BGP session down (birdc disable on <node>): the routes it carried are withdrawn on both sides',
  schema: (k) =>
    k.T.Object(
      { on: k.nodeName('The BGP node whose end of the session is disabled.'), peer: k.nodeName('The peer at the other end.') },
      { additionalProperties: false, description: 'Disable one BGP session (birdc disable).' },
    ),
  describe: (spec) => `the BGP session between ${spec.on} and ${spec.peer} is down (disabled on ${spec.on})`,
  namespaces: (_spec, lab) => bgpNamespaces(lab),
  apply: async (spec, context) => {
    const { node, protocol } = sessionOf(context.lab, spec, 'bgp-session-down');
    await birdc(context, node, 'disable', protocol);
    await settle(context);
  },
  undo: async (spec, _data, context) => {
    const { node, protocol } = sessionOf(context.lab, spec, 'bgp-session-down');
    await birdc(context, node, 'enable', protocol);
    await converge(context);
  },
});

// ---------------------------------------------------------------- a host's blocks withdrawn

export interface OnSpec {
  on: string;
}

function bgpHost(lab: ResolvedLab, name: string, kind: string): ResolvedHost {
  const node = bgpNode(lab, name, kind);
  if (!('pods' in node)) throw inputError(`${kind}: ${name} is a router; only hosts hold IPAM blocks`);
  return node;
}

export const bgpWithdrawKind = defineFaultKind({
  key: 'bgp-withdraw',
  summary: 'bgp-withdraw: {on}',
  args: '<host>',
  help: "withdraw a host's IPAM blocks (birdc disable blocks): every peer forgets them, and its own blackholes go",
  schema: (k) => k.T.Object({ on: k.nodeName('The host whose blocks are withdrawn.') }, { additionalProperties: false, description: "Withdraw a host's blocks from BGP." }),
  fromArgs: (args) => {
    expectArgs('bgp-withdraw', '<host>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): OnSpec => {
    bgpNodeRef(scope, raw.on, [...at, 'on']);
    if (scope.members.get(raw.on)?.kind === 'node') scope.err([...at, 'on'], `"${raw.on}" is a router; only hosts hold IPAM blocks.`);
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on}'s blocks are withdrawn from BGP`,
  nodes: (spec) => [spec.on],
  namespaces: (_spec, lab) => bgpNamespaces(lab),
  apply: async (spec, context) => {
    await birdc(context, bgpHost(context.lab, spec.on, 'bgp-withdraw'), 'disable', 'blocks');
    await settle(context);
  },
  undo: async (spec, _data, context) => {
    await birdc(context, bgpHost(context.lab, spec.on, 'bgp-withdraw'), 'enable', 'blocks');
    await converge(context);
  },
});

// ---------------------------------------------------------------- BIRD stopped

/** Whether a node's BIRD runs now, as its supervisor says. */
async function birdRunning(context: FaultContext, node: Node): Promise<boolean> {
  return (await readDaemonStatus(context.runtime, node.container, BIRD_DAEMON_NAME, { signal: context.signal }))?.state === 'running';
}

export interface StopBirdUndo {
  /** The container whose supervisor holds BIRD down until the fault is cleared. */
  container: string;
}

/** Stop BIRD as a service manager does (SIGTERM from its supervisor: it withdraws what it
 * announced and removes the routes it wrote), held down until the fault is cleared — a kill
 * alone would see it started again within a second. */
async function stopBird(context: FaultContext, node: Node): Promise<StopBirdUndo> {
  if (!(await birdRunning(context, node))) throw inputError(`BIRD is not running on ${node.name}`, 'nothing to stop; `overlab fault ls <lab>` shows whether a fault stopped it');
  await stopDaemons(context.runtime, node.container, [BIRD_DAEMON_NAME], context.signal);
  await settle(context);
  return { container: node.container };
}

async function startBird(context: FaultContext, node: Node): Promise<void> {
  await setDaemonWant(context.runtime, node.container, [BIRD_DAEMON_NAME], 'up', { signal: context.signal });
  await converge(context);
}

export const stopBirdKind = defineFaultKind({
  key: 'stop-bird',
  summary: 'stop-bird: {on}',
  args: '<node>',
  help: 'stop BIRD on a host or router (SIGTERM: it withdraws what it announced and removes the routes it wrote)',
  schema: (k) => k.T.Object({ on: k.nodeName('The BGP node whose BIRD stops.') }, { additionalProperties: false, description: 'Stop BIRD on a node.' }),
  fromArgs: (args) => {
    expectArgs('stop-bird', '<node>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): OnSpec => {
    bgpNodeRef(scope, raw.on, [...at, 'on']);
    return { on: raw.on };
  },
  describe: (spec) => `BIRD on ${spec.on} is stopped`,
  nodes: (spec) => [spec.on],
  namespaces: (_spec, lab) => bgpNamespaces(lab),
  apply: (spec, context) => stopBird(context, bgpNode(context.lab, spec.on, 'stop-bird')),
  undo: (spec, _data, context) => startBird(context, bgpNode(context.lab, spec.on, 'stop-bird')),
});

export const stopReflectorKind = defineFaultKind({
  key: 'stop-reflector',
  summary: 'stop-reflector: {on}',
  args: '<reflector>',
  help: "stop a route reflector's BIRD: its clients lose every block it passed on",
  schema: (k) => k.T.Object({ on: k.nodeName('The route reflector that stops.') }, { additionalProperties: false, description: "Stop a route reflector's BIRD." }),
  fromArgs: (args) => {
    expectArgs('stop-reflector', '<reflector>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): OnSpec => {
    bgpNodeRef(scope, raw.on, [...at, 'on']);
    return { on: raw.on };
  },
  describe: (spec) => `the route reflector ${spec.on} is stopped`,
  nodes: (spec) => [spec.on],
  namespaces: (_spec, lab) => bgpNamespaces(lab),
  apply: (spec, context) => {
    const network = bgpNetwork(context.lab);
    if (!network?.bgp?.reflectors.includes(spec.on)) {
      throw inputError(`stop-reflector: ${spec.on} is not a route reflector of lab ${context.lab.name}`, network?.bgp?.reflectors.length ? `its reflectors: ${network.bgp.reflectors.join(', ')}` : 'the lab is a full mesh; stop-bird stops any BGP node');
    }
    return stopBird(context, bgpNode(context.lab, spec.on, 'stop-reflector'));
  },
  undo: (spec, _data, context) => startBird(context, bgpNode(context.lab, spec.on, 'stop-reflector')),
});

// ---------------------------------------------------------------- a mistake in bird.conf

/** Write a node's bird.conf (archive API, no process) and have BIRD read it again. */
async function reconfigure(context: FaultContext, node: Node, text: string): Promise<void> {
  await context.runtime.putTar(node.container, '/', tarEntries([{ name: BIRD_CONFIG_FILE.replace(/^\//, ''), content: Buffer.from(text) }]), { signal: context.signal });
  await birdc(context, node, 'configure');
}

/** The edited configuration, or an error naming what the edit expected and did not find. */
export function editedConfig(text: string, from: string, to: string, kind: string): string {
  if (!text.includes(from)) throw inputError(`${kind}: the BIRD configuration has no "${from.trim()}" to change`);
  return text.replace(from, to);
}

async function breakConfig(context: FaultContext, node: Node, edit: (text: string) => string): Promise<void> {
  await reconfigure(context, node, edit(birdConfigFile(context.lab, node.name).content));
  await settle(context);
}

async function mendConfig(context: FaultContext, node: Node): Promise<void> {
  await reconfigure(context, node, birdConfigFile(context.lab, node.name).content);
  await converge(context);
}

export interface WrongAsSpec {
  on: string;
  as: number;
}

export const bgpWrongAsKind = defineFaultKind({
  key: 'bgp-wrong-as',
  summary: 'bgp-wrong-as: {on, as}',
  args: '<node> <as>',
  help: "give a node's BIRD another AS (its `local as`): its peers refuse it (Bad peer AS)",
  schema: (k) =>
    k.T.Object(
      { on: k.nodeName('The BGP node.'), as: k.T.Integer({ minimum: 1, maximum: 4294967295, description: 'The AS it claims instead.' }) },
      { additionalProperties: false, description: "A wrong AS in a node's BIRD configuration." },
    ),
  fromArgs: (args) => {
    expectArgs('bgp-wrong-as', '<node> <as>', args, 2);
    return { on: args[0]!, as: intArg('bgp-wrong-as', 'the AS', args[1]!, 1, 4294967295) };
  },
  resolve: (raw, scope, at): WrongAsSpec => {
    bgpNodeRef(scope, raw.on, [...at, 'on']);
    return { on: raw.on, as: raw.as };
  },
  describe: (spec) => `${spec.on}'s BIRD claims AS ${spec.as}`,
  nodes: (spec) => [spec.on],
  namespaces: (_spec, lab) => bgpNamespaces(lab),
  apply: async (spec, context) => {
    const node = bgpNode(context.lab, spec.on, 'bgp-wrong-as');
    const as = birdConfigOf(context.lab, spec.on)!.as;
    if (as === spec.as) throw inputError(`bgp-wrong-as: ${spec.on} already uses AS ${as}; name another AS`);
    await breakConfig(context, node, (t) => editedConfig(t, `  local as ${as};`, `  local as ${spec.as};`, 'bgp-wrong-as'));
  },
  undo: (spec, _data, context) => mendConfig(context, bgpNode(context.lab, spec.on, 'bgp-wrong-as')),
});

export const bgpDropNeighbourKind = defineFaultKind({
  key: 'bgp-drop-neighbour',
  summary: 'bgp-drop-neighbour: {on, peer}',
  ...sessionFault('bgp-drop-neighbour'),
  help: "leave a neighbour out of a node's BIRD configuration: their session never comes up",
  schema: (k) =>
    k.T.Object(
      { on: k.nodeName('The BGP node whose configuration loses the neighbour.'), peer: k.nodeName('The neighbour left out.') },
      { additionalProperties: false, description: "A neighbour missing from a node's BIRD configuration." },
    ),
  describe: (spec) => `${spec.on}'s BIRD configuration has no neighbour ${spec.peer}`,
  namespaces: (_spec, lab) => bgpNamespaces(lab),
  apply: async (spec, context) => {
    const { node, protocol } = sessionOf(context.lab, spec, 'bgp-drop-neighbour');
    await breakConfig(context, node, (t) => {
      const line = t.split('\n').find((l) => l.startsWith(`protocol bgp ${protocol} `));
      if (!line) throw inputError(`bgp-drop-neighbour: ${spec.on}'s configuration has no session ${protocol}`);
      return editedConfig(t, `${line}\n`, '', 'bgp-drop-neighbour');
    });
  },
  undo: (spec, _data, context) => mendConfig(context, bgpNode(context.lab, spec.on, 'bgp-drop-neighbour')),
});

export const bgpExportFilterKind = defineFaultKind({
  key: 'bgp-export-filter',
  summary: 'bgp-export-filter: {on}',
  args: '<host>',
  help: "a host's export filter rejects its own blocks: the sessions are up, yet no peer learns them",
  schema: (k) => k.T.Object({ on: k.nodeName('The host whose filter hides its blocks.') }, { additionalProperties: false, description: "An export filter that hides a host's blocks." }),
  fromArgs: (args) => {
    expectArgs('bgp-export-filter', '<host>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): OnSpec => {
    bgpNodeRef(scope, raw.on, [...at, 'on']);
    if (scope.members.get(raw.on)?.kind === 'node') scope.err([...at, 'on'], `"${raw.on}" is a router; only hosts hold IPAM blocks.`);
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on}'s export filter hides its blocks`,
  nodes: (spec) => [spec.on],
  namespaces: (_spec, lab) => bgpNamespaces(lab),
  apply: async (spec, context) => {
    const host = bgpHost(context.lab, spec.on, 'bgp-export-filter');
    const blocks = host.networks.find((n) => n.blocks)?.blocks ?? [];
    const hide = blocks.map((b) => `  if net = ${b} then reject;\n`).join('');
    await breakConfig(context, host, (t) => editedConfig(t, 'filter to_peers {\n', `filter to_peers {\n${hide}`, 'bgp-export-filter'));
  },
  undo: (spec, _data, context) => mendConfig(context, bgpNode(context.lab, spec.on, 'bgp-export-filter')),
});
