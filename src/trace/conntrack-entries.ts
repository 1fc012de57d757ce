// `conntrack -L` read as data: each flow's original and reply tuples. The reply tuple is where a
// translation shows: a DNAT to a pod makes the reply come from the pod (reply src ≠ original
// dst); a masquerade makes it go back to the node (reply dst ≠ original src). Pure.

export interface FlowTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

export interface ConntrackEntry {
  protocol: string;
  /** Seconds until the entry expires. */
  timeout: number;
  /** TCP state (ESTABLISHED, TIME_WAIT, …); absent for UDP. */
  state?: string;
  original: FlowTuple;
  reply: FlowTuple;
  /** ASSURED, UNREPLIED, … */
  flags: string[];
  /** The line as conntrack printed it. */
  text: string;
}

function tuple(fields: Map<string, string>): FlowTuple | undefined {
  const src = fields.get('src');
  const dst = fields.get('dst');
  if (!src || !dst) return undefined;
  const t: FlowTuple = { src, dst };
  if (fields.has('sport')) t.sport = Number(fields.get('sport'));
  if (fields.has('dport')) t.dport = Number(fields.get('dport'));
  return t;
}

/** One line of `conntrack -L` (default output format); undefined for anything else. */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const words = line.trim().split(/\s+/);
  if (words.length < 4 || !/^\d+$/.test(words[1] ?? '') || !/^\d+$/.test(words[2] ?? '')) return undefined;
  const entry: Partial<ConntrackEntry> & { flags: string[] } = { protocol: words[0]!, timeout: Number(words[2]), flags: [], text: line.trim() };
  const tuples: Map<string, string>[] = [new Map<string, string>()];
  for (const word of words.slice(3)) {
    const kv = /^([a-z]+)=(\S+)$/.exec(word);
    if (kv) {
      const current = tuples[tuples.length - 1]!;
      if (['src', 'dst', 'sport', 'dport'].includes(kv[1]!)) {
        if (current.has(kv[1]!)) tuples.push(new Map([[kv[1]!, kv[2]!]]));
        else current.set(kv[1]!, kv[2]!);
      }
    } else if (/^\[[A-Z_]+\]$/.test(word)) {
      entry.flags.push(word.slice(1, -1));
    } else if (/^[A-Z_]+$/.test(word) && tuples[0]!.size === 0) {
      entry.state = word;
    }
  }
  const original = tuples[0] ? tuple(tuples[0]) : undefined;
  const reply = tuples[1] ? tuple(tuples[1]) : undefined;
  if (!original || !reply) return undefined;
  return { ...(entry as ConntrackEntry), original, reply };
}

export function parseConntrack(text: string): ConntrackEntry[] {
  return text.split('\n').flatMap((line) => parseConntrackLine(line) ?? []);
}

/** The destination this flow was translated to, when its reply comes from somewhere else. */
export function dnatTarget(entry: ConntrackEntry): FlowTuple | undefined {
  const { original, reply } = entry;
  if (reply.src === original.dst && reply.sport === original.dport) return undefined;
  return { src: original.src, dst: reply.src, ...(reply.sport !== undefined ? { dport: reply.sport } : {}) };
}

/** The source this flow was rewritten to (masquerade), when its reply goes somewhere else. */
export function snatSource(entry: ConntrackEntry): FlowTuple | undefined {
  const { original, reply } = entry;
  if (reply.dst === original.src && reply.dport === original.sport) return undefined;
  return { src: reply.dst, dst: reply.src, ...(reply.dport !== undefined ? { sport: reply.dport } : {}) };
}

/** A flow as a person reads it: "10.244.1.4:53484 → 10.96.0.10:80, DNAT to 10.244.1.2:8080". */
export function describeFlow(entry: ConntrackEntry): string {
  const at = (ip: string, port?: number) => (port === undefined ? ip : `${ip}:${port}`);
  const o = entry.original;
  const parts = [`${entry.protocol} ${at(o.src, o.sport)} → ${at(o.dst, o.dport)}`];
  const dnat = dnatTarget(entry);
  if (dnat) parts.push(`DNAT to ${at(dnat.dst, dnat.dport)}`);
  const snat = snatSource(entry);
  if (snat) parts.push(`source masqueraded to ${at(snat.src, snat.sport)}`);
  if (entry.flags.includes('UNREPLIED')) parts.push('never answered');
  return parts.join(', ');
}
