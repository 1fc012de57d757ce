// seedAs (test/integration/harness.ts) writes a test file's lab copies into a folder of its own,
// which goes when the file's tests are done. The check is registered before the harness is
// imported, so that it runs after the harness's own afterAll (hooks run as a stack).
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, expect, it } from 'vitest';

let folder: string | undefined;
afterAll(() => {
  expect(folder).toMatch(/^\/tmp\/overlab-seed-copies-/);
  expect(existsSync(folder!)).toBe(false);
});

const { seedAs } = await import('../integration/harness.js');

it('writes a lab copy under its own name into the folder', async () => {
  const file = await seedAs('same-host', 'seed-x1');
  folder = dirname(file);
  expect(existsSync(file)).toBe(true);
});
