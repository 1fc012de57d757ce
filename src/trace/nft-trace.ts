// `nft -a monitor trace` read as data. Debian's iptables is iptables-nft, so kube-proxy's rules in
// either mode are nftables rules, and a packet marked with `meta nftrace set 1` reports every
// rule it meets: "trace id 4f797d85 ip nat KUBE-SEP-… rule meta l4proto tcp … dnat to
// 10.244.1.2:8080 # handle 46 (verdict accept)". The kernel reuses a trace id for later packets of
// the same socket buffer, so events are grouped into one journey per packet by the IP id the
// "packet:" lines carry (a forwarded packet may even change its trace id). Pure.

export interface TracePacket {
  iif?: string;
  oif?: string;
  saddr?: string;
  daddr?: string;
  protocol?: string;
  sport?: number;
  dport?: number;
  ipId?: number;
  tcpFlags?: string;
}

export type TraceEventKind = 'packet' | 'rule' | 'policy';

export interface TraceEvent {
  traceId: string;
  family: string;
  table: string;
  chain: string;
  kind: TraceEventKind;
  /** For a packet line: the headers as the hook saw them. */
  packet?: TracePacket;
  /** For a rule line: the rule as nft prints it (without handle and verdict). */
  rule?: string;
  handle?: number;
  /** "accept", "jump KUBE-SVC-…", "goto endpoint-…", "drop", "continue", "return". */
  verdict?: string;
  text: string;
}

const LINE = /^trace id (\S+) (\S+) (\S+) (\S+) (packet: |rule |policy )(.*)$/;

function packetFields(text: string): TracePacket {
  const p: TracePacket = {};
  const word = (re: RegExp) => re.exec(text)?.[1];
  const iif = word(/\biif "([^"]+)"/);
  const oif = word(/\boif "([^"]+)"/);
  if (iif) p.iif = iif;
  if (oif) p.oif = oif;
  const saddr = word(/\bip saddr (\S+)/);
  const daddr = word(/\bip daddr (\S+)/);
  if (saddr) p.saddr = saddr;
  if (daddr) p.daddr = daddr;
  const ipId = word(/\bip id (\d+)/);
  if (ipId) p.ipId = Number(ipId);
  const l4 = /\b(tcp|udp|icmp) (?:sport (\d+) \1 dport (\d+)|type)/.exec(text);
  if (l4) {
    p.protocol = l4[1]!;
    if (l4[2]) p.sport = Number(l4[2]);
    if (l4[3]) p.dport = Number(l4[3]);
  }
  const flags = word(/\btcp flags == (\S+)/);
  if (flags) p.tcpFlags = flags;
  return p;
}

export function parseTraceLine(line: string): TraceEvent | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const [, traceId, family, table, chain, kindWord, rest] = m;
  const base = { traceId: traceId!, family: family!, table: table!, chain: chain!, text: line.trim() };
  if (kindWord === 'packet: ') return { ...base, kind: 'packet', packet: packetFields(rest!) };
  if (kindWord === 'policy ') return { ...base, kind: 'policy', verdict: rest!.trim() };
  const verdict = /\(verdict ([^)]*)\)\s*$/.exec(rest!)?.[1];
  const handle = /# handle (\d+)/.exec(rest!)?.[1];
  const rule = rest!.replace(/\s*\(verdict [^)]*\)\s*$/, '').replace(/\s*# handle \d+\s*$/, '').replace(/\s+/g, ' ').trim();
  return { ...base, kind: 'rule', rule, ...(handle ? { handle: Number(handle) } : {}), ...(verdict ? { verdict } : {}) };
}

/** One packet's way through the hooks: its events in order. */
export interface TraceJourney {
  traceId: string;
  /** The headers at the first hook that saw it. */
  first: TracePacket;
  events: TraceEvent[];
}

export function parseTrace(text: string): TraceJourney[] {
  const journeys: TraceJourney[] = [];
  const byPacket = new Map<string, TraceJourney>();
  const byTraceId = new Map<string, TraceJourney>();
  for (const line of text.split('\n')) {
    const event = parseTraceLine(line);
    if (!event) continue;
    let journey: TraceJourney | undefined;
    if (event.kind === 'packet') {
      // The trace id may change on the way (a forwarded packet can get a new one); the IP id,
      // protocol and TCP flags of one packet do not.
      const p = event.packet ?? {};
      const key = p.ipId === undefined ? `trace ${event.traceId}` : `${p.ipId} ${p.protocol ?? ''} ${p.tcpFlags ?? ''}`;
      journey = byPacket.get(key);
      if (!journey) {
        journey = { traceId: event.traceId, first: p, events: [] };
        journeys.push(journey);
        byPacket.set(key, journey);
      }
      byTraceId.set(event.traceId, journey);
    } else {
      journey = byTraceId.get(event.traceId);
      if (!journey) continue; // its packet line was not captured
    }
    journey.events.push(event);
  }
  return journeys;
}

/** The rule that rewrote the destination: a `dnat to` in a rule line. */
export function dnatEvent(journey: TraceJourney): TraceEvent | undefined {
  return journey.events.find((e) => e.kind === 'rule' && /\bdnat to \S+/.test(e.rule ?? ''));
}

/** Where the packet's destination went: the address of the `dnat to`. */
export function dnatDestination(event: TraceEvent): string | undefined {
  return /\bdnat to (\S+)/.exec(event.rule ?? '')?.[1];
}

/** The last verdict that ended the packet (drop, or a reject rule), if it was stopped. */
export function dropEvent(journey: TraceJourney): TraceEvent | undefined {
  return journey.events.find((e) => (e.kind === 'rule' && (e.verdict === 'drop' || /\breject\b/.test(e.rule ?? ''))) || (e.kind === 'policy' && e.verdict === 'drop'));
}
