// delay and jitter: tc netem as the interface's root qdisc. This needs the kernel's sch_netem;
// where it is missing (this project's build machine) the fault says so and exits 3 — `doctor`
// lists which qdiscs the kernel has, and `rate` (tbf) and `loss` (iptables) work without netem.
import { environmentError, inputError } from '../../base/errors.js';
import { inNamespace, namespaceKey } from '../namespace.js';
import { defineFaultKind, type ApplyContext } from '../fault-kind.js';
import { DURATION_PATTERN, expectArgs, patternArg } from '../values.js';
import { interfaceOf, linkOf, stateOf } from './targets.js';

export interface DelaySpec {
  on: string;
  delay: string;
}

export interface JitterSpec {
  on: string;
  delay: string;
  jitter: string;
}

/** What tc says when the kernel has no such qdisc. */
export const UNKNOWN_QDISC = /Specified qdisc kind is unknown|qdisc kind is unknown|Unknown qdisc/i;

export const NETEM_MISSING_HINT =
  'load netem on the machine that runs the engine (`modprobe sch_netem`; on Debian it is in the kernel\'s modules package, CONFIG_NET_SCH_NETEM), or use `rate` (tc tbf) and `loss` (iptables statistic), which work without it; `overlab doctor` lists the qdiscs this kernel has';

async function addNetem(spec: DelaySpec & { jitter?: string }, context: ApplyContext, kind: string): Promise<undefined> {
  const { ns, iface } = interfaceOf(context.lab, spec.on);
  linkOf(context, ns, iface);
  const root = stateOf(context, ns).qdiscs.find((q) => q.dev === iface && q.root);
  if (root && root.handle !== '0:') throw inputError(`${spec.on} already has a ${root.kind} qdisc`, 'clear the fault that put it there first (`overlab fault ls <lab>`)');
  const argv = ['tc', 'qdisc', 'add', 'dev', iface, 'root', 'netem', 'delay', spec.delay, ...(spec.jitter ? [spec.jitter] : [])];
  const r = await context.runtime.exec(ns.container, inNamespace(ns, argv), { signal: context.signal });
  if (r.exitCode === 0) return undefined;
  if (UNKNOWN_QDISC.test(r.stderr)) {
    throw environmentError(`${kind} needs the netem qdisc (tc netem), and this kernel has none (sch_netem is not available: tc says "${r.stderr.trim().split('\n')[0]}")`, NETEM_MISSING_HINT);
  }
  throw environmentError(`\`${argv.join(' ')}\` failed in ${namespaceKey(ns)}: ${r.stderr.trim()}`);
}

const onField = 'The interface: host:iface, host/pod:iface or node:iface.';

export const delayKind = defineFaultKind({
  key: 'delay',
  summary: 'delay: {on, delay}',
  args: '<node>:<iface> <time>',
  help: 'delay every packet leaving an interface (tc netem), e.g. 100ms',
  schema: (k) =>
    k.T.Object(
      { on: k.ref(onField), delay: k.T.String({ pattern: DURATION_PATTERN, description: 'The delay in tc\'s words, e.g. 100ms.' }) },
      { additionalProperties: false, description: 'Delay every packet leaving an interface (needs sch_netem).' },
    ),
  fromArgs: (args) => {
    expectArgs('delay', '<node>:<iface> <time>', args, 2);
    return { on: args[0]!, delay: patternArg('delay', 'time', args[1]!, DURATION_PATTERN, '100ms or 1.5s') };
  },
  resolve: (raw, scope, at): DelaySpec => {
    scope.iface(raw.on, [...at, 'on']);
    return { on: raw.on, delay: raw.delay };
  },
  describe: (spec) => `packets leaving ${spec.on} wait ${spec.delay}`,
  nodes: (spec, lab) => [interfaceOf(lab, spec.on).ns.node],
  namespaces: (spec, lab) => [interfaceOf(lab, spec.on).ns],
  apply: (spec, context) => addNetem(spec, context, 'delay'),
});

export const jitterKind = defineFaultKind({
  key: 'jitter',
  summary: 'jitter: {on, delay, jitter}',
  args: '<node>:<iface> <time> <jitter>',
  help: 'delay packets leaving an interface by a varying time (tc netem), e.g. 100ms 20ms',
  schema: (k) =>
    k.T.Object(
      {
        on: k.ref(onField),
        delay: k.T.String({ pattern: DURATION_PATTERN, description: 'The mean delay, e.g. 100ms.' }),
        jitter: k.T.String({ pattern: DURATION_PATTERN, description: 'How much it varies, e.g. 20ms.' }),
      },
      { additionalProperties: false, description: 'Delay packets leaving an interface by a varying time (needs sch_netem).' },
    ),
  fromArgs: (args) => {
    expectArgs('jitter', '<node>:<iface> <time> <jitter>', args, 3);
    return {
      on: args[0]!,
      delay: patternArg('jitter', 'time', args[1]!, DURATION_PATTERN, '100ms'),
      jitter: patternArg('jitter', 'time', args[2]!, DURATION_PATTERN, '20ms'),
    };
  },
  resolve: (raw, scope, at): JitterSpec => {
    scope.iface(raw.on, [...at, 'on']);
    return { on: raw.on, delay: raw.delay, jitter: raw.jitter };
  },
  describe: (spec) => `packets leaving ${spec.on} wait ${spec.delay} ± ${spec.jitter}`,
  nodes: (spec, lab) => [interfaceOf(lab, spec.on).ns.node],
  namespaces: (spec, lab) => [interfaceOf(lab, spec.on).ns],
  apply: (spec, context) => addNetem(spec, context, 'jitter'),
});
