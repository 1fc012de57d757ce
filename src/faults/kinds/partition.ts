// partition: two nodes no longer reach each other on the underlay. The underlay is a Linux bridge
// in the lab's switch container whose ports are named after the nodes; two ebtables rules there
// drop the frames from one port to the other, both ways. Everyone else still reaches both.
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { nodeNamespace } from '../namespace.js';
import { expectArgs } from '../values.js';
import { ETCD_NODE, linkOf, resolveNode, run } from './targets.js';

export interface PartitionSpec {
  between: [string, string];
}

/** The switch port of a node: its name (the etcd node's is "etcd"). */
function portOf(node: string): string {
  return node;
}

export function partitionRules(a: string, b: string): string[][] {
  return [
    ['ebtables', '-t', 'filter', '-I', 'FORWARD', '1', '-i', portOf(a), '-o', portOf(b), '-j', 'DROP'],
    ['ebtables', '-t', 'filter', '-I', 'FORWARD', '1', '-i', portOf(b), '-o', portOf(a), '-j', 'DROP'],
  ];
}

export const partitionKind = defineFaultKind({
  key: 'partition',
  summary: 'partition: {between: [a, b]}',
  args: '<nodeA> <nodeB>',
  help: 'cut two nodes off from each other on the underlay (both ways)',
  schema: (k) =>
    k.T.Object(
      {
        between: k.T.Array(k.memberName(), {
          minItems: 2,
          maxItems: 2,
          description: 'The two nodes (hosts, external nodes or etcd) that lose each other.',
        }),
      },
      { additionalProperties: false, description: 'Cut two nodes off from each other on the underlay.' },
    ),
  fromArgs: (args) => {
    expectArgs('partition', '<nodeA> <nodeB>', args, 2);
    return { between: [args[0]!, args[1]!] };
  },
  resolve: (raw, scope, at): PartitionSpec => {
    raw.between.forEach((n, i) => resolveNode(scope, n, [...at, 'between', i]));
    if (raw.between[0] === raw.between[1]) scope.err([...at, 'between', 1], 'a node cannot be cut off from itself.', 'Name two different nodes.');
    return { between: [raw.between[0]!, raw.between[1]!] };
  },
  describe: (spec) => `${spec.between[0]} and ${spec.between[1]} cannot reach each other on the underlay`,
  nodes: (spec) => ['switch', ...spec.between],
  namespaces: (_spec, lab) => [nodeNamespace(lab, 'switch')!],
  apply: async (spec, context) => {
    const sw = nodeNamespace(context.lab, 'switch')!;
    const [a, b] = spec.between;
    if (a === b) throw inputError('partition needs two different nodes');
    for (const node of spec.between) {
      if (node !== ETCD_NODE && !context.lab.hosts.some((h) => h.name === node) && !context.lab.externals.some((e) => e.name === node)) {
        throw inputError(`partition: "${node}" is not a node of lab ${context.lab.name}`, `its nodes: ${[...context.lab.hosts, ...context.lab.externals].map((n) => n.name).join(', ')}`);
      }
      linkOf(context, sw, portOf(node));
    }
    for (const argv of partitionRules(a, b)) await run(context, sw, argv);
    return undefined;
  },
});
