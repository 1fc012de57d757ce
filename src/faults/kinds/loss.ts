// loss: a share of the packets leaving an interface is dropped, chosen at random by iptables'
// `statistic` match (this kernel has no netem). Like netem's loss it acts on egress: locally
// sent packets (OUTPUT) and forwarded ones (FORWARD).
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs, percentArg } from '../values.js';
import { interfaceOf, linkOf, run } from './targets.js';

export interface LossSpec {
  on: string;
  percent: number;
}

export function probability(percent: number): string {
  return (percent / 100).toFixed(5).replace(/0+$/, '').replace(/\.$/, '');
}

export function lossRules(iface: string, percent: number): string[][] {
  const match = ['-o', iface, '-m', 'statistic', '--mode', 'random', '--probability', probability(percent), '-j', 'DROP'];
  return [
    ['iptables', '-t', 'filter', '-I', 'OUTPUT', '1', ...match],
    ['iptables', '-t', 'filter', '-I', 'FORWARD', '1', ...match],
  ];
}

export const lossKind = defineFaultKind({
  key: 'loss',
  summary: 'loss: {on, percent}',
  args: '<node>:<iface> <percent>',
  help: 'drop a share of the packets leaving an interface (iptables statistic)',
  schema: (k) =>
    k.T.Object(
      {
        on: k.ref('The interface: host:iface, host/pod:iface or node:iface.'),
        percent: k.T.Number({ minimum: 0.01, maximum: 100, description: 'Share of the packets leaving the interface that are dropped, in percent.' }),
      },
      { additionalProperties: false, description: 'Drop a share of the packets leaving an interface.' },
    ),
  fromArgs: (args) => {
    expectArgs('loss', '<node>:<iface> <percent>', args, 2);
    return { on: args[0]!, percent: percentArg('loss', args[1]!) };
  },
  resolve: (raw, scope, at): LossSpec => {
    scope.iface(raw.on, [...at, 'on']);
    return { on: raw.on, percent: raw.percent };
  },
  describe: (spec) => `${spec.percent}% of the packets leaving ${spec.on} are dropped`,
  nodes: (spec, lab) => [interfaceOf(lab, spec.on).ns.node],
  namespaces: (spec, lab) => [interfaceOf(lab, spec.on).ns],
  apply: async (spec, context) => {
    const { ns, iface } = interfaceOf(context.lab, spec.on);
    linkOf(context, ns, iface);
    for (const argv of lossRules(iface, spec.percent)) await run(context, ns, argv);
    return undefined;
  },
});
