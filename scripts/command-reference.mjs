// Writes docs/commands.md from oclif.manifest.json (what `npm run build` records of every
// command) and the OVERLAB_* settings table (src/shared/settings.ts) through
// src/cli/command-reference.ts; `--check` only says whether it is current.
//   npm run docs:commands            (after npm run build)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandReference } from '../dist/cli/command-reference.js';
import { settingsTable } from '../dist/shared/settings.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const manifest = JSON.parse(readFileSync(`${root}oclif.manifest.json`, 'utf8'));
const text = commandReference(manifest, { bin: pkg.oclif.bin, topics: pkg.oclif.topics, settings: settingsTable() });
const file = `${root}docs/commands.md`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // no file yet: it differs
  }
  if (current !== text) {
    console.error('docs/commands.md differs from the code: run `npm run docs:commands`');
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
  console.error(`docs/commands.md: ${Object.values(manifest.commands).filter((c) => !c.hidden).length} commands`);
}
