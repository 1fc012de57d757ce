// What `up` does for Services on each host, as data: kube-proxy's settings for the host, its
// Services with their endpoints' addresses (from the lab's model, so CNI-attached pods count with
// the addresses their plugins gave them), the commands kube-proxy runs at start (the sysctl for
// NodePorts on localhost, its nfacct counters, its chains and jump rules) and the one rule load it
// then does through stdin (`iptables-restore` or `nft -f -`). Also the pods' servers. Pure.
import type { ProxyMode } from '../lab-spec/lab-spec.js';
import { comment, command, type NodePlan, type PlanLine } from './node-plan.js';
import type { ResolvedHost, ResolvedLab, ResolvedPod, ResolvedService, ResolvedServicePort } from './resolved-lab.js';
import { IPTABLES_RESTORE_ARGV, iptablesJumpRules, iptablesJumpTargets, iptablesRestoreText, jumpRuleArgv, NFACCT_INVALID_DROPPED, NFACCT_LOCALHOST_NODEPORTS } from './kube-proxy-iptables.js';
import { MASQUERADE_MARK, type ProxierSettings, type ProxyServicePort } from './kube-proxy-model.js';
import { NFT_LOAD_ARGV, nftablesRulesText } from './kube-proxy-nftables.js';
import type { DaemonDeclaration } from './node-init.js';
import { inputError } from '../base/errors.js';

/** Where the pod tools live in a lab node (dist/host/pod-tools/ is copied there). */
export const POD_TOOLS_DIR = '/opt/overlab/pod-tools';
export const SERVE_JS = `${POD_TOOLS_DIR}/serve.js`;
export const ASK_JS = `${POD_TOOLS_DIR}/ask.js`;
/** Debian's Node in the host image. */
export const NODE = '/usr/bin/node';

/** Does this lab run kube-proxy (it has Services, or at least a proxyMode)? */
export function hasServices(lab: ResolvedLab): boolean {
  return lab.services !== undefined;
}

export function proxyModeOf(lab: ResolvedLab): ProxyMode | undefined {
  return lab.services?.proxyMode;
}

/** The pods that run a server. */
export function servingPods(lab: ResolvedLab): ResolvedPod[] {
  return lab.hosts.flatMap((h) => h.pods.filter((p) => (p.serve?.length ?? 0) > 0));
}

/** Does any node need the pod tools (a Service to probe, or a pod that serves)? */
export function needsPodTools(lab: ResolvedLab): boolean {
  return hasServices(lab) || servingPods(lab).length > 0;
}

/** kube-proxy's --cluster-cidr: the pod network (the first, when a lab has several). */
export function clusterCIDR(lab: ResolvedLab): string | undefined {
  return lab.networks[0]?.cidr;
}

/** kube-proxy's settings on this host, as its defaults on this kernel make them: NodePorts on
 * localhost (iptables), MASQUERADE --random-fully (iptables 1.8.9 has it), nfacct counters
 * (the kernel has nfnetlink_acct), nodeport-addresses "primary" in nftables mode. */
export function proxierSettings(lab: ResolvedLab, host: ResolvedHost): ProxierSettings {
  const cidr = clusterCIDR(lab);
  return {
    nodeName: host.name,
    nodeIP: host.underlayIp,
    ...(cidr ? { clusterCIDR: cidr } : {}),
    masqueradeAll: false,
    masqueradeMark: MASQUERADE_MARK,
    localhostNodePorts: true,
    randomFully: true,
    nfacctCounters: true,
    conntrackTCPLiberal: false,
    serviceCIDRs: lab.services ? [lab.services.serviceCIDR] : [],
    nodePortIPs: [host.underlayIp],
  };
}

/** The Service (and port) a name means: "web", "web:http", "web:80", "ns/web:http"; without a
 * port, its first one. */
export function findService(lab: ResolvedLab, text: string): { service: ResolvedService; port: ResolvedServicePort } {
  const m = /^(?:([a-z0-9-]+)\/)?([a-z0-9-]+)(?::([a-z0-9-]+))?$/.exec(text);
  const service = m ? lab.services?.services.find((s) => s.name === m[2] && (m[1] === undefined || s.namespace === m[1])) : undefined;
  if (!m || !service) throw inputError(`lab ${lab.name} has no Service "${text}"`, lab.services?.services.length ? `its Services: ${lab.services.services.map((s) => s.name).join(', ')}` : 'it has no Services');
  const port = m[3] === undefined ? service.ports[0] : service.ports.find((p) => p.name === m[3] || String(p.port) === m[3]);
  if (!port) throw inputError(`Service ${service.name} has no port "${m[3]}"`, `its ports: ${service.ports.map((p) => p.name || String(p.port)).join(', ')}`);
  return { service, port };
}

/** "host/pod" → the pod in the model. */
export function podByRef(lab: ResolvedLab, ref: string): ResolvedPod | undefined {
  const [host, pod] = ref.split('/');
  return lab.hosts.find((h) => h.name === host)?.pods.find((p) => p.name === pod);
}

/** One Service port as kube-proxy sees it (its EndpointSlice resolved to pod addresses). */
export function proxyServicePort(lab: ResolvedLab, svc: ResolvedService, port: ResolvedServicePort): ProxyServicePort {
  return {
    name: { namespace: svc.namespace, name: svc.name, port: port.name },
    protocol: port.protocol === 'UDP' ? 'udp' : 'tcp',
    clusterIP: svc.clusterIP,
    port: port.port,
    ...(port.nodePort !== undefined ? { nodePort: port.nodePort } : {}),
    endpoints: svc.endpoints.flatMap((ref) => {
      const pod = podByRef(lab, ref);
      return pod ? [{ ip: pod.ip, port: port.targetPort, nodeName: pod.host, ready: true }] : [];
    }),
  };
}

export function proxyServicePorts(lab: ResolvedLab): ProxyServicePort[] {
  return (lab.services?.services ?? []).flatMap((svc) => svc.ports.map((port) => proxyServicePort(lab, svc, port)));
}

/** The rule load: argv and its stdin. */
export interface RuleLoad {
  argv: string[];
  stdin: string;
}

export function kubeProxyRuleLoad(lab: ResolvedLab, host: ResolvedHost, services: ProxyServicePort[] = proxyServicePorts(lab)): RuleLoad {
  const settings = proxierSettings(lab, host);
  if (proxyModeOf(lab) === 'nftables') return { argv: NFT_LOAD_ARGV, stdin: nftablesRulesText(settings, services) };
  return { argv: IPTABLES_RESTORE_ARGV, stdin: iptablesRestoreText(settings, services) };
}

/** Creates one nfacct counter (NFNL_MSG_ACCT_NEW over nfnetlink) as kube-proxy's nfacct runner
 * does; the image has no `nfacct` tool, and perl-base is in every Debian system. Constant text:
 * the counter's name is its one argument, checked against kube-proxy's two names by the script. */
export const NFACCT_NEW_SCRIPT = `use strict; use warnings; use Socket;
my ($name) = @ARGV;
die "usage: ${NFACCT_INVALID_DROPPED}|${NFACCT_LOCALHOST_NODEPORTS}\\n" unless defined $name && ($name eq '${NFACCT_INVALID_DROPPED}' || $name eq '${NFACCT_LOCALHOST_NODEPORTS}');
socket(my $s, 16, SOCK_RAW, 12) or die "netlink socket: $!\\n";
my $n = $name . "\\0"; my $alen = 4 + length($n);
my $attr = pack('SS', $alen, 1) . $n . ("\\0" x ((4 - $alen % 4) % 4));
my $body = pack('CCn', 0, 0, 0) . $attr;
my $msg = pack('LSSLL', 16 + length($body), 7 << 8, 1 | 4 | 0x400, time, 0) . $body;
send($s, $msg, 0, pack('SSLL', 16, 0, 0, 0)) or die "netlink send: $!\\n";
my $buf = ''; recv($s, $buf, 8192, 0);
my ($len, $type) = unpack('LS', $buf);
if (defined $type && $type == 2) { my $err = unpack('l', substr($buf, 16, 4)); if ($err && -$err != 17) { $! = -$err; die "nfacct $name: $!\\n"; } }
`;

export function nfacctNewArgv(name: string): string[] {
  return ['env', 'LC_ALL=C', 'perl', '-e', NFACCT_NEW_SCRIPT, name];
}

/** What a host does for Services before the rules are loaded: the route that carries ClusterIPs
 * out of it, hairpin on for pods overlab attached itself (the CNI bridge plugin sets it for its
 * own, hairpinMode: true), and — iptables mode — what kube-proxy does at start. */
export function kubeProxyPrepPlan(lab: ResolvedLab, host: ResolvedHost): NodePlan {
  const services = lab.services!;
  const lines: PlanLine[] = [
    comment(`ClusterIPs (${services.serviceCIDR}) are nobody's address; on a node the default route carries them, here eth0 does (a Service without endpoints is then REJECTed, not lost)`),
    command('ip', 'route', 'replace', services.serviceCIDR, 'dev', 'eth0'),
  ];
  const ipPods = host.podAttach === 'cni' ? [] : host.pods.filter((p) => p.hostVeth);
  if (ipPods.length) {
    lines.push(comment("hairpin on every pod's bridge port, as the CNI bridge plugin does (hairpinMode: true): a pod may reach itself through its Service"));
    for (const pod of ipPods) lines.push(command('bridge', 'link', 'set', 'dev', pod.hostVeth, 'hairpin', 'on'));
  }
  if (services.proxyMode === 'iptables') {
    lines.push(
      comment('kube-proxy (iptables mode) at start: NodePorts answer on localhost too (route_localnet), its nfacct counters, its chains and the jumps into them'),
      command('sysctl', '-q', '-w', 'net.ipv4.conf.all.route_localnet=1'),
      command(...nfacctNewArgv(NFACCT_INVALID_DROPPED)),
      command(...nfacctNewArgv(NFACCT_LOCALHOST_NODEPORTS)),
      ...iptablesJumpTargets().map((t) => command('iptables', '-w', '5', '-W', '100000', '-t', t.table, '-N', t.chain)),
      ...iptablesJumpRules().map((r) => command(...jumpRuleArgv(r))),
    );
  }
  return { node: host.name, container: host.container, lines };
}

/** Where a pod's server writes what it says (its first line: "listening on …"). */
export function serveOutput(pod: ResolvedPod): string {
  return `/run/overlab/serve-${pod.name}.log`;
}

/** The server of one pod, as its node's supervisor runs it (node-init.ts): node in the pod's
 * network namespace, its output appended to a file. While the namespace is missing (the node
 * restarted and `up` has not wired it again) `ip netns exec` fails, the supervisor tries again
 * with its backoff, and `up`'s repair wakes it once the pod is back. */
export function serveDaemon(pod: ResolvedPod): DaemonDeclaration {
  const listen = (pod.serve ?? []).flatMap((s) => ['--listen', `${s.protocol.toLowerCase()}:${s.port}`]);
  return { name: serveDaemonName(pod), output: serveOutput(pod), argv: ['ip', 'netns', 'exec', pod.name, NODE, SERVE_JS, '--pod', pod.name, '--host', pod.host, ...listen] };
}

/** The supervisor's name for a pod's server (pod names are in the daemon alphabet, at most 15 bytes). */
export function serveDaemonName(pod: ResolvedPod): string {
  return `serve-${pod.name}`;
}
