// A minimal ustar writer: enough to hand single files to the Engine's archive API without a
// dependency. Entries over 8 GiB or with names over 100 bytes are not needed here. The reader
// takes what engines send back (Go's archive/tar: ustar, pax for long or non-ASCII names) and
// GNU tar's own format (test/fixtures/tar/ are real archives of each).

function header(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  const block = Buffer.alloc(512, 0);
  const write = (value: string, offset: number, length: number) => block.write(value, offset, length, 'utf8');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0') + '\0';
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  write(name, 0, 100);
  write(octal(mode, 8), 100, 8);
  write(octal(0, 8), 108, 8);
  write(octal(0, 8), 116, 8);
  write(octal(size, 12), 124, 12);
  write(octal(Math.floor(Date.now() / 1000), 12), 136, 12);
  write('        ', 148, 8);
  write(type, 156, 1);
  write('ustar\0', 257, 6);
  write('00', 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return block;
}

export interface TarEntry {
  name: string; // relative path, "dir/" entries end with a slash
  content?: Buffer; // absent for directories
  mode?: number;
}

export function tarEntries(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.content === undefined) {
      parts.push(header(entry.name.endsWith('/') ? entry.name : `${entry.name}/`, 0, entry.mode ?? 0o755, '5'));
      continue;
    }
    parts.push(header(entry.name, entry.content.length, entry.mode ?? 0o644, '0'));
    parts.push(entry.content);
    const pad = (512 - (entry.content.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}

export interface TarMember {
  name: string;
  /** '0' regular file, '2' symbolic link, '5' directory, others as the archive says. */
  type: string;
  mode: number;
  content: Buffer;
  /** A link's target (a pax `linkpath` or a GNU long link name where the header's 100 bytes do not hold it). */
  linkName?: string;
}

function field(header: Buffer, offset: number, length: number): string {
  return header.subarray(offset, offset + length).toString('utf8').replace(/\0.*$/s, '');
}

/** A pax extended header's records: `<length> <key>=<value>\n`, the length counting the whole
 * record in bytes (a value may hold any byte, a newline too). */
function paxRecords(body: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  for (let at = 0; at < body.length; ) {
    const space = body.indexOf(0x20, at);
    const length = space > at ? Number(body.subarray(at, space).toString('ascii')) : NaN;
    if (!Number.isInteger(length) || length <= space - at || at + length > body.length) break; // padding, or not a record
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/** Every member of a ustar, pax or GNU archive: pax `path`/`linkpath` records and GNU long names
 * (`L`) and long link names (`K`) apply to the next member; pax global headers are skipped. */
export function readTar(tar: Buffer): TarMember[] {
  const members: TarMember[] = [];
  let longName: string | undefined;
  let longLink: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 48).replace('\0', '0');
    const body = Buffer.from(tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const records = paxRecords(body);
      longName = records.get('path') ?? longName;
      longLink = records.get('linkpath') ?? longLink;
      continue;
    }
    if (type === 'L' || type === 'K') {
      const value = body.toString('utf8').replace(/\0.*$/s, '');
      if (type === 'L') longName = value;
      else longLink = value;
      continue;
    }
    if (type === 'g') continue;
    // GNU's own header ("ustar  ") keeps other fields where ustar has the name's prefix.
    const gnu = header.subarray(257, 265).toString('latin1') === 'ustar  \0';
    const prefix = gnu ? '' : field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    const linkName = longLink ?? field(header, 157, 100);
    longName = undefined;
    longLink = undefined;
    members.push({ name, type, mode: parseInt(field(header, 100, 8).trim() || '0', 8), content: body, ...(linkName ? { linkName } : {}) });
  }
  return members;
}

/** The content of the first regular file in an archive (what the engine's archive API sends). */
export function firstRegularFile(tar: Buffer): Buffer {
  const file = readTar(tar).find((m) => m.type === '0');
  if (!file) throw new Error('the archive holds no regular file');
  return file.content;
}
