// The layers section of docs/architecture.md, drawn from the checked rules (.dependency-cruiser.cjs)
// so the picture and the check cannot drift: each `layer-<folder>` rule says which folders
// src/<folder>/ may import; folders that may import the same folders form one tier, and the
// picture draws each tier's arrows to the tiers just below it (what is further below is reached
// through them). A unit test fails when the document's section is not what this produces.
//   node scripts/architecture-diagram.mjs           rewrite the section in docs/architecture.md
//   node scripts/architecture-diagram.mjs --check   exit 1 when it differs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const BEGIN = '<!-- layers:begin — generated from .dependency-cruiser.cjs by scripts/architecture-diagram.mjs; do not edit -->';
export const END = '<!-- layers:end -->';

/** Each folder's rule: what it may import and what its tier holds. */
export function layersOf(config) {
  return config.forbidden
    .filter((rule) => rule.name.startsWith('layer-'))
    .map((rule) => {
      const folder = rule.name.slice('layer-'.length);
      const names = /^\^src\/\(([^)]*)\)\/$/.exec(rule.to.pathNot)?.[1]?.split('|') ?? [];
      return { folder, allowed: names.filter((n) => n !== folder), what: rule.comment.split('\n')[0] };
    });
}

/** Folders grouped into tiers (same imports, same depth), bottom first. */
export function tiersOf(layers) {
  const byFolder = new Map(layers.map((l) => [l.folder, l]));
  const depth = new Map();
  const depthOf = (folder) => {
    if (!depth.has(folder)) depth.set(folder, 1 + Math.max(-1, ...byFolder.get(folder).allowed.map(depthOf)));
    return depth.get(folder);
  };
  const groups = new Map();
  for (const l of layers) {
    const key = `${depthOf(l.folder)}|${l.allowed.slice().sort().join(',')}`;
    if (!groups.has(key)) groups.set(key, { depth: depthOf(l.folder), allowed: l.allowed, folders: [], what: l.what });
    groups.get(key).folders.push(l.folder);
  }
  return [...groups.values()].sort((a, b) => a.depth - b.depth || a.folders[0].localeCompare(b.folders[0]));
}

/** Arrows between tiers: to every tier it may import from, minus those reached through another. */
function arrowsOf(tiers) {
  const reaches = (from, to) => to.folders.some((f) => from.allowed.includes(f));
  const arrows = [];
  for (const from of tiers) {
    const targets = tiers.filter((to) => to !== from && reaches(from, to));
    for (const to of targets) {
      const via = targets.some((mid) => mid !== to && reaches(mid, to) && to.folders.filter((f) => from.allowed.includes(f)).every((f) => mid.allowed.includes(f)));
      if (via) continue;
      const partial = to.folders.filter((f) => from.allowed.includes(f));
      arrows.push({ from, to, label: partial.length < to.folders.length ? partial.join(', ') : undefined });
    }
  }
  return arrows;
}

export function layersSection(config) {
  const tiers = tiersOf(layersOf(config));
  const id = (t) => `t${tiers.indexOf(t)}`;
  const lines = [BEGIN, '', '```mermaid', 'flowchart TB'];
  for (const t of [...tiers].reverse()) lines.push(`  ${id(t)}["${t.folders.map((f) => `src/${f}/`).join(' · ')}"]`);
  for (const a of arrowsOf(tiers)) lines.push(`  ${id(a.from)} -->${a.label ? `|${a.label} only|` : ''} ${id(a.to)}`);
  lines.push('```', '');
  lines.push('| tier | folders | what they hold | may import |', '| --- | --- | --- | --- |');
  const imported = new Set(tiers.flatMap((t) => t.allowed));
  for (const t of [...tiers].reverse()) {
    const below = tiers.filter((b) => b.depth < t.depth).flatMap((b) => b.folders).filter((f) => imported.has(f));
    const everyTierBelow = below.length > 0 && below.length === t.allowed.length && below.every((f) => t.allowed.includes(f));
    const imports = !t.allowed.length ? 'nothing outside itself' : everyTierBelow ? 'every tier below' : t.allowed.map((f) => `\`src/${f}/\``).join(' ');
    lines.push(`| ${t.depth} | ${t.folders.map((f) => `\`src/${f}/\``).join(' ')} | ${t.what} | ${imports} |`);
  }
  lines.push('', END);
  return lines.join('\n');
}

const root = fileURLToPath(new URL('..', import.meta.url));
export const DOC = `${root}docs/architecture.md`;

export function loadConfig() {
  return createRequire(import.meta.url)(`${root}.dependency-cruiser.cjs`);
}

/** The document with its section replaced (undefined when it has no markers). */
export function withSection(doc, section) {
  const begin = doc.indexOf('<!-- layers:begin');
  const end = doc.indexOf(END);
  if (begin < 0 || end < 0) return undefined;
  return doc.slice(0, begin) + section + doc.slice(end + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const doc = readFileSync(DOC, 'utf8');
  const next = withSection(doc, layersSection(loadConfig()));
  if (next === undefined) {
    console.error(`${DOC} has no ${'<!-- layers:begin'}… ${END} markers`);
    process.exit(2);
  }
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      console.error('docs/architecture.md: the layers section differs from .dependency-cruiser.cjs; run `npm run docs:architecture`');
      process.exit(1);
    }
  } else if (next !== doc) {
    writeFileSync(DOC, next);
    console.error('docs/architecture.md: layers section rewritten');
  }
}
