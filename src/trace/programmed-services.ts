// What a node's kernel holds for Services, read back from the rules themselves (not from the
// spec): for each Service, the addresses and ports it is reached at, its endpoints with the
// probability the rules choose each with, the packets each DNAT rule counted, and the addresses
// that are refused for want of endpoints. Either layout: `iptables-save -c` (iptables mode) or
// `nft -j list table ip kube-proxy` (nftables mode). Pure.
import { parseIptablesSave } from './iptables-rules.js';
import { endpointProbabilities } from '../plan/kube-proxy-iptables.js';

export interface ProgrammedEndpoint {
  /** KUBE-SEP-… or endpoint-…: the chain that rewrites the destination. */
  chain: string;
  /** "10.244.1.2:8080". */
  destination: string;
  /** The share of new flows the rules send here. */
  probability: number;
  /** Packets the DNAT rule counted (iptables mode: one per new flow); absent in nftables mode. */
  packets?: number;
}

export interface ProgrammedService {
  /** "default/web:http", from the rules' comments or chain names. */
  name?: string;
  /** KUBE-SVC-… or service-…: the chain that chooses an endpoint. */
  chain: string;
  protocol: string;
  /** The ClusterIP and port (and any other address captured in KUBE-SERVICES / service-ips). */
  addresses: { address: string; port: number }[];
  nodePorts: number[];
  endpoints: ProgrammedEndpoint[];
}

/** An address that is refused (REJECT) or dropped because its Service has no endpoints. */
export interface RefusedFrontend {
  name?: string;
  protocol: string;
  /** Absent for a NodePort (any local address). */
  address?: string;
  port: number;
  verdict: 'REJECT' | 'DROP';
  /** The rule or map element that refuses it, as the kernel shows it. */
  rule: string;
}

export interface ProgrammedRules {
  mode: 'iptables' | 'nftables';
  services: ProgrammedService[];
  refused: RefusedFrontend[];
}

function tokens(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push(m[1] ?? m[2]!);
  return out;
}

function option(words: string[], flag: string): string | undefined {
  const i = words.indexOf(flag);
  return i === -1 ? undefined : words[i + 1];
}

const bare = (cidr: string) => cidr.replace(/\/32$/, '');

/** iptables mode, from `iptables-save -c`. */
export function programmedFromIptables(saveText: string): ProgrammedRules {
  const state = parseIptablesSave(saveText);
  const rulesOf = (table: string, chain: string) => state.rules.filter((r) => r.table === table && r.chain === chain);
  const target = (words: string[]) => option(words, '-j');
  const services = new Map<string, ProgrammedService>();
  const serviceFor = (chain: string, protocol: string, name?: string): ProgrammedService => {
    let svc = services.get(chain);
    if (!svc) {
      svc = { chain, protocol, addresses: [], nodePorts: [], endpoints: [], ...(name ? { name } : {}) };
      services.set(chain, svc);
    }
    return svc;
  };
  const nameOf = (comment: string | undefined) => comment?.replace(/ (cluster IP|external IP|loadbalancer IP)$/, '');

  /** KUBE-EXT-/KUBE-FW- lead to a KUBE-SVC- (or KUBE-SVL-) eventually. */
  const policyChainOf = (chain: string, depth = 0): string | undefined => {
    if (/^KUBE-SV[CL]-/.test(chain)) return chain;
    if (depth > 3) return undefined;
    for (const rule of rulesOf('nat', chain)) {
      const t = target(tokens(rule.text));
      if (t && /^KUBE-(SV[CL]|EXT)-/.test(t)) {
        const found = policyChainOf(t, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  };

  for (const rule of rulesOf('nat', 'KUBE-SERVICES')) {
    const words = tokens(rule.text);
    const to = target(words);
    const dst = option(words, '-d');
    const port = option(words, '--dport');
    if (!to || !dst || !port || !/^KUBE-(SVC|SVL|EXT|FW)-/.test(to)) continue;
    const chain = policyChainOf(to);
    if (!chain) continue;
    serviceFor(chain, option(words, '-p') ?? 'tcp', nameOf(option(words, '--comment'))).addresses.push({ address: bare(dst), port: Number(port) });
  }
  for (const rule of rulesOf('nat', 'KUBE-NODEPORTS')) {
    const words = tokens(rule.text);
    const to = target(words);
    const port = option(words, '--dport');
    if (!to || !port || option(words, '-d')) continue; // the 127.0.0.0/8 copy is the same NodePort
    const chain = policyChainOf(to);
    if (!chain) continue;
    const svc = serviceFor(chain, option(words, '-p') ?? 'tcp', option(words, '--comment'));
    if (!svc.nodePorts.includes(Number(port))) svc.nodePorts.push(Number(port));
  }
  for (const svc of services.values()) {
    const steps = rulesOf('nat', svc.chain)
      .map((r) => ({ rule: r, words: tokens(r.text) }))
      .filter(({ words }) => /^KUBE-SEP-/.test(target(words) ?? '') && !words.includes('recent'));
    const shares = endpointProbabilities(steps.map(({ words }) => Number(option(words, '--probability') ?? 1)));
    steps.forEach(({ words }, i) => {
      const sep = target(words)!;
      const dnat = rulesOf('nat', sep).find((r) => tokens(r.text).includes('DNAT'));
      const destination = dnat ? option(tokens(dnat.text), '--to-destination') : undefined;
      if (!destination) return;
      svc.endpoints.push({ chain: sep, destination, probability: shares[i]!, packets: dnat!.packets });
    });
  }

  const refused: RefusedFrontend[] = [];
  for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']) {
    for (const rule of rulesOf('filter', chain)) {
      const words = tokens(rule.text);
      const verdict = target(words);
      const port = option(words, '--dport');
      if ((verdict !== 'REJECT' && verdict !== 'DROP') || !port) continue;
      const dst = option(words, '-d');
      const name = option(words, '--comment')?.replace(/ has no (local )?endpoints$/, '');
      refused.push({ protocol: option(words, '-p') ?? 'tcp', port: Number(port), verdict, rule: rule.text, ...(dst ? { address: bare(dst) } : {}), ...(name ? { name } : {}) });
    }
  }
  return { mode: 'iptables', services: [...services.values()], refused };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/** A map element's key words and its verdict ("goto X", "drop"), with its comment if any. */
function mapElements(map: Json): { key: (string | number)[]; verdict: string; comment?: string }[] {
  const elems = Array.isArray(map.elem) ? map.elem : [];
  return elems.flatMap((entry: unknown) => {
    if (!Array.isArray(entry) || entry.length !== 2) return [];
    let keyPart = obj(entry[0]);
    let comment: string | undefined;
    const wrapped = obj(keyPart?.elem);
    if (wrapped) {
      comment = typeof wrapped.comment === 'string' ? wrapped.comment : undefined;
      keyPart = obj(wrapped.val) ?? keyPart;
    }
    const concat = keyPart?.concat;
    const key = Array.isArray(concat) ? (concat as (string | number)[]) : [];
    const verdict = verdictText(entry[1]);
    return verdict ? [{ key, verdict, ...(comment ? { comment } : {}) }] : [];
  });
}

function verdictText(v: unknown): string | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const goto = obj(o.goto)?.target ?? obj(o.jump)?.target;
  if (typeof goto === 'string') return `${o.goto ? 'goto' : 'jump'} ${goto}`;
  if ('drop' in o) return 'drop';
  if ('accept' in o) return 'accept';
  return undefined;
}

/** nftables mode, from `nft -j list table ip kube-proxy`. */
export function programmedFromNftJson(jsonText: string): ProgrammedRules {
  const parsed = obj(JSON.parse(jsonText));
  const items = Array.isArray(parsed?.nftables) ? (parsed!.nftables as unknown[]) : [];
  const maps = new Map<string, Json>();
  const rules = new Map<string, Json[]>();
  for (const item of items) {
    const o = obj(item);
    const map = obj(o?.map);
    if (map && typeof map.name === 'string') maps.set(map.name, map);
    const rule = obj(o?.rule);
    if (rule && typeof rule.chain === 'string') rules.set(rule.chain, [...(rules.get(rule.chain) ?? []), rule]);
  }
  const exprs = (rule: Json) => (Array.isArray(rule.expr) ? (rule.expr as unknown[]).map(obj).filter((e): e is Json => !!e) : []);
  const gotoOf = (rule: Json) => exprs(rule).map((e) => verdictText(e)).find((v) => v?.startsWith('goto '))?.slice(5);

  /** external-… leads to service-… (or local-…) by its last goto. */
  const policyChainOf = (chain: string): string | undefined => {
    if (/^(service|local)-/.test(chain)) return chain;
    const last = [...(rules.get(chain) ?? [])].reverse().map(gotoOf).find((c) => c && /^(service|local)-/.test(c));
    return last;
  };
  const nameOf = (chain: string) => {
    const m = /^[a-z]+-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/([a-z]+)\/(.*)$/.exec(chain);
    return m ? `${m[1]}/${m[2]}:${m[4]}` : undefined;
  };

  const services = new Map<string, ProgrammedService>();
  const serviceFor = (chain: string, protocol: string): ProgrammedService => {
    let svc = services.get(chain);
    if (!svc) {
      const name = nameOf(chain);
      svc = { chain, protocol, addresses: [], nodePorts: [], endpoints: [], ...(name ? { name } : {}) };
      services.set(chain, svc);
    }
    return svc;
  };
  for (const el of mapElements(maps.get('service-ips') ?? {})) {
    const [address, protocol, port] = el.key;
    const chain = el.verdict.startsWith('goto ') ? policyChainOf(el.verdict.slice(5)) : undefined;
    if (chain && typeof address === 'string') serviceFor(chain, String(protocol)).addresses.push({ address, port: Number(port) });
  }
  for (const el of mapElements(maps.get('service-nodeports') ?? {})) {
    const [protocol, port] = el.key;
    const chain = el.verdict.startsWith('goto ') ? policyChainOf(el.verdict.slice(5)) : undefined;
    if (chain) serviceFor(chain, String(protocol)).nodePorts.push(Number(port));
  }
  for (const svc of services.values()) {
    for (const rule of rules.get(svc.chain) ?? []) {
      for (const e of exprs(rule)) {
        const vmap = obj(e.vmap);
        const numgen = obj(obj(vmap?.key)?.numgen);
        const set = obj(vmap?.data)?.set;
        if (!numgen || !Array.isArray(set)) continue;
        const mod = Number(numgen.mod);
        for (const pair of set) {
          const chain = Array.isArray(pair) ? verdictText(pair[1])?.replace(/^goto /, '') : undefined;
          if (!chain) continue;
          const dnat = (rules.get(chain) ?? []).flatMap(exprs).map((x) => obj(x.dnat)).find(Boolean);
          if (!dnat) continue;
          svc.endpoints.push({ chain, destination: `${String(dnat.addr)}:${String(dnat.port)}`, probability: 1 / mod });
        }
      }
    }
  }

  const refused: RefusedFrontend[] = [];
  const refusal = (verdict: string): 'REJECT' | 'DROP' | undefined => (verdict === 'drop' ? 'DROP' : verdict === 'goto reject-chain' ? 'REJECT' : undefined);
  for (const el of mapElements(maps.get('no-endpoint-services') ?? {})) {
    const [address, protocol, port] = el.key;
    const verdict = refusal(el.verdict);
    if (!verdict || typeof address !== 'string') continue;
    refused.push({ address, protocol: String(protocol), port: Number(port), verdict, rule: `no-endpoint-services { ${el.key.join(' . ')} : ${el.verdict} }`, ...(el.comment ? { name: el.comment } : {}) });
  }
  for (const el of mapElements(maps.get('no-endpoint-nodeports') ?? {})) {
    const [protocol, port] = el.key;
    const verdict = refusal(el.verdict);
    if (!verdict) continue;
    refused.push({ protocol: String(protocol), port: Number(port), verdict, rule: `no-endpoint-nodeports { ${el.key.join(' . ')} : ${el.verdict} }`, ...(el.comment ? { name: el.comment } : {}) });
  }
  return { mode: 'nftables', services: [...services.values()], refused };
}

export type Frontend = { kind: 'service'; service: ProgrammedService; via: 'address' | 'nodePort' } | { kind: 'refused'; refused: RefusedFrontend };

/** What a new flow to address:port meets on this node. NodePorts answer on `localAddresses`. */
export function frontendFor(rules: ProgrammedRules, address: string, port: number, protocol: string, localAddresses: string[] = []): Frontend | undefined {
  for (const service of rules.services) {
    if (service.protocol !== protocol) continue;
    if (service.addresses.some((a) => a.address === address && a.port === port)) return { kind: 'service', service, via: 'address' };
  }
  for (const refused of rules.refused) {
    if (refused.protocol === protocol && refused.address === address && refused.port === port) return { kind: 'refused', refused };
  }
  if (!localAddresses.includes(address)) return undefined;
  for (const service of rules.services) {
    if (service.protocol === protocol && service.nodePorts.includes(port)) return { kind: 'service', service, via: 'nodePort' };
  }
  for (const refused of rules.refused) {
    if (refused.protocol === protocol && refused.address === undefined && refused.port === port) return { kind: 'refused', refused };
  }
  return undefined;
}
