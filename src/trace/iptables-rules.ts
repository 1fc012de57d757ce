// iptables-save -c, read as data: rules with their packet counters, a simple first-match
// evaluation for a static trace (addresses, interfaces, protocol, ports, conntrack NEW) and the
// rules whose counters grew while the probe travelled. Pure.
import { cidrContains } from '../shared/ipv4.js';

export interface IptablesRule {
  table: string;
  chain: string;
  /** The rule as iptables-save prints it, without counters: "-A FORWARD -s 10.10.0.0/16 -j DROP". */
  text: string;
  packets: number;
  bytes: number;
  target?: string;
  /** Conditions understood here; `opaque` is set when the rule has others (never assumed to match). */
  match: {
    src?: { cidr: string; negate: boolean };
    dst?: { cidr: string; negate: boolean };
    in?: { iface: string; negate: boolean };
    out?: { iface: string; negate: boolean };
    proto?: { name: string; negate: boolean };
    dport?: number;
    sport?: number;
    ctstate?: string[];
    /** -m mark [!] --mark value[/mask] */
    mark?: { value: number; mask: number; negate: boolean };
    opaque: boolean;
  };
}

export interface IptablesState {
  rules: IptablesRule[];
  /** "filter/FORWARD" → "ACCEPT". */
  policies: Record<string, string>;
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) tokens.push(m[1] ?? m[2]!);
  return tokens;
}

const asCidr = (value: string) => (value.includes('/') ? value : `${value}/32`);

function parseRule(table: string, line: string): IptablesRule | undefined {
  const m = /^\[(\d+):(\d+)\]\s+(-A\s+(\S+)\s*.*)$/.exec(line.trim());
  if (!m) return undefined;
  const text = m[3]!;
  const rule: IptablesRule = { table, chain: m[4]!, text, packets: Number(m[1]), bytes: Number(m[2]), match: { opaque: false } };
  const tokens = tokenize(text).slice(2);
  let negate = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = () => tokens[++i] ?? '';
    if (t === '!') {
      negate = true;
      continue;
    }
    switch (t) {
      case '-s':
        rule.match.src = { cidr: asCidr(next()), negate };
        break;
      case '-d':
        rule.match.dst = { cidr: asCidr(next()), negate };
        break;
      case '-i':
        rule.match.in = { iface: next(), negate };
        break;
      case '-o':
        rule.match.out = { iface: next(), negate };
        break;
      case '-p':
        rule.match.proto = { name: next(), negate };
        break;
      case '--dport':
        rule.match.dport = Number(next());
        if (negate) rule.match.opaque = true;
        break;
      case '--sport':
        rule.match.sport = Number(next());
        if (negate) rule.match.opaque = true;
        break;
      case '--ctstate':
      case '--state':
        rule.match.ctstate = next().split(',');
        if (negate) rule.match.opaque = true;
        break;
      case '-j':
      case '-g':
        rule.target = next();
        i = tokens.length; // target options follow; they do not change whether the rule matches
        break;
      case '-m': {
        const module = next();
        if (!['comment', 'conntrack', 'state', 'udp', 'tcp', 'icmp', 'mark'].includes(module)) rule.match.opaque = true;
        break;
      }
      case '--mark': {
        const [value, mask] = next().split('/');
        rule.match.mark = { value: Number(value), mask: mask === undefined ? 0xffffffff : Number(mask), negate };
        break;
      }
      case '--comment':
        next();
        break;
      default:
        rule.match.opaque = true;
    }
    negate = false;
  }
  return rule;
}

export function parseIptablesSave(text: string): IptablesState {
  const state: IptablesState = { rules: [], policies: {} };
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)/.exec(line);
      if (m && m[2] !== '-') state.policies[`${table}/${m[1]}`] = m[2]!;
    } else if (line.startsWith('[')) {
      const rule = parseRule(table, line);
      if (rule) state.rules.push(rule);
    }
  }
  return state;
}

export interface PacketFacts {
  src: string;
  dst: string;
  proto: 'icmp' | 'udp' | 'tcp';
  iif?: string;
  oif?: string;
  sport?: number;
  dport?: number;
  /** The packet's firewall mark (kube-proxy's 0x4000: to be masqueraded); 0 when absent. */
  mark?: number;
}

function ruleMatches(rule: IptablesRule, p: PacketFacts): boolean {
  const m = rule.match;
  if (m.opaque) return false;
  const xor = (value: boolean, negate: boolean) => (negate ? !value : value);
  if (m.src && !xor(cidrContains(m.src.cidr, p.src), m.src.negate)) return false;
  if (m.dst && !xor(cidrContains(m.dst.cidr, p.dst), m.dst.negate)) return false;
  if (m.in && !xor(p.iif !== undefined && ifaceMatches(m.in.iface, p.iif), m.in.negate)) return false;
  if (m.out && !xor(p.oif !== undefined && ifaceMatches(m.out.iface, p.oif), m.out.negate)) return false;
  if (m.proto && m.proto.name !== 'all' && !xor(m.proto.name === p.proto, m.proto.negate)) return false;
  if (m.dport !== undefined && m.dport !== p.dport) return false;
  if (m.sport !== undefined && m.sport !== p.sport) return false;
  if (m.ctstate && !m.ctstate.includes('NEW')) return false; // a probe opens a new flow
  if (m.mark && !xor(((p.mark ?? 0) & m.mark.mask) === (m.mark.value & m.mark.mask), m.mark.negate)) return false;
  return true;
}

function ifaceMatches(pattern: string, iface: string): boolean {
  return pattern.endsWith('+') ? iface.startsWith(pattern.slice(0, -1)) : pattern === iface;
}

export interface RuleVerdict {
  verdict: string; // ACCEPT, DROP, REJECT, MASQUERADE, SNAT, DNAT, RETURN-to-policy …
  rule?: IptablesRule;
}

const TERMINAL = new Set(['ACCEPT', 'DROP', 'REJECT', 'MASQUERADE', 'SNAT', 'DNAT']);

/** First terminal verdict for the packet in table/chain, following jumps into user chains. */
export function evaluateChain(state: IptablesState, table: string, chain: string, p: PacketFacts, depth = 0): RuleVerdict | undefined {
  if (depth > 8) return undefined;
  for (const rule of state.rules.filter((r) => r.table === table && r.chain === chain)) {
    if (!ruleMatches(rule, p) || !rule.target) continue;
    if (TERMINAL.has(rule.target)) return { verdict: rule.target, rule };
    if (rule.target === 'RETURN') return undefined;
    if (state.policies[`${table}/${rule.target}`] === undefined && state.rules.some((r) => r.table === table && r.chain === rule.target)) {
      const inner = evaluateChain(state, table, rule.target, p, depth + 1);
      if (inner) return inner;
    }
  }
  if (depth > 0) return undefined;
  const policy = state.policies[`${table}/${chain}`];
  return policy ? { verdict: policy } : undefined;
}

export interface RuleGrowth {
  rule: IptablesRule;
  before: number;
  after: number;
}

/** Rules whose packet counters grew between two iptables-save -c of the same namespace. */
export function grownRules(before: IptablesState, after: IptablesState): RuleGrowth[] {
  const grown: RuleGrowth[] = [];
  for (const rule of after.rules) {
    const old = before.rules.find((r) => r.table === rule.table && r.text === rule.text);
    const was = old?.packets ?? 0;
    if (rule.packets > was) grown.push({ rule, before: was, after: rule.packets });
  }
  return grown;
}

export function isDropTarget(target: string | undefined): boolean {
  return target === 'DROP' || target === 'REJECT';
}
