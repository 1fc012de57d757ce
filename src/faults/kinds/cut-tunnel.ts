// cut-tunnel: the VXLAN tunnel between two engines' switches is cut, both ways (a lab spread over
// several engines). Each switch's stitch devices flood to every other engine through one FDB
// entry per peer (`00:00:00:00:00:00 dst <peer's address>`); the fault deletes the entries that
// lead to the other engine, on every segment's tunnel, in both switches. Frames for a node on
// the other engine then leave by no tunnel. clear puts the entries back (the generic restore of
// the FDB), exactly as they were.
import { inputError } from '../../base/errors.js';
import { labSwitches, stitchTunnels } from '../../plan/engine-placement.js';
import type { ResolvedEngine, ResolvedLab } from '../../plan/resolved-lab.js';
import { defineFaultKind } from '../fault-kind.js';
import { nodeNamespace, type Namespace } from '../namespace.js';
import { expectArgs } from '../values.js';
import { run, stateOf } from './targets.js';

export interface CutTunnelSpec {
  between: [string, string];
}

const ENGINE_NAME = /^[a-z][a-z0-9-]{0,14}$/;
const ALL_ZEROS = '00:00:00:00:00:00';

function engineOf(lab: ResolvedLab, name: string): ResolvedEngine {
  const engines = lab.engines ?? [];
  if (engines.length < 2) throw inputError(`cut-tunnel: lab ${lab.name} is on one engine; it has no tunnel between engines`, 'spread it over several (`engines:` in the spec, or `up --engine NAME=ENDPOINT`)');
  const e = engines.find((x) => x.name === name);
  if (!e) throw inputError(`cut-tunnel: lab ${lab.name} has no engine "${name}"`, `its engines: ${engines.map((x) => x.name).join(', ')}`);
  return e;
}

function ends(lab: ResolvedLab, spec: CutTunnelSpec): { engine: ResolvedEngine; peer: ResolvedEngine; ns: Namespace }[] {
  const [a, b] = spec.between.map((n) => engineOf(lab, n)) as [ResolvedEngine, ResolvedEngine];
  const nsOf = (e: ResolvedEngine) => nodeNamespace(lab, labSwitches(lab).find((s) => s.engine === e.name)!.key)!;
  return [
    { engine: a, peer: b, ns: nsOf(a) },
    { engine: b, peer: a, ns: nsOf(b) },
  ];
}

export const cutTunnelKind = defineFaultKind({
  key: 'cut-tunnel',
  summary: 'cut-tunnel: {between}',
  args: '<engine> <engine>',
  help: 'cut the VXLAN tunnel between two engines of a lab spread over several (both ways, every segment)',
  schema: (k) =>
    k.T.Object(
      {
        // maxItems stated: TypeBox 1.x bounds a tuple with additionalItems alone, and a third engine
        // reads best as "at most 2 items".
        between: k.T.Tuple([k.T.String({ pattern: ENGINE_NAME.source, description: 'An engine of the lab.' }), k.T.String({ pattern: ENGINE_NAME.source, description: 'Another engine of the lab.' })], {
          maxItems: 2,
          description: 'The two engines whose switches stop reaching each other.',
        }),
      },
      { additionalProperties: false, description: 'Cut the tunnel between two engines.' },
    ),
  fromArgs: (args) => {
    expectArgs('cut-tunnel', '<engine> <engine>', args, 2);
    return { between: [args[0]!, args[1]!] as [string, string] };
  },
  resolve: (raw, scope, at): CutTunnelSpec => {
    raw.between.forEach((name, i) => {
      if (!ENGINE_NAME.test(name)) scope.err([...at, 'between', i], `${JSON.stringify(name)} is not an engine name.`, 'A lowercase letter, then letters, digits or -, at most 15.');
    });
    if (raw.between[0] === raw.between[1]) scope.err([...at, 'between', 1], 'an engine has no tunnel to itself.', 'Name two different engines.');
    return { between: [raw.between[0], raw.between[1]] };
  },
  describe: (spec) => `the tunnel between engines ${spec.between[0]} and ${spec.between[1]} is cut`,
  nodes: (spec, lab) => ends(lab, spec).map((e) => e.ns.node),
  namespaces: (spec, lab) => ends(lab, spec).map((e) => e.ns),
  apply: async (spec, context) => {
    const tunnels = stitchTunnels(context.lab);
    const cuts = ends(context.lab, spec).flatMap(({ peer, ns }) => {
      const fdb = stateOf(context, ns).fdb;
      return tunnels.filter((t) => fdb.some((f) => f.ifname === t.device && f.mac === ALL_ZEROS && f.dst === peer.address)).map((t) => ({ ns, device: t.device, peer }));
    });
    if (cuts.length === 0) throw inputError(`the tunnel between engines ${spec.between[0]} and ${spec.between[1]} is already cut`, 'nothing to break; `overlab fault ls <lab>` shows the active faults');
    for (const c of cuts) await run(context, c.ns, ['bridge', 'fdb', 'del', ALL_ZEROS, 'dev', c.device, 'dst', c.peer.address]);
    return undefined;
  },
});
