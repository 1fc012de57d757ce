// A minimal ustar writer: enough to hand single files to the Engine's archive API without a
// dependency. Entries over 8 GiB or with names over 100 bytes are not needed here.

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
  /** '0' regular file, '5' directory, others as the archive says. */
  type: string;
  mode: number;
  content: Buffer;
}

function field(header: Buffer, offset: number, length: number): string {
  return header.subarray(offset, offset + length).toString('utf8').replace(/\0.*$/s, '');
}

/** Every member of a ustar/pax archive (pax and GNU long-name records applied to the next member). */
export function readTar(tar: Buffer): TarMember[] {
  const members: TarMember[] = [];
  let longName: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 48).replace('\0', '0');
    const body = Buffer.from(tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      longName = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1] ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'g') continue;
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    members.push({ name, type, mode: parseInt(field(header, 100, 8).trim() || '0', 8), content: body });
  }
  return members;
}

/** The content of the first regular file in an archive (what the engine's archive API sends). */
export function firstRegularFile(tar: Buffer): Buffer {
  const file = readTar(tar).find((m) => m.type === '0');
  if (!file) throw new Error('the archive holds no regular file');
  return file.content;
}
