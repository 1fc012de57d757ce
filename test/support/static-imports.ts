// What Node loads before a module runs: the closure of its static imports, read from the sources
// (`import type` / `export type` left out, `import()` not followed). An import the compiler drops
// because only types use it is counted: the closure may be larger than Node's, never smaller.
// Paths relative to the repository; packages by name.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const STATIC_IMPORT = /^(?:import|export)\s(?!type\s)(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm;

export interface StaticClosure {
  /** Source files, e.g. `src/lab-loader/load.ts`. */
  files: Set<string>;
  /** Packages, e.g. `yaml`, `@oclif/core` (Node's built-ins left out). */
  packages: Set<string>;
}

export function staticClosure(entry: string): StaticClosure {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [resolve(ROOT, entry)];
  while (queue.length) {
    const file = queue.pop()!;
    const key = relative(ROOT, file);
    if (files.has(key)) continue;
    files.add(key);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (specifier!.startsWith('.')) queue.push(resolve(dirname(file), specifier!.replace(/\.js$/, '.ts')));
      else if (!specifier!.startsWith('node:')) packages.add(specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!);
    }
  }
  return { files, packages };
}
