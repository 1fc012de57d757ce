// Pure: does the tunnels' UDP port pass between every pair of a lab's engines? The ordered pairs
// to try, the argv of the two ends of one try, and the sentence a pair that fails is told with —
// which machine's firewall to change, and the rule (iptables and nftables) that lets it through.
// The probe itself (src/probes/tunnel-port-probe.ts) runs these on a helper container per engine
// with network `host`: the same machine namespace the VXLAN devices send and receive in.

/** One engine as the probe sees it: its name and the machine address the tunnels end at. */
export interface PortEngine {
  name: string;
  address: string;
}

export interface EnginePair {
  from: PortEngine;
  to: PortEngine;
}

/** How one direction fared. `passes`: the datagram reached the receiving machine's sockets (past
 * its INPUT hook); `dropped`: it left and never arrived; `refused`: the sending machine's own
 * firewall (OUTPUT) refused it; `failed`: the send failed otherwise (no route, …); `skipped`:
 * not tried (an engine could not take part: `detail` says why). */
export type PairVerdict = 'passes' | 'dropped' | 'refused' | 'failed' | 'skipped';

export interface PairResult {
  from: string;
  fromAddress: string;
  to: string;
  toAddress: string;
  port: number;
  protocol: 'udp';
  verdict: PairVerdict;
  /** How many datagrams were sent, and how long the try took. */
  sent: number;
  ms: number;
  detail?: string;
  /** What lets it through, for every verdict but passes/skipped. */
  fix?: string;
}

/** Every ordered pair (a→b and b→a: a firewall is often one-sided), in the engines' order. */
export function enginePairs<E extends PortEngine>(engines: E[]): { from: E; to: E }[] {
  return engines.flatMap((from) => engines.filter((to) => to !== from).map((to) => ({ from, to })));
}

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Only the lab's own engines' addresses are probed, and only as dotted IPv4 (they reach socat's
 * address syntax, where `:` and `,` mean something). */
export function assertProbeAddress(address: string, engine: string): void {
  if (!IPV4.test(address)) throw new RangeError(`engine ${engine}'s address ${JSON.stringify(address)} is not an IPv4 address`);
}

function assertPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port ${port} is not a UDP port`);
}

/** The first bytes of every probe datagram: ASCII whose first byte lacks VXLAN's I flag (0x08),
 * so a tunnel already listening on the port drops it as not VXLAN. */
export const PROBE_MAGIC = 'probe';

/** The payload of one try: names the pair and a nonce, so a listener tells it from any other. */
export function probeToken(pair: EnginePair, nonce: string): string {
  return `${PROBE_MAGIC} ${pair.from.name}>${pair.to.name} ${nonce}`;
}

/** The receiving end, in the receiving machine's namespace: a raw socket for UDP (socat
 * IP4-RECV:17) sees a datagram only once the machine's INPUT hook let it through — unlike a
 * capture — and whether or not a tunnel already holds the port. Only datagrams from the sending
 * engine's address are read (`range=`); socat's `-d -d` says on stderr when it listens. */
export function listenerArgv(pair: EnginePair, deadlineSeconds: number): string[] {
  assertProbeAddress(pair.from.address, pair.from.name);
  return ['timeout', String(Math.max(1, Math.ceil(deadlineSeconds))), 'socat', '-d', '-d', '-u', `IP4-RECV:17,range=${pair.from.address}/32`, 'STDOUT'];
}

/** socat -d -d's note that the listener's socket is open. */
export const LISTENING = /starting data transfer loop/;

/** The sending end, in the sending machine's namespace: one datagram (stdin: the token) from the
 * engine's own address — the tunnel's `local` — to the peer's address and port. */
export function senderArgv(pair: EnginePair, port: number): string[] {
  assertProbeAddress(pair.from.address, pair.from.name);
  assertProbeAddress(pair.to.address, pair.to.name);
  assertPort(port);
  return ['socat', '-u', 'STDIN', `UDP4-SENDTO:${pair.to.address}:${port},bind=${pair.from.address}`];
}

/** A send the sending machine's own firewall refused (EPERM from sendto). */
export function refusedBySender(stderr: string): boolean {
  return /Operation not permitted/.test(stderr);
}

/** What lets the datagrams of a failed pair through, as one sentence with both rule languages. */
export function firewallFix(pair: EnginePair, port: number, verdict: Exclude<PairVerdict, 'passes' | 'skipped'>): string {
  const { from, to } = pair;
  if (verdict === 'refused') {
    return (
      `engine ${from.name}'s machine (${from.address}) refuses to send UDP ${port} to ${to.address}: on that machine, ` +
      `\`iptables -I OUTPUT -p udp -d ${to.address} --dport ${port} -j ACCEPT\` ` +
      `(nftables: \`nft insert rule inet filter output ip daddr ${to.address} udp dport ${port} accept\`, in the output chain that drops it)`
    );
  }
  if (verdict === 'failed') {
    return `engine ${from.name}'s machine (${from.address}) cannot send to ${to.address}: give it a route there (the tunnels need one), then run doctor again`;
  }
  return (
    `let UDP ${port} from ${from.address} into engine ${to.name}'s machine (${to.address}): on that machine, ` +
    `\`iptables -I INPUT -p udp -s ${from.address} --dport ${port} -j ACCEPT\` ` +
    `(nftables: \`nft insert rule inet filter input ip saddr ${from.address} udp dport ${port} accept\`, in the input chain that drops it); ` +
    `a firewall between the machines (a cloud security group) must allow it too — or set stitch.port in the spec to a port that passes`
  );
}

/** One failed pair, as a person reads it: both engines, their addresses, the port and protocol. */
export function pairSentence(r: PairResult): string {
  const what = `UDP ${r.port} from engine ${r.from} (${r.fromAddress}) to engine ${r.to} (${r.toAddress})`;
  switch (r.verdict) {
    case 'passes':
      return `${what} passes`;
    case 'dropped':
      return `${what} does not arrive (${r.sent} datagram${r.sent === 1 ? '' : 's'} sent in ${(r.ms / 1000).toFixed(1)} s, none received)`;
    case 'refused':
      return `${what} is refused by engine ${r.from}'s machine${r.detail ? ` (${r.detail})` : ''}`;
    case 'failed':
      return `${what} cannot be sent${r.detail ? ` (${r.detail})` : ''}`;
    case 'skipped':
      return `${what} was not tried${r.detail ? `: ${r.detail}` : ''}`;
  }
}

/** The pairs as a matrix a person reads: one row per sending engine, one column per receiving. */
export function pairMatrix(engines: string[], results: PairResult[]): { from: string; cells: Record<string, PairVerdict | 'self'> }[] {
  return engines.map((from) => ({
    from,
    cells: Object.fromEntries(engines.map((to) => [to, from === to ? 'self' : (results.find((r) => r.from === from && r.to === to)?.verdict ?? 'skipped')])),
  }));
}

/** The error `up` stops with (and doctor's finding): every failed pair, each with its fix. */
export function failedPairsMessage(failed: PairResult[]): { message: string; hint: string } {
  const port = failed[0]?.port;
  return {
    message: `the tunnels' UDP port ${port} does not pass between ${failed.length === 1 ? 'one pair' : `${failed.length} pairs`} of the lab's engines: ${failed.map(pairSentence).join('; ')}`,
    hint: [...new Set(failed.map((f) => f.fix).filter((f): f is string => Boolean(f)))].join('\n'),
  };
}
