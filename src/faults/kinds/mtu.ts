// mtu: an interface's MTU is changed (e.g. a pod that believes 1500 on a 1450 overlay).
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs, intArg } from '../values.js';
import { interfaceOf, linkOf, run } from './targets.js';

export interface MtuSpec {
  on: string;
  mtu: number;
}

export const mtuKind = defineFaultKind({
  key: 'mtu',
  summary: 'mtu: {on, mtu}',
  args: '<node>:<iface> <bytes>',
  help: "change an interface's MTU",
  schema: (k) =>
    k.T.Object(
      { on: k.ref('The interface: host:iface, host/pod:iface or node:iface.'), mtu: k.T.Integer({ minimum: 68, maximum: 65535, description: 'The new MTU in bytes.' }) },
      { additionalProperties: false, description: "Change an interface's MTU." },
    ),
  fromArgs: (args) => {
    expectArgs('mtu', '<node>:<iface> <bytes>', args, 2);
    return { on: args[0]!, mtu: intArg('mtu', 'the MTU', args[1]!, 68, 65535) };
  },
  resolve: (raw, scope, at): MtuSpec => {
    scope.iface(raw.on, [...at, 'on']);
    return { on: raw.on, mtu: raw.mtu };
  },
  describe: (spec) => `${spec.on} has MTU ${spec.mtu}`,
  nodes: (spec, lab) => [interfaceOf(lab, spec.on).ns.node],
  namespaces: (spec, lab) => [interfaceOf(lab, spec.on).ns],
  apply: async (spec, context) => {
    const { ns, iface } = interfaceOf(context.lab, spec.on);
    const link = linkOf(context, ns, iface);
    if (link.mtu === spec.mtu) throw inputError(`${spec.on} already has MTU ${spec.mtu}`, 'pick another MTU to break it');
    await run(context, ns, ['ip', 'link', 'set', 'dev', iface, 'mtu', String(spec.mtu)]);
    return undefined;
  },
});
