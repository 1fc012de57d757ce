// How kube-proxy's own tests compare rule sets, so ours compare the same way: kube-proxy walks a
// Go map of Services, so the order in which Services are written is arbitrary, and its tests put
// both sides in one canonical order first (pkg/proxy/iptables/proxier_test.go "sortIPTablesRules",
// pkg/proxy/nftables/helpers_test.go "sortNFTablesTransaction"). These are our own implementations
// of that order, written from its description.

interface Dump {
  tables: { name: string; chains: string[]; rules: Map<string, string[]> }[];
}

function parseRestore(text: string): Dump {
  const dump: Dump = { tables: [] };
  let table: Dump['tables'][number] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      table = { name: line.slice(1), chains: [], rules: new Map() };
      dump.tables.push(table);
    } else if (!table) {
      throw new Error(`rule outside a table: ${line}`);
    } else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0]!;
      if (!table.chains.includes(chain)) table.chains.push(chain);
    } else {
      const chain = line.split(' ')[1]!;
      const rules = table.rules.get(chain) ?? [];
      rules.push(line);
      table.rules.set(chain, rules);
    }
  }
  return dump;
}

function commentServiceName(rule: string): string | undefined {
  const m = /--comment (?:"([^"]*)"|(\S+))/.exec(rule);
  const value = m?.[1] ?? m?.[2];
  if (value === undefined) return undefined;
  const cut = value.search(/[ :]/);
  return cut === -1 ? value : value.slice(0, cut);
}

function byServiceName(a: string, b: string): number {
  const na = commentServiceName(a);
  const nb = commentServiceName(b);
  if (na === undefined || nb === undefined) return 0;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function chainOrder(a: string, b: string): number {
  const rank = (c: string) => (c === 'KUBE-NODEPORTS' ? 0 : c === 'KUBE-SERVICES' ? 1 : c.startsWith('KUBE-') ? 2 : 3);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** iptables-restore text in the canonical order of kube-proxy's tests. */
export function canonicalIptables(text: string): string {
  const dump = parseRestore(text);
  const out: string[] = [];
  for (const table of [...dump.tables].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    out.push(`*${table.name}`);
    const chains = [...table.chains].sort(chainOrder);
    for (const chain of chains) out.push(`:${chain} - [0:0]`);
    for (const chain of chains) {
      let rules = [...(table.rules.get(chain) ?? [])];
      if (chain === 'KUBE-NODEPORTS') rules = rules.sort(byServiceName);
      if (chain === 'KUBE-SERVICES') {
        const last = rules.filter((r) => r.includes('must be the last rule'));
        rules = [...rules.filter((r) => !r.includes('must be the last rule')).sort(byServiceName), ...last];
      }
      out.push(...rules);
    }
    for (const [chain, rules] of table.rules) if (!table.chains.includes(chain)) out.push(...rules);
    out.push('COMMIT');
  }
  return out.join('\n');
}

const NFT_OBJECT_ORDER = ['table', 'chain', 'set', 'map', 'rule', 'element'];

/** nft transaction text in a canonical order: by object kind, then object name; rules keep their
 * order within a chain; other lines of one object sort by their text. */
export function canonicalNftables(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const keyed = lines.map((line, index) => {
    const words = line.split(' ');
    return { line, index, kind: NFT_OBJECT_ORDER.indexOf(words[1]!), name: words[4] ?? '' };
  });
  keyed.sort((a, b) => {
    if (a.kind !== b.kind) return a.kind - b.kind;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    if (NFT_OBJECT_ORDER[a.kind] === 'rule') return a.index - b.index;
    return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
  });
  return keyed.map((k) => k.line).join('\n');
}
