// detach: an interface leaves its bridge (the switch port is gone: `ip link set … nomaster`).
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs } from '../values.js';
import { interfaceOf, linkOf, run } from './targets.js';

export interface DetachSpec {
  on: string;
}

export const detachKind = defineFaultKind({
  key: 'detach',
  summary: 'detach: {on}',
  args: '<host>:<iface>',
  help: 'take an interface off its bridge (a pod veth no longer on docker0)',
  schema: (k) => k.T.Object({ on: k.ref('The bridge port: host:iface, e.g. host1:veth-pod1.') }, { additionalProperties: false, description: 'Take an interface off its bridge.' }),
  fromArgs: (args) => {
    expectArgs('detach', '<host>:<iface>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): DetachSpec => {
    scope.iface(raw.on, [...at, 'on']);
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on} is off its bridge`,
  nodes: (spec, lab) => [interfaceOf(lab, spec.on).ns.node],
  namespaces: (spec, lab) => [interfaceOf(lab, spec.on).ns],
  apply: async (spec, context) => {
    const { ns, iface } = interfaceOf(context.lab, spec.on);
    const link = linkOf(context, ns, iface);
    if (!link.master) throw inputError(`${spec.on} is not a port of any bridge`, 'detach takes a bridge port, e.g. a pod\'s host-side veth (host1:veth-pod1)');
    await run(context, ns, ['ip', 'link', 'set', 'dev', iface, 'nomaster']);
    return undefined;
  },
});
