// The labs that ship with overlab, found by name from any directory; a file still wins.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_LABS_DIR, bundledExerciseNames, bundledLabNames, bundledLabs, specFileFor } from '../../src/cli/bundled-labs.js';
import { exitCodeFor, OverlabError } from '../../src/base/errors.js';

const here = mkdtempSync(join(tmpdir(), 'overlab-bundled-'));
const cwd = process.cwd();
afterAll(() => {
  process.chdir(cwd);
  rmSync(here, { recursive: true, force: true });
});

function thrown(f: () => unknown): OverlabError {
  try {
    f();
  } catch (e) {
    return e as OverlabError;
  }
  throw new Error('did not throw');
}

describe('bundled labs', () => {
  it('are the thirteen labs of labs/, each with its one-line story', async () => {
    expect(bundledLabNames()).toEqual(['bgp-mesh', 'bgp-racks', 'egress', 'flannel-udp', 'flannel-vxlan', 'host-gw', 'host-gw-racks', 'k8s-cni0', 'k8s-service', 'no-overlay', 'same-host', 'vxlan-static', 'vxlan-tenants']);
    const vxlan = (await bundledLabs()).find((l) => l.name === 'flannel-vxlan')!;
    expect(vxlan.description).toBe('flannel VXLAN mode driven by etcd and the overlab agent');
    expect(vxlan.file).toBe(join(BUNDLED_LABS_DIR, 'flannel-vxlan.yaml'));
    expect((await bundledLabs()).every((l) => l.description.length > 10)).toBe(true);
  });

  it('and the twenty-five exercises, by file name', () => {
    expect(bundledExerciseNames()).toHaveLength(25);
    expect(bundledExerciseNames()[0]).toBe('01-veth-down');
  });

  it('are found by name from any directory', () => {
    process.chdir(here);
    expect(specFileFor('flannel-vxlan')).toBe(join(BUNDLED_LABS_DIR, 'flannel-vxlan.yaml'));
  });

  it('yield to a file (or anything else) of that name in the current directory', () => {
    process.chdir(here);
    writeFileSync(join(here, 'host-gw'), 'name: mine\n');
    mkdirSync(join(here, 'same-host'));
    expect(specFileFor('host-gw')).toBe('host-gw');
    expect(specFileFor('same-host')).toBe('same-host'); // reading it says "is a directory"
    expect(specFileFor('./host-gw')).toBe('./host-gw');
  });

  it('never take a path apart: only a plain name can mean a bundled lab', () => {
    process.chdir(here);
    expect(() => specFileFor('../labs/flannel-vxlan')).toThrow(/no such spec file/);
    expect(thrown(() => specFileFor('Flannel-VXLAN')).hint).toMatch(/did you mean the bundled lab flannel-vxlan/);
  });

  it('say what exists when neither a file nor a bundled lab has the name: exit 2, no position', () => {
    process.chdir(here);
    const e = thrown(() => specFileFor('flannel-vxlam'));
    expect(exitCodeFor(e)).toBe(2);
    expect(e.message).toBe('flannel-vxlam: no such spec file, and no bundled lab has that name');
    expect(e.message).not.toMatch(/:\d+:\d+/);
    expect(e.hint).toMatch(/^did you mean the bundled lab flannel-vxlan\? \(`overlab labs` lists them: bgp-mesh, /);
    // A README path run outside the clone points at the bundled lab too.
    expect(thrown(() => specFileFor('labs/host-gw.yaml')).hint).toMatch(/did you mean the bundled lab host-gw\?/);
    expect(thrown(() => specFileFor('zzz')).hint).toMatch(/^give a spec file's path, or the name of a bundled lab/);
  });
});
