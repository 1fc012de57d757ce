// link-down: an interface is set down (a cable pulled). The kernel drops the routes through it;
// clear sets it up again and puts those routes back.
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs } from '../values.js';
import { interfaceOf, linkOf, run } from './targets.js';

export interface LinkDownSpec {
  on: string;
}

export const linkDownKind = defineFaultKind({
  key: 'link-down',
  summary: 'link-down: {on}',
  args: '<node>:<iface>',
  help: 'set an interface down (the kernel drops the routes through it)',
  schema: (k) => k.T.Object({ on: k.ref('The interface: host:iface, host/pod:iface or node:iface.') }, { additionalProperties: false, description: 'Set an interface down.' }),
  fromArgs: (args) => {
    expectArgs('link-down', '<node>:<iface>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): LinkDownSpec => {
    scope.iface(raw.on, [...at, 'on']);
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on} is down`,
  nodes: (spec, lab) => [interfaceOf(lab, spec.on).ns.node],
  namespaces: (spec, lab) => [interfaceOf(lab, spec.on).ns],
  apply: async (spec, context) => {
    const { ns, iface } = interfaceOf(context.lab, spec.on);
    const link = linkOf(context, ns, iface);
    if (!link.up) throw inputError(`${spec.on} is already down`, 'nothing to break; `overlab fault ls <lab>` shows the active faults');
    await run(context, ns, ['ip', 'link', 'set', 'dev', iface, 'down']);
    return undefined;
  },
});
