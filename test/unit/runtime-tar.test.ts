// The tar reader against archives GNU tar wrote (test/fixtures/tar/README.md: how), in pax, GNU
// and ustar format, and against its own writer.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { firstRegularFile, readTar, tarEntries } from '../../src/runtime/tar.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tar/${name}`, import.meta.url));
const LONG_DIR = 'run/overlab/a-directory-whose-name-is-long-enough-to-need-more-than-the-hundred-bytes-of-a-ustar-name-field';
const LINK_TARGET = `/${LONG_DIR}/subnet.env`;

/** What `tar -tvf` lists for each archive: type, mode, name, link target; and each file's content. */
const listing = (tar: Buffer) => readTar(tar).map((m) => [m.type, m.mode.toString(8), m.name, m.linkName ?? '', m.content.toString('utf8')]);

const ENTRIES = [
  ['5', '755', 'etc/', '', ''],
  ['0', '644', 'etc/empty', '', ''],
  ['2', '777', 'etc/long-link-target-symlink', LINK_TARGET, ''],
  ['0', '644', 'etc/naïve-名前.conf', '', 'é ünïcode\n'],
  ['0', '755', 'etc/run.sh', '', '#!/bin/sh\necho hi\n'],
  ['5', '755', 'run/', '', ''],
  ['5', '755', 'run/overlab/', '', ''],
  ['5', '755', `${LONG_DIR}/`, '', ''],
  ['0', '644', `${LONG_DIR}/subnet.env`, '', 'subnet.env content\n'],
];

describe('readTar on archives GNU tar wrote', () => {
  it('pax: the path and linkpath records name the next member (long and non-ASCII names, a long link target)', () => {
    const tar = fixture('pax.tar');
    expect(tar.includes('PaxHeaders')).toBe(true); // the archive really uses pax headers…
    expect(listing(tar)).toEqual(ENTRIES); // …and none of them is read as a member
  });

  it('GNU: long names (L) and long link names (K) name the next member; GNU headers have no ustar prefix', () => {
    const tar = fixture('gnu.tar');
    expect(tar.includes('././@LongLink')).toBe(true);
    expect(tar.includes('ustar  \0')).toBe(true);
    expect(listing(tar)).toEqual(ENTRIES);
  });

  it('ustar: a long path is its prefix and name joined', () => {
    const tar = fixture('ustar.tar');
    expect(tar.includes(`${LONG_DIR}/subnet.env`)).toBe(false); // split in two fields, never whole
    expect(listing(tar)).toEqual(ENTRIES.filter((e) => e[0] !== '2'));
  });

  it('the first regular file is what a single-file read returns (empty files count)', () => {
    expect(firstRegularFile(fixture('gnu.tar'))).toEqual(Buffer.alloc(0));
    expect(() => firstRegularFile(tarEntries([{ name: 'only-a-dir/' }]))).toThrow('the archive holds no regular file');
  });
});

describe('tarEntries', () => {
  it('writes what readTar (and so GNU tar) reads back: directories, modes, contents of any length', () => {
    const big = Buffer.alloc(1500, 'x');
    const tar = tarEntries([{ name: 'etc/overlab' }, { name: 'etc/overlab/a.json', content: Buffer.from('{}') }, { name: 'bin/tool', content: big, mode: 0o755 }]);
    expect(tar.length % 512).toBe(0);
    expect(readTar(tar).map((m) => [m.type, m.mode.toString(8), m.name, m.content.length])).toEqual([
      ['5', '755', 'etc/overlab/', 0],
      ['0', '644', 'etc/overlab/a.json', 2],
      ['0', '755', 'bin/tool', 1500],
    ]);
  });

  it('refuses a name longer than a ustar name field', () => {
    expect(() => tarEntries([{ name: `${'d'.repeat(100)}/f`, content: Buffer.from('') }])).toThrow(/tar entry name too long/);
  });
});
