// Every OVERLAB_* variable is read one way: the default when unset, the value when right, and
// exit 3 naming the variable and a right value otherwise. The table knows every name the
// sources use (so docs/commands.md's table, written from it, lists them all).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS, SettingError, setting, settingsTable, unknownSettings } from '../../src/shared/settings.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { errorEnvelope } from '../../src/cli/envelope.js';
import { lockWaitMs } from '../../src/lab/lab-lock.js';
import { engineDeadlines } from '../../src/runtime/engine-endpoint.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const PREFIX = 'OVERLAB' + '_'; // spelt apart: this file's own made-up names are not a use

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return ['node_modules', 'dist', 'artifacts', 'fixtures'].includes(name) ? [] : files(path);
    return /\.(ts|mjs|js|cjs|sh|md)$/.test(name) ? [path] : [];
  });
}

function thrown(f: () => unknown): SettingError {
  try {
    f();
  } catch (e) {
    return e as SettingError;
  }
  throw new Error('did not throw');
}

describe('the settings table', () => {
  it('knows every OVERLAB_ variable the sources, scripts, tests, benches and docs name', () => {
    const known = new Set(Object.values(SETTINGS).map((s) => s.name as string));
    const sources = [...['src', 'scripts', 'bin', 'test', 'bench', 'docs'].flatMap(files), 'vitest.config.ts', 'README.md'].filter((f) => !f.endsWith('shared-settings.test.ts'));
    expect(sources.length).toBeGreaterThan(100);
    const used = new Map<string, string>();
    for (const file of sources) for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(new RegExp(`${PREFIX}[A-Z0-9_]+`, 'g'))) used.set(m[0], file);
    expect(used.size).toBeGreaterThanOrEqual(10);
    const missing = [...used].filter(([name]) => !known.has(name)).map(([name, file]) => `${name} (${file})`);
    expect(missing, 'add a row to src/shared/settings.ts, then npm run docs:commands').toEqual([]);
  });

  it('says for every row who reads it, what it sets, its default and what is right', () => {
    for (const row of settingsTable()) {
      expect(row.name).toMatch(new RegExp(`^${PREFIX}[A-Z0-9_]+$`));
      for (const text of [row.what, row.defaultText, row.expected]) expect(text.length).toBeGreaterThan(0);
    }
  });
});

describe('setting()', () => {
  it('is the default when unset or empty, and the value when right', () => {
    expect(setting('lockWaitMs', 5000, {})).toBe(5000);
    expect(setting('lockWaitMs', 5000, { [`${PREFIX}LOCK_WAIT_MS`]: '' })).toBe(5000);
    expect(setting('lockWaitMs', 5000, { [`${PREFIX}LOCK_WAIT_MS`]: ' 250 ' })).toBe(250);
    expect(setting('lockWaitMs', 5000, { [`${PREFIX}LOCK_WAIT_MS`]: '0' })).toBe(0);
    expect(setting('sshMultiplex', '1', { [`${PREFIX}SSH_MULTIPLEX`]: '0' })).toBe('0');
  });

  it('stops with exit 3 on a bad value, naming the variable, what is right and an example', () => {
    const e = thrown(() => setting('lockWaitMs', 5000, { [`${PREFIX}LOCK_WAIT_MS`]: '5s' }));
    expect(e).toBeInstanceOf(SettingError);
    expect(exitCodeFor(e)).toBe(3);
    expect(e.message).toBe(`${PREFIX}LOCK_WAIT_MS=5s is not a right value: it must be a whole number of milliseconds, 0 or more`);
    expect(e.hint).toBe(`unset ${PREFIX}LOCK_WAIT_MS (default: 5000), or set e.g. ${PREFIX}LOCK_WAIT_MS=5000`);
    expect(errorEnvelope(e, exitCodeFor(e))).toMatchObject({ status: 3, name: 'SettingError', hint: e.hint });
  });

  it('is how the lock waits and the engine deadlines are read: no silent fallback any more', () => {
    expect(() => lockWaitMs({ [`${PREFIX}LOCK_WAIT_MS`]: '-1' })).toThrow(SettingError);
    expect(() => lockWaitMs({ [`${PREFIX}PROBE_LOCK_WAIT_MS`]: 'soon' }, 'probes')).toThrow(/PROBE_LOCK_WAIT_MS=soon/);
    expect(lockWaitMs({ [`${PREFIX}PROBE_LOCK_WAIT_MS`]: '900' }, 'probes')).toBe(900);
    expect(() => engineDeadlines({ [`${PREFIX}ENGINE_SLOW_TIMEOUT_MS`]: '0' })).toThrow(/must be a whole number of milliseconds, 1 or more/);
    expect(engineDeadlines({ [`${PREFIX}ENGINE_TIMEOUT_MS`]: '70000' })).toMatchObject({ quickMs: 70_000, slowMs: 70_000, imageMs: 600_000 });
  });

  it('shows a long or odd value cut and escaped, never as control characters', () => {
    const e = thrown(() => setting('debianMirror', '', { [`${PREFIX}DEBIAN_MIRROR`]: `ftp://x\n${'y'.repeat(100)}` }));
    expect(e.message).toContain('ftp://x\\n');
    expect(e.message).toContain('…');
    expect(e.message).not.toContain('\n');
  });
});

describe('an OVERLAB_ variable no setting has', () => {
  it('is found, with the closest known name', () => {
    expect(unknownSettings({ [`${PREFIX}LOCK_WAIT`]: '1', [`${PREFIX}LOCK_WAIT_MS`]: '1', [`${PREFIX}WHATEVER_ELSE_ENTIRELY`]: 'x', PATH: '/bin' })).toEqual([
      { name: `${PREFIX}LOCK_WAIT`, closest: `${PREFIX}LOCK_WAIT_MS` },
      { name: `${PREFIX}WHATEVER_ELSE_ENTIRELY` },
    ]);
  });
});
