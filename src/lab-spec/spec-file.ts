// Reading a spec file safely: only a regular file, at most MAX_SPEC_BYTES, within a deadline. A
// FIFO or a device is refused without blocking (opened non-blocking, checked with fstat on the
// open descriptor, so a file swapped in between cannot slip through).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { environmentError } from '../base/errors.js';
import { SpecError } from './spec-error.js';
import { tolerated } from '../base/debug-log.js';

export const MAX_SPEC_BYTES = 1024 * 1024;
export const SPEC_READ_DEADLINE_MS = 5_000;

const fileIssue = (file: string, message: string, hint?: string) =>
  new SpecError([{ file, line: 0, col: 0, path: '', message, ...(hint ? { hint } : {}) }]);

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export async function readSpecFile(path: string, deadlineMs = SPEC_READ_DEADLINE_MS): Promise<string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fileIssue(path, 'file not found.');
    if (code === 'EACCES' || code === 'EPERM') throw fileIssue(path, 'permission denied; the spec file cannot be read.');
    if (code === 'ELOOP') throw fileIssue(path, 'too many levels of symbolic links.');
    throw fileIssue(path, `cannot open the file: ${(e as Error).message}`);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw fileIssue(path, 'is a directory, not a spec file.');
    if (!st.isFile()) {
      const what = st.isFIFO() ? 'a FIFO (named pipe)' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw fileIssue(path, `is ${what}; a spec must be a regular file.`, 'Save the spec to a file and pass its path.');
    }
    if (st.size > MAX_SPEC_BYTES)
      throw fileIssue(path, `is ${mib(st.size)}; a spec file is at most ${mib(MAX_SPEC_BYTES)}.`, 'A lab spec is a few KiB; is this the right file?');
    // Read one byte past the limit: files whose size stat does not tell (/proc) are caught too.
    const buffer = Buffer.alloc(MAX_SPEC_BYTES + 1);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(environmentError(`reading ${path} did not finish within ${deadlineMs / 1000} s`, 'is it on a file system that does not answer (a hung network mount)?')),
        deadlineMs,
      );
    });
    let length = 0;
    try {
      for (;;) {
        const { bytesRead } = await Promise.race([handle.read(buffer, length, buffer.length - length, null), deadline]);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > MAX_SPEC_BYTES) throw fileIssue(path, `is larger than ${mib(MAX_SPEC_BYTES)}; a spec file is at most that.`);
      }
    } finally {
      clearTimeout(timer);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close().catch(tolerated('lab-spec', `close ${path}`));
  }
}
