// The YAML text of a spec, with positions: maps a data path (["hosts", 1, "pods", 0, "name"]) back to
// the line and column of the value, or of its key, in the file.

import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { SpecIssue } from './spec-error.js';

export type PathSeg = string | number;

export interface Position {
  line: number;
  col: number;
}

/** ["hosts", 1, "pods", 0, "name"] → "hosts[1].pods[0].name". Odd keys are quoted: subnets["a.b"]. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Where to point for a path: the value itself, or the key it sits under (for unknown keys). */
export type Anchor = 'value' | 'key';

export class SpecSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(text: string, file: string) {
    this.file = file;
    this.doc = parseDocument(text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: true,
      stringKeys: true, // keys like `1:` become "1"; collection keys are errors
      merge: true, // allow `<<: *anchor` merge keys
    });
  }

  /** YAML syntax errors (and aliases without an anchor), each at its position. */
  syntaxIssues(): SpecIssue[] {
    const issues = this.doc.errors.map((e): SpecIssue => {
      const pos = this.lines.linePos(e.pos[0]);
      return {
        file: this.file,
        line: pos.line,
        col: pos.col,
        path: '',
        message: /stringKeys/.test(e.message)
          ? 'invalid YAML: mapping keys must be plain names, not lists or mappings.'
          : `invalid YAML: ${sentence(e.message)}`,
      };
    });
    if (issues.length) return issues;
    visit(this.doc, {
      Alias: (_key, node) => {
        if (node.resolve(this.doc) !== undefined) return;
        const pos = this.lines.linePos(node.range?.[0] ?? 0);
        issues.push({
          file: this.file,
          line: pos.line,
          col: pos.col,
          path: '',
          message: `invalid YAML: alias *${node.source} has no anchor &${node.source} before it.`,
        });
      },
    });
    return issues;
  }

  /** Whether the document has no content at all (empty file or only comments). */
  isEmpty(): boolean {
    const c = this.doc.contents;
    return c === null || (isScalar(c) && c.value === null && c.range[0] === c.range[1]);
  }

  /** The plain data of the document. Throws a SpecIssue-shaped error for unresolvable aliases. */
  toData(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /** Position of the deepest node on `path` that exists (the value, or its key when anchor is 'key'). */
  position(path: readonly PathSeg[], anchor: Anchor = 'value'): Position {
    let node: unknown = this.doc.contents;
    let fallback: Position = { line: 1, col: 1 };
    const start = this.start(node);
    if (start) fallback = start;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] as PathSeg;
      if (isAlias(node)) node = node.resolve(this.doc);
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p) === String(seg)) as Pair<unknown, unknown> | undefined;
        if (!pair) return fallback;
        const keyPos = this.start(pair.key);
        const valuePos = this.start(pair.value, true);
        if (last) return (anchor === 'key' ? keyPos : (valuePos ?? keyPos)) ?? fallback;
        fallback = valuePos ?? keyPos ?? fallback;
        node = pair.value;
      } else if (isSeq(node)) {
        const index = typeof seg === 'number' ? seg : Number(seg);
        const item = Number.isInteger(index) ? node.items[index] : undefined;
        if (item === undefined) return fallback;
        const itemPos = this.start(item, true) ?? fallback;
        if (last) return itemPos;
        fallback = itemPos;
        node = item;
      } else {
        return fallback;
      }
    }
    return fallback;
  }

  /** Builds an issue located at `path`. */
  issue(path: readonly PathSeg[], message: string, hint?: string, anchor: Anchor = 'value'): SpecIssue {
    const pos = this.position(path, anchor);
    const issue: SpecIssue = { file: this.file, line: pos.line, col: pos.col, path: formatPath(path), message };
    if (hint !== undefined) issue.hint = hint;
    return issue;
  }

  /** Position of a node; with skipEmpty, undefined for an empty (implicit null) value. */
  private start(node: unknown, skipEmpty = false): Position | undefined {
    if (!node || typeof node !== 'object' || !('range' in node)) return undefined;
    const range = (node as Node).range;
    if (!range) return undefined;
    if (skipEmpty && isScalar(node) && node.value === null && range[0] === range[1]) return undefined;
    return this.lines.linePos(range[0]);
  }
}

function keyText(pair: Pair<unknown, unknown>): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  if (k === null || k === undefined) return undefined;
  return isNode(k) ? k.toString() : JSON.stringify(k);
}

/** Capitalization-preserving: makes sure a message ends with a period. */
export function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
