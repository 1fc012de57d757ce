// forwarding-off and no-masquerade: a host that stops routing (net.ipv4.ip_forward=0) or stops
// masquerading pod traffic that leaves the pod network.
import { environmentError, inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { ruleWords } from '../iptables-save.js';
import { IP_FORWARD_KEY } from '../restore-plan.js';
import { expectArgs } from '../values.js';
import { namespaceOf, resolveNode, run, stateOf } from './targets.js';

export interface NodeSpec {
  on: string;
}

export const forwardingOffKind = defineFaultKind({
  key: 'forwarding-off',
  summary: 'forwarding-off: {on}',
  args: '<node>',
  help: 'stop a host (or router) from forwarding packets: net.ipv4.ip_forward=0',
  schema: (k) => k.T.Object({ on: k.memberName('The host or router that stops forwarding.') }, { additionalProperties: false, description: 'Set net.ipv4.ip_forward=0 on a node.' }),
  fromArgs: (args) => {
    expectArgs('forwarding-off', '<node>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): NodeSpec => {
    resolveNode(scope, raw.on, [...at, 'on']);
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on} does not forward (net.ipv4.ip_forward=0)`,
  nodes: (spec, lab) => [namespaceOf(lab, spec.on).node],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.on)],
  apply: async (spec, context) => {
    const ns = namespaceOf(context.lab, spec.on);
    if (stateOf(context, ns).sysctl[IP_FORWARD_KEY] === '0') throw inputError(`${spec.on} already does not forward (net.ipv4.ip_forward=0)`);
    const r = await context.runtime.exec(ns.container, ['sysctl', '-q', '-w', `${IP_FORWARD_KEY}=0`], { signal: context.signal });
    if (r.exitCode !== 0) {
      throw environmentError(
        `${spec.on} cannot change net.ipv4.ip_forward: ${r.stderr.trim()}`,
        `the lab was built with /proc/sys read-only (by an older overlab): rebuild it (\`overlab up <spec> --recreate\`) so its network sysctls are writable`,
      );
    }
    return undefined;
  },
});

export const noMasqueradeKind = defineFaultKind({
  key: 'no-masquerade',
  summary: 'no-masquerade: {on}',
  args: '<host>',
  help: "delete a host's MASQUERADE rules: pod traffic leaves with the pod's own address",
  schema: (k) => k.T.Object({ on: k.nodeName('The host that stops masquerading.') }, { additionalProperties: false, description: "Delete a host's MASQUERADE rules." }),
  fromArgs: (args) => {
    expectArgs('no-masquerade', '<host>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): NodeSpec => {
    resolveNode(scope, raw.on, [...at, 'on'], { hostOnly: true });
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on} does not masquerade pod traffic`,
  nodes: (spec, lab) => [namespaceOf(lab, spec.on).node],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.on)],
  apply: async (spec, context) => {
    const ns = namespaceOf(context.lab, spec.on);
    const rules = (stateOf(context, ns).iptables.nat?.chains.POSTROUTING?.rules ?? []).filter((r) => /(?:^| )-j MASQUERADE(?: |$)/.test(r));
    if (!rules.length) {
      throw inputError(`${spec.on} masquerades nothing: its nat POSTROUTING chain has no MASQUERADE rule`, 'the lab\'s network has nat: false, or the rule is gone already');
    }
    for (const rule of rules) await run(context, ns, ['iptables', '-t', 'nat', '-D', 'POSTROUTING', ...ruleWords(rule)]);
    return undefined;
  },
});
