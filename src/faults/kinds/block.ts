// block: a node drops what arrives for one port (a firewall rule in its INPUT chain), e.g. udp/8285
// (flannel udp) or udp/8472 (VXLAN) on one host.
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs, intArg, PROTOCOLS, usage } from '../values.js';
import { inputError } from '../../base/errors.js';
import { namespaceOf, resolveNode, run } from './targets.js';

export interface BlockSpec {
  on: string;
  proto: (typeof PROTOCOLS)[number];
  port: number;
}

export function blockRule(spec: BlockSpec): string[] {
  return ['iptables', '-t', 'filter', '-I', 'INPUT', '1', '-p', spec.proto, '-m', spec.proto, '--dport', String(spec.port), '-j', 'DROP'];
}

export const blockKind = defineFaultKind({
  key: 'block',
  summary: 'block: {on, proto, port}',
  args: '<node> <proto>/<port>',
  help: 'drop what arrives at a node for one port, e.g. udp/8472',
  schema: (k) =>
    k.T.Object(
      {
        on: k.memberName('The node that drops the packets: a host, an external node or etcd.'),
        proto: k.T.Unsafe<(typeof PROTOCOLS)[number]>({ type: 'string', enum: [...PROTOCOLS], description: 'udp or tcp.' }),
        port: k.port('The destination port that is dropped.'),
      },
      { additionalProperties: false, description: 'Drop what arrives at a node for one port.' },
    ),
  fromArgs: (args) => {
    expectArgs('block', '<node> <proto>/<port>', args, 2);
    const m = /^(udp|tcp)\/(\d+)$/.exec(args[1]!);
    if (!m) throw inputError(`block: "${args[1]}" is not <proto>/<port>`, `e.g. udp/8472 — ${usage('block', '<node> <proto>/<port>')}`);
    return { on: args[0]!, proto: m[1] as 'udp' | 'tcp', port: intArg('block', 'the port', m[2]!, 1, 65535) };
  },
  resolve: (raw, scope, at): BlockSpec => {
    resolveNode(scope, raw.on, [...at, 'on']);
    return { on: raw.on, proto: raw.proto, port: raw.port };
  },
  describe: (spec) => `${spec.on} drops ${spec.proto}/${spec.port}`,
  nodes: (spec, lab) => [namespaceOf(lab, spec.on).node],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.on)],
  apply: async (spec, context) => {
    await run(context, namespaceOf(context.lab, spec.on), blockRule(spec));
    return undefined;
  },
});
