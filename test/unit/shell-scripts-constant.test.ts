// Where overlab starts a shell in a container (`sh -c`), the script must be a constant: a
// module-level `const` with an upper-case name, so its text is fixed when the module loads and
// no spec, flag or network value can become part of it. Values reach such a script only as
// positional arguments ("$1", "$@"), which the shell never parses as code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const SHELL_CALL = /\[\s*'(?:ba)?sh',\s*(?:'--noprofile',\s*'--norc',\s*)?'-c',\s*([^,\]]+)/g;

describe('every shell overlab starts runs constant text', () => {
  const calls = sources(SRC).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(SHELL_CALL)].map((m) => ({ file: file.slice(SRC.length), script: m[1]!.trim(), text }));
  });

  it('finds the shells (so the scan itself can fail)', () => {
    expect(calls.length).toBeGreaterThanOrEqual(10);
  });

  it.each(calls.map((c) => [`${c.file}: ${c.script}`, c] as const))('%s', (_name, { script, text, file }) => {
    expect(script, `${file} passes a script that is not a named constant`).toMatch(/^[A-Z][A-Z0-9_]*$/);
    const declared = new RegExp(`^(?:export )?const ${script}\\b`, 'm');
    const imported = new RegExp(`import \\{[^}]*\\b${script}\\b[^}]*\\} from`);
    expect(declared.test(text) || imported.test(text), `${script} is not a module-level const of ${file} nor imported`).toBe(true);
  });
});
