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

export function tarSingleFile(name: string, content: Buffer, mode: number): Buffer {
  return tarEntries([{ name, content, mode }]);
}
