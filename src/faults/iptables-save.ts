// Pure: the text `iptables-save` / `ebtables-save` print, as tables → chains → rules, and a rule's
// text back into the argv words iptables takes. Rules are compared as the text iptables-save
// prints for them (its canonical form), so "the same rule" means what iptables itself means.

export interface SavedChain {
  /** ACCEPT / DROP for a built-in chain, "-" for a user chain. */
  policy: string;
  /** The rules in order, each as iptables-save prints it after `-A <chain> `. */
  rules: string[];
}

export interface SavedTable {
  chains: Record<string, SavedChain>;
}

export type SavedTables = Record<string, SavedTable>;

const CHAIN_LINE = /^:(\S+) (\S+)(?: \[\d+:\d+\])?$/;
const RULE_LINE = /^-A (\S+) ?(.*)$/;

/** Parses iptables-save (or ebtables-save) output; counters and comments are ignored. */
export function parseSave(text: string): SavedTables {
  const tables: SavedTables = {};
  let current: SavedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      current = { chains: {} };
      tables[line.slice(1)] = current;
      continue;
    }
    if (line === 'COMMIT' || !current) continue;
    const chain = CHAIN_LINE.exec(line);
    if (chain) {
      current.chains[chain[1]!] = { policy: chain[2]!, rules: [] };
      continue;
    }
    const rule = RULE_LINE.exec(line);
    if (rule) {
      const c = (current.chains[rule[1]!] ??= { policy: '-', rules: [] });
      c.rules.push(rule[2]!);
    }
  }
  return tables;
}

/** A table with only built-in chains, each ACCEPT and empty: it filters nothing. */
export function isEmptyTable(table: SavedTable | undefined): boolean {
  if (!table) return true;
  return Object.values(table.chains).every((c) => c.policy === 'ACCEPT' && c.rules.length === 0);
}

/**
 * A rule's text → argv words, as iptables-save quotes them: words are separated by spaces; a
 * word with a space is in double quotes, inside which `\"` and `\\` stand for `"` and `\`.
 */
export function ruleWords(rule: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < rule.length) {
    if (rule[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    if (rule[i] === '"') {
      i++;
      while (i < rule.length && rule[i] !== '"') {
        if (rule[i] === '\\' && i + 1 < rule.length) i++;
        word += rule[i];
        i++;
      }
      i++; // closing quote
    } else {
      while (i < rule.length && rule[i] !== ' ') word += rule[i++];
    }
    words.push(word);
  }
  return words;
}

/** The longest common subsequence of two rule lists, as index pairs (classic DP; chains are short). */
function commonRules(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/** Which rules of `before` are gone in `after` and which are new, with their positions (0-based). */
export function diffRules(before: readonly string[], after: readonly string[]): { removed: { rule: string; index: number }[]; added: { rule: string; index: number }[] } {
  const pairs = commonRules(before, after);
  const keptBefore = new Set(pairs.map(([i]) => i));
  const keptAfter = new Set(pairs.map(([, j]) => j));
  return {
    removed: before.map((rule, index) => ({ rule, index })).filter((r) => !keptBefore.has(r.index)),
    added: after.map((rule, index) => ({ rule, index })).filter((r) => !keptAfter.has(r.index)),
  };
}
