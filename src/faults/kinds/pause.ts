// pause: a node's container is frozen (the engine's pause: every process stops, the kernel state
// stays). Clear unpauses it.
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs } from '../values.js';
import { namespaceOf, resolveNode } from './targets.js';

export interface PauseSpec {
  on: string;
}

export const pauseKind = defineFaultKind({
  key: 'pause',
  summary: 'pause: {on}',
  args: '<node>',
  help: "freeze a node's container (docker pause): its processes stop, its kernel state stays",
  schema: (k) =>
    k.T.Object(
      { on: k.memberName('The node to freeze: a host, an external node or etcd.') },
      { additionalProperties: false, description: "Freeze a node's container." },
    ),
  fromArgs: (args) => {
    expectArgs('pause', '<node>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): PauseSpec => {
    resolveNode(scope, raw.on, [...at, 'on']);
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on} is paused`,
  nodes: (spec, lab) => [namespaceOf(lab, spec.on).node],
  namespaces: () => [],
  apply: async (spec, context) => {
    const ns = namespaceOf(context.lab, spec.on);
    const details = await context.runtime.inspectContainer(ns.container, { signal: context.signal });
    if (details.state === 'paused') throw inputError(`${spec.on} is already paused`);
    await context.runtime.pause(ns.container, { signal: context.signal });
    return undefined;
  },
  undo: async (spec, _data, context) => {
    const ns = namespaceOf(context.lab, spec.on);
    const details = await context.runtime.inspectContainer(ns.container, { signal: context.signal });
    if (details.state === 'paused') await context.runtime.unpause(ns.container, { signal: context.signal });
  },
});
