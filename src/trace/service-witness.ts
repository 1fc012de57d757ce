// The translating node, watched while a trace's probe goes through a Service: nftables' rule-level
// trace (`nft -a monitor`, with a table of our own at priority -350 that sets nftrace on the
// probe's packets — Debian's iptables is iptables-nft, so kube-proxy's rules in either mode are
// nftables rules and each one the packet meets is reported), then conntrack's table. One exec to
// start (it returns once the monitor is seen listening: it reports our own "add chain" events),
// one to stop by the PID the first wrote, which also deletes the table and reads conntrack. The
// monitor is bounded by `timeout` in the container, and the table deletes itself later even if
// overlab is killed in between. The rules go in through stdin; the scripts take only the token.
import { randomBytes } from 'node:crypto';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { ServiceWitness } from './service-hop.js';

/** The longest the monitor may live, even if overlab is killed. */
export const WITNESS_DEADLINE_SECONDS = 30;

export const START_WITNESS_SCRIPT = [
  'token=$1; f=/tmp/overlab-nft-$token; t=overlab-trace-$token',
  `timeout -k 2 -s INT ${WITNESS_DEADLINE_SECONDS} stdbuf -oL nft -a monitor >"$f.out" 2>"$f.err" </dev/null &`,
  'echo $! >"$f.pid"',
  `( sleep ${WITNESS_DEADLINE_SECONDS + 2}; nft delete table ip $t ) >/dev/null 2>&1 </dev/null &`,
  'nft add table ip $t || exit 3',
  'i=0',
  'while [ $i -lt 300 ]; do',
  '  nft add chain ip $t ready$i 2>/dev/null',
  '  grep -q "add chain ip $t ready" "$f.out" 2>/dev/null && break',
  '  sleep 0.01; i=$((i+1))',
  'done',
  'if ! grep -q "add chain ip $t ready" "$f.out" 2>/dev/null; then echo "nft monitor did not start: $(cat "$f.err" 2>/dev/null)" >&2; exit 4; fi',
  'nft -f - || exit 5',
  'echo ready',
].join('\n');

export const STOP_WITNESS_SCRIPT = [
  'token=$1; f=/tmp/overlab-nft-$token; t=overlab-trace-$token',
  'pid=$(cat "$f.pid" 2>/dev/null)',
  'sleep 0.05',
  '[ -n "$pid" ] && kill -INT $pid 2>/dev/null',
  'i=0; while [ -n "$pid" ] && kill -0 $pid 2>/dev/null && [ $i -lt 200 ]; do sleep 0.01; i=$((i+1)); done',
  'nft delete table ip $t 2>/dev/null',
  'echo "@@trace"; cat "$f.out" 2>/dev/null',
  'echo "@@conntrack"; conntrack -L 2>/dev/null',
  'rm -f "$f.out" "$f.err" "$f.pid"',
].join('\n');

/** The trace table: nftrace on the probe's packets, before anything else sees them. */
export function witnessRules(token: string, proto: 'tcp' | 'udp', srcPort: number): string {
  if (!/^[0-9a-f]+$/.test(token) || !Number.isInteger(srcPort) || srcPort < 1 || srcPort > 65535) throw new Error('bad witness token or port');
  const match = `${proto} sport ${srcPort} meta nftrace set 1`;
  return [
    `table ip overlab-trace-${token} {`,
    `  chain pre { type filter hook prerouting priority -350; policy accept; ${match}; }`,
    `  chain out { type filter hook output priority -350; policy accept; ${match}; }`,
    '}',
    '',
  ].join('\n');
}

export function parseWitnessOutput(text: string): ServiceWitness {
  const trace = /@@trace\n([\s\S]*?)@@conntrack\n/.exec(text)?.[1];
  const conntrack = /@@conntrack\n([\s\S]*)$/.exec(text)?.[1];
  return { ...(trace !== undefined ? { nftTrace: trace } : {}), ...(conntrack !== undefined ? { conntrack } : {}) };
}

export class WitnessSession {
  private constructor(
    private readonly runtime: ContainerRuntime,
    private readonly container: string,
    private readonly token: string,
    readonly error?: string,
  ) {}

  /** Start watching; never throws: a witness that cannot start says why in its result. */
  static async start(runtime: ContainerRuntime, container: string, proto: 'tcp' | 'udp', srcPort: number): Promise<WitnessSession> {
    const token = randomBytes(6).toString('hex');
    try {
      const r = await runtime.exec(container, ['sh', '-c', START_WITNESS_SCRIPT, 'sh', token], { stdin: witnessRules(token, proto, srcPort) });
      if (r.exitCode !== 0 || !r.stdout.includes('ready')) return new WitnessSession(runtime, container, token, r.stderr.trim() || `the rule-level trace did not start (exit ${r.exitCode})`);
      return new WitnessSession(runtime, container, token);
    } catch (error) {
      return new WitnessSession(runtime, container, token, error instanceof Error ? error.message : String(error));
    }
  }

  async stop(): Promise<ServiceWitness> {
    try {
      const r = await this.runtime.exec(this.container, ['sh', '-c', STOP_WITNESS_SCRIPT, 'sh', this.token]);
      const witness = parseWitnessOutput(r.stdout);
      if (this.error) {
        delete witness.nftTrace;
        return { ...witness, error: this.error };
      }
      return witness;
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }
}
