// rate: an interface sends no faster than a rate (tc tbf as its root qdisc).
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs, patternArg, RATE_PATTERN, rateBits } from '../values.js';
import { interfaceOf, linkOf, run, stateOf } from './targets.js';

export interface RateSpec {
  on: string;
  rate: string;
}

/** tbf needs a bucket of at least one packet; 10 ms worth of the rate, never below 4 KiB. */
export function tbfArgv(iface: string, rate: string): string[] {
  const burst = Math.max(4096, Math.ceil(rateBits(rate) / 8 / 100));
  return ['tc', 'qdisc', 'add', 'dev', iface, 'root', 'tbf', 'rate', rate, 'burst', String(burst), 'latency', '100ms'];
}

export const rateKind = defineFaultKind({
  key: 'rate',
  summary: 'rate: {on, rate}',
  args: '<node>:<iface> <rate>',
  help: 'limit how fast an interface sends (tc tbf), e.g. 1mbit',
  schema: (k) =>
    k.T.Object(
      {
        on: k.ref('The interface: host:iface, host/pod:iface or node:iface.'),
        rate: k.T.String({ pattern: RATE_PATTERN, description: 'The rate in tc\'s words, e.g. 1mbit, 500kbit, 2gbit.' }),
      },
      { additionalProperties: false, description: 'Limit how fast an interface sends.' },
    ),
  fromArgs: (args) => {
    expectArgs('rate', '<node>:<iface> <rate>', args, 2);
    return { on: args[0]!, rate: patternArg('rate', 'rate', args[1]!, RATE_PATTERN, '1mbit, 500kbit or 2gbit') };
  },
  resolve: (raw, scope, at): RateSpec => {
    scope.iface(raw.on, [...at, 'on']);
    return { on: raw.on, rate: raw.rate };
  },
  describe: (spec) => `${spec.on} sends at most ${spec.rate}`,
  nodes: (spec, lab) => [interfaceOf(lab, spec.on).ns.node],
  namespaces: (spec, lab) => [interfaceOf(lab, spec.on).ns],
  apply: async (spec, context) => {
    const { ns, iface } = interfaceOf(context.lab, spec.on);
    linkOf(context, ns, iface);
    const root = stateOf(context, ns).qdiscs.find((q) => q.dev === iface && q.root);
    if (root && root.handle !== '0:') throw inputError(`${spec.on} already has a ${root.kind} qdisc`, 'clear the fault that put it there first (`overlab fault ls <lab>`)');
    await run(context, ns, tbfArgv(iface, spec.rate));
    return undefined;
  },
});
