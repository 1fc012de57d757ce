// no-service-snat: a host's kube-proxy masquerade rule is gone (`-A KUBE-POSTROUTING … -j
// MASQUERADE`), as when something else rewrites the nat table's POSTROUTING side. Flows
// kube-proxy marked (0x4000) keep their source: a NodePort request from outside reaches a pod on
// another node with the outside address, and the pod answers it directly — from its own address,
// past the node that translated — so only the node's own endpoint answers; a pod that reaches
// itself through its Service answers itself. clear puts the rule back where it stood.
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { ruleWords } from '../iptables-save.js';
import { expectArgs } from '../values.js';
import { namespaceOf, resolveNode, run, stateOf } from './targets.js';

export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';

export interface ServiceSnatSpec {
  on: string;
}

export const noServiceSnatKind = defineFaultKind({
  key: 'no-service-snat',
  summary: 'no-service-snat: {on}',
  args: '<host>',
  help: "delete a host's kube-proxy MASQUERADE rule (KUBE-POSTROUTING): NodePort and hairpin flows keep their source",
  schema: (k) => k.T.Object({ on: k.nodeName('The host whose KUBE-POSTROUTING loses its MASQUERADE rule.') }, { additionalProperties: false, description: "Delete kube-proxy's MASQUERADE rule on a host (iptables mode)." }),
  fromArgs: (args) => {
    expectArgs('no-service-snat', '<host>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): ServiceSnatSpec => {
    resolveNode(scope, raw.on, [...at, 'on'], { hostOnly: true });
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on}'s kube-proxy does not masquerade the flows it marked (no MASQUERADE in ${KUBE_POSTROUTING})`,
  nodes: (spec) => [spec.on],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.on)],
  apply: async (spec, context) => {
    const services = context.lab.services;
    if (!services) throw inputError(`no-service-snat: lab ${context.lab.name} has no Services`, 'this fault breaks what kube-proxy programs; it needs a lab with services:');
    if (services.proxyMode !== 'iptables') throw inputError(`no-service-snat: lab ${context.lab.name} runs kube-proxy in ${services.proxyMode} mode`, `the fault deletes a rule of kube-proxy's iptables mode (proxyMode: iptables); in nftables mode the masquerade is in table ip kube-proxy`);
    const ns = namespaceOf(context.lab, spec.on);
    const rules = (stateOf(context, ns).iptables.nat?.chains[KUBE_POSTROUTING]?.rules ?? []).filter((r) => /(?:^| )-j MASQUERADE(?: |$)/.test(r));
    if (!rules.length) throw inputError(`${spec.on}'s ${KUBE_POSTROUTING} has no MASQUERADE rule`, '`overlab fault ls <lab>` shows the active faults');
    for (const rule of rules) await run(context, ns, ['iptables', '-t', 'nat', '-D', KUBE_POSTROUTING, ...ruleWords(rule)]);
    return undefined;
  },
});
