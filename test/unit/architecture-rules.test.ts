// The layer rules (.dependency-cruiser.cjs) catch what they are for: dependency-cruiser, run as
// `npm test` runs it, on a small tree of planted files fails each planted back-arrow, cycle and
// forbidden import with the rule's name — and passes the same tree without them. A second test
// holds docs/architecture.md's picture to the rules it is drawn from.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error a build script without type declarations
import { DOC, layersSection, loadConfig, withSection } from '../../scripts/architecture-diagram.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A throw-away tree of `files`, cruised with the project's rules as `npm run lint:deps` does:
 * the exit code and what it prints. */
async function cruise(files: Record<string, string>): Promise<{ exitCode: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'overlab-layers-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src/**/*.ts'] }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return promisify(execFile)(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'err'], { cwd: dir, maxBuffer: 16 << 20 }).then(
    (r) => ({ output: r.stdout, exitCode: 0 }),
    (e: { stdout: string; code: number }) => ({ output: e.stdout, exitCode: e.code }),
  );
}

/** A small tree that keeps every rule: core → plan → lab-spec → base, the agent → shared. */
const CLEAN = {
  'src/base/errors.ts': 'export class OverlabError extends Error {}\n',
  'src/shared/ipv4.ts': 'export const ANY = "0.0.0.0";\n',
  'src/lab-spec/lab-spec.ts': "import { OverlabError } from '../base/errors.js';\nexport type LabSpec = { name: string; error?: OverlabError };\n",
  'src/plan/resolve-lab.ts': "import type { LabSpec } from '../lab-spec/lab-spec.js';\nimport { ANY } from '../shared/ipv4.js';\nexport const resolveLab = (spec: LabSpec) => ({ ...spec, any: ANY });\n",
  'src/plan/overlay.ts': "export const usesAgent = () => true;\n",
  'src/core/lab-up.ts': "import { resolveLab } from '../plan/resolve-lab.js';\nexport const up = () => resolveLab({ name: 'x' });\n",
  'src/agent/main.ts': "import { readFileSync } from 'node:fs';\nimport { ANY } from '../shared/ipv4.js';\nexport const main = () => [readFileSync, ANY];\n",
};

describe('the layer rules', () => {
  it('pass a tree that keeps them', async () => {
    const { exitCode, output } = await cruise(CLEAN);
    expect(output).toContain('no dependency violations found');
    expect(exitCode).toBe(0);
  });

  it('fail a planted back-arrow, a cycle (static, dynamic, type-only) and a host program reaching out, naming each rule', async () => {
    const { exitCode, output } = await cruise({
      ...CLEAN,
      // back-arrow: plan (tier 2) importing core (tier 9)
      'src/plan/overlay.ts': "import { up } from '../core/lab-up.js';\nexport const usesAgent = () => Boolean(up);\n",
      // cycle inside one folder: a type-only import one way, a dynamic import back
      'src/lab-spec/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
      'src/lab-spec/b.ts': "export type B = { n: number };\nexport const load = () => import('./a.js');\n",
      // the agent importing the CLI's code and a package
      'src/agent/config.ts': "import { resolveLab } from '../plan/resolve-lab.js';\nimport { parse } from 'yaml';\nexport const c = [resolveLab, parse];\n",
      // a folder with no place in the tiers
      'src/misc/helper.ts': "import { OverlabError } from '../base/errors.js';\nexport const h = OverlabError;\n",
    });
    expect(exitCode).not.toBe(0);
    const lines = output.replace(/ →\s*\n\s*/g, ' → ').split('\n').map((l) => l.trim());
    const broken = (rule: string) => lines.filter((l) => l.startsWith(`error ${rule}: `)).map((l) => l.slice(`error ${rule}: `.length));
    expect(broken('layer-plan')).toEqual(['src/plan/overlay.ts → src/core/lab-up.ts']);
    // a type-only import one way and a dynamic import back
    expect(broken('no-cycles')).toEqual([expect.stringMatching(/^src\/lab-spec\/(a\.ts → src\/lab-spec\/b\.ts → src\/lab-spec\/a|b\.ts → src\/lab-spec\/a\.ts → src\/lab-spec\/b)\.ts$/)]);
    expect(broken('layer-agent')).toEqual(['src/agent/config.ts → src/plan/resolve-lab.ts']);
    expect(broken('node-builtins-only')).toEqual([expect.stringMatching(/^src\/agent\/config\.ts → yaml/)]);
    expect(broken('unknown-folder')).toEqual(['src/misc/helper.ts → src/base/errors.ts']);
  }, 60_000);
});

describe('docs/architecture.md', () => {
  it('draws the layers the rules check (npm run docs:architecture redraws it)', () => {
    const doc = readFileSync(DOC as string, 'utf8');
    const expected = withSection(doc, layersSection(loadConfig()) as string) as string | undefined;
    expect(expected, 'docs/architecture.md has the layers markers').toBeDefined();
    expect(doc).toBe(expected);
  });
});
