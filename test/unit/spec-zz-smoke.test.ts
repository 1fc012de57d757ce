import { test } from 'vitest';
import { readdirSync } from 'node:fs';
import { loadLabSpec } from '../../src/spec/load.js';
import { SpecError } from '../../src/spec/errors.js';
test('smoke', async () => {
  for (const dir of ['good', 'bad']) for (const f of readdirSync(`test/fixtures/specs/${dir}`).sort()) {
    try { const l = await loadLabSpec(`test/fixtures/specs/${dir}/${f}`); console.log(`== ${f} OK`, process.env.SHOW ? JSON.stringify(l) : ''); } catch (e) { if (e instanceof SpecError) console.log(`== ${f}\n` + e.message); else throw e; }
  }
});
