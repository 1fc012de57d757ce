// Faults of how a node's bridge meets kube-proxy's rules: bridge-nf-off (the bridge stops handing
// bridged frames to iptables, net.bridge.bridge-nf-call-iptables = 0: a reply from an endpoint on
// the same node is bridged straight back to the client and skips the un-DNAT) and hairpin-off (a
// pod's bridge port may no longer send a frame back where it came from: the pod cannot reach
// itself through its own Service). clear puts the setting back.
import { inputError } from '../../base/errors.js';
import { defineFaultKind } from '../fault-kind.js';
import { expectArgs } from '../values.js';
import { linkOf, namespaceOf, resolveNode, run, stateOf } from './targets.js';

export const BRIDGE_NF_CALL_IPTABLES = 'net/bridge/bridge-nf-call-iptables';

export interface BridgeNfSpec {
  on: string;
}

export interface HairpinSpec {
  pod: string;
}

export const bridgeNfOffKind = defineFaultKind({
  key: 'bridge-nf-off',
  summary: 'bridge-nf-off: {on}',
  args: '<host>',
  help: "stop a host's bridges handing bridged frames to iptables (bridge-nf-call-iptables=0): same-node replies skip the un-DNAT",
  schema: (k) => k.T.Object({ on: k.nodeName('The host whose bridges stop calling iptables.') }, { additionalProperties: false, description: 'Set net.bridge.bridge-nf-call-iptables=0 on a host.' }),
  fromArgs: (args) => {
    expectArgs('bridge-nf-off', '<host>', args, 1);
    return { on: args[0]! };
  },
  resolve: (raw, scope, at): BridgeNfSpec => {
    resolveNode(scope, raw.on, [...at, 'on'], { hostOnly: true });
    return { on: raw.on };
  },
  describe: (spec) => `${spec.on}'s bridges do not call iptables (net.bridge.bridge-nf-call-iptables=0)`,
  nodes: (spec) => [spec.on],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.on)],
  apply: async (spec, context) => {
    const ns = namespaceOf(context.lab, spec.on);
    const now = stateOf(context, ns).sysctl[BRIDGE_NF_CALL_IPTABLES];
    if (now === undefined) throw inputError(`${spec.on} has no bridge netfilter (no /proc/sys/net/bridge): its bridges never call iptables`, 'the kernel needs br_netfilter (`overlab doctor`)');
    if (now === '0') throw inputError(`${spec.on}'s bridges already do not call iptables`, '`overlab fault ls <lab>` shows the active faults');
    await run(context, ns, ['sysctl', '-q', '-w', `${BRIDGE_NF_CALL_IPTABLES}=0`]);
    return undefined;
  },
});

export const hairpinOffKind = defineFaultKind({
  key: 'hairpin-off',
  summary: 'hairpin-off: {pod}',
  args: '<host>/<pod>',
  help: "turn hairpin mode off on a pod's bridge port: the pod cannot reach itself through its Service",
  schema: (k) => k.T.Object({ pod: k.podRef('The pod whose bridge port loses hairpin mode.') }, { additionalProperties: false, description: "Turn hairpin mode off on a pod's bridge port." }),
  fromArgs: (args) => {
    expectArgs('hairpin-off', '<host>/<pod>', args, 1);
    return { pod: args[0]! };
  },
  resolve: (raw, scope, at): HairpinSpec => {
    const r = scope.ref(raw.pod, [...at, 'pod']);
    if (r) scope.exists(r, [...at, 'pod'], raw.pod);
    return { pod: raw.pod };
  },
  describe: (spec) => `${spec.pod}'s bridge port has hairpin mode off`,
  nodes: (spec) => [spec.pod.split('/')[0]!],
  namespaces: (spec, lab) => [namespaceOf(lab, spec.pod.split('/')[0]!)],
  apply: async (spec, context) => {
    const [hostName, podName] = spec.pod.split('/') as [string, string];
    const pod = context.lab.hosts.find((h) => h.name === hostName)?.pods.find((p) => p.name === podName);
    if (!pod?.hostVeth) throw inputError(`${spec.pod} has no bridge port in the lab's model`);
    const ns = namespaceOf(context.lab, hostName);
    const link = linkOf(context, ns, pod.hostVeth);
    if (link.hairpin === false) throw inputError(`${spec.pod}'s bridge port ${pod.hostVeth} has hairpin mode off already`, '`overlab fault ls <lab>` shows the active faults');
    await run(context, ns, ['ip', 'link', 'set', 'dev', pod.hostVeth, 'type', 'bridge_slave', 'hairpin', 'off']);
    return undefined;
  },
});
