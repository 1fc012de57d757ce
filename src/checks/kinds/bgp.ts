// bgp: one BGP node (a host or a router of a `backend: bgp` lab) as Calico would have it — the
// sessions it should have are Established (`birdc show protocols all`), every other host's
// block is in its kernel `proto bird` via the right next hop (the owner on a shared segment, else
// the router towards it) and, on a host, a blackhole for each of its own blocks (`ip -j route`).
// Judged by src/probes/bgp-verdict.ts against the plan (src/plan/bgp-plan.ts).
import { LabPartMissing } from '../../lab/lab-part-missing.js';
import { judgeBgp, type BgpObservation } from '../../probes/bgp-verdict.js';
import { defineCheckKind } from '../check-kind.js';

export interface BgpCheckSpec {
  on: string;
  /** Peers whose sessions must be Established; absent: every session the node has. */
  sessions?: string[];
}

interface Expected {
  node: string;
  sessions: { protocol: string; peer: string; address: string }[];
  routes: { block: string; owner: string; via: string; dev: string; viaNode: string }[];
  blackholes: string[];
}

export interface BgpCheckObservation {
  expected: Expected;
  state: BgpObservation;
}

export const bgpKind = defineCheckKind({
  key: 'bgp',
  label: 'bgp',
  summary: 'bgp: {on, sessions?}',
  schema: (k) =>
    k.T.Object(
      {
        on: k.nodeName('The BGP node (a host or a router of a backend: bgp lab) whose BIRD and kernel are read.'),
        sessions: k.T.Optional(
          k.T.Array(k.nodeName(), {
            minItems: 1,
            uniqueItems: true,
            description: 'The peers whose sessions must be Established (default: every session the node has).',
          }),
        ),
      },
      {
        additionalProperties: false,
        description:
          "A BGP node as Calico has it: its sessions Established (birdc), every other host's block routed proto bird via the right next hop, a blackhole for each of its own blocks (ip -j route).",
      },
    ),
  resolve: (raw, scope, at): BgpCheckSpec => {
    scope.overlayNetwork(undefined, [...at, 'on'], (b) => b === 'bgp', 'a pod network with backend bgp');
    const bgpNode = (name: string, path: (string | number)[]) => {
      const r = scope.ref(name, path);
      if (!r) return;
      scope.exists(r, path, name);
      const m = scope.members.get(name);
      if (m?.kind === 'node' && m.role !== 'router') scope.err(path, `"${name}" is ${m.role === 'outside' ? 'an outside node' : `a ${m.role}`}; BIRD runs on hosts and routers.`);
    };
    bgpNode(raw.on, [...at, 'on']);
    raw.sessions?.forEach((s, i) => {
      bgpNode(s, [...at, 'sessions', i]);
      if (s === raw.on) scope.err([...at, 'sessions', i], 'a node has no session with itself.');
    });
    return { on: raw.on, ...(raw.sessions ? { sessions: [...raw.sessions] } : {}) };
  },
  footprint: (spec) => ({ nodes: [spec.on], captures: [], traffic: [] }),
  run: async (spec, { runtime, lab }, signal): Promise<BgpCheckObservation> => {
    const [{ bgpExpectations }, { readBgpState }] = await Promise.all([import('../../plan/bgp-plan.js'), import('../../probes/bird-state.js')]);
    const expected = bgpExpectations(lab).find((e) => e.node === spec.on);
    if (!expected) throw new LabPartMissing(`${spec.on} runs no BIRD in lab ${lab.name}`);
    const node = [...lab.hosts, ...lab.externals].find((n) => n.name === spec.on)!;
    const sessions = spec.sessions ? expected.sessions.filter((s) => spec.sessions!.includes(s.peer)) : expected.sessions;
    for (const peer of spec.sessions ?? []) {
      if (!sessions.some((s) => s.peer === peer)) sessions.push({ protocol: `(none: ${spec.on}'s plan has no session with ${peer})`, peer, address: '-' });
    }
    return { expected: { ...expected, sessions }, state: await readBgpState(runtime, node.container, signal) };
  },
  verdict: (_spec, o) => {
    const j = judgeBgp(o.expected, o.state);
    return { status: j.status, seen: j.seen, ...(j.reason ? { reason: j.reason } : {}), details: { problems: j.problems, sessions: o.expected.sessions.length, routes: o.expected.routes.length } };
  },
});
