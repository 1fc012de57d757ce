// Odd spec files: refused fast, with exit 2 naming the file, never hanging or eating memory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OverlabError } from '../../src/base/errors.js';
import { SpecError, formatIssue } from '../../src/lab-spec/spec-error.js';
import { MAX_FLOW_DEPTH, loadLabSpec, tooDeep } from '../../src/lab-loader/load.js';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { MAX_SPEC_BYTES, readSpecFile } from '../../src/lab-spec/spec-file.js';

const dir = mkdtempSync(join(tmpdir(), 'overlab-spec-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(path: string): Promise<string> {
  try {
    await loadLabSpec(path);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    expect(e.exitCode).toBe(2);
    return e.issues.map(formatIssue).join('\n');
  }
  throw new Error(`${path} was accepted`);
}

describe('spec files', () => {
  it('a FIFO is refused at once, without waiting for a writer', async () => {
    const fifo = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    expect(await refusal(fifo)).toBe(`${fifo}: is a FIFO (named pipe); a spec must be a regular file. Save the spec to a file and pass its path.`);
    const link = join(dir, 'link.yaml');
    symlinkSync(fifo, link);
    expect(await refusal(link)).toMatch(/is a FIFO/);
  });

  it('a device is refused', async () => {
    expect(await refusal('/dev/zero')).toBe('/dev/zero: is a device; a spec must be a regular file. Save the spec to a file and pass its path.');
  });

  it('a file over 1 MiB is refused without reading it', async () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `name: x\ndescription: "${'a'.repeat(10 * 1024 * 1024)}"\n`);
    expect(await refusal(big)).toBe(`${big}: is 10.0 MiB; a spec file is at most 1.0 MiB. A lab spec is a few KiB; is this the right file?`);
  });

  it('the limit is exact: 1 MiB is read, one byte more is not', async () => {
    const edge = join(dir, 'edge.yaml');
    writeFileSync(edge, `# ${'x'.repeat(MAX_SPEC_BYTES - 3)}\n`);
    expect((await readSpecFile(edge)).length).toBe(MAX_SPEC_BYTES);
    writeFileSync(edge, `# ${'x'.repeat(MAX_SPEC_BYTES - 2)}\n`);
    expect(await refusal(edge)).toMatch(/is 1\.0 MiB; a spec file is at most 1\.0 MiB/);
  });

  it('a read that does not finish in time is an environment problem (exit 3)', async () => {
    const file = join(dir, 'slow.yaml');
    writeFileSync(file, 'name: x\n');
    const error = await readSpecFile(file, 0).catch((e: unknown) => e);
    // With a zero deadline either the read wins (a string) or the deadline does (exit 3, naming the file).
    if (typeof error !== 'string') {
      expect(error).toBeInstanceOf(OverlabError);
      expect((error as OverlabError).kind).toBe('environment');
      expect((error as Error).message).toContain(file);
    }
  });

  it('deeply nested flow collections are refused before the YAML parser recurses', () => {
    const deep = `name: x\nhosts: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    expect(() => parseLabSpec(deep, 'd.yaml')).toThrow(SpecError);
    try {
      parseLabSpec(deep, 'd.yaml');
    } catch (e) {
      expect(formatIssue((e as SpecError).issues[0]!)).toBe(`d.yaml:2:${8 + MAX_FLOW_DEPTH}: flow collections are nested more than ${MAX_FLOW_DEPTH} levels deep here.`);
    }
    expect(tooDeep('a: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\n# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n')).toBeUndefined();
    expect(tooDeep(`a: ${'['.repeat(MAX_FLOW_DEPTH)}${']'.repeat(MAX_FLOW_DEPTH)}`)).toBeUndefined();
  });

  it('a spec of many aliases does not expand without bound', () => {
    const bomb = ['name: x', 'a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`), 'hosts: [{name: h}]'].join('\n');
    expect(() => parseLabSpec(bomb, 'b.yaml')).toThrow(SpecError);
  });
});
