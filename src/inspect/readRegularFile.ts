import fsSync, { constants, type Stats } from 'node:fs';
import fs from 'node:fs/promises';

/** Small text files trac-deploy reads from an environment: far above any real one. */
export const MAX_TEXT_BYTES = 1024 * 1024;

export class NotARegularFile extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'NotARegularFile';
    (this as { code?: string }).code = 'ENOTREG';
  }
}

/**
 * The text of a regular file, read once and bounded. A FIFO, socket or device named as VERSION,
 * trac.ini, an [inherit] file or .tracignore would block a plain read forever (or, for
 * /dev/urandom, never end): the file is opened without blocking, checked to be a regular file
 * on the descriptor itself, and refused beyond `max` bytes.
 */
export async function readRegularFile(file: string, max = MAX_TEXT_BYTES): Promise<string> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    refuseUnlessSmallFile(file, stat, max);
    const buffer = Buffer.alloc(Math.min(max + 1, stat.size + 1));
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return textOf(file, buffer, length, max);
  } finally {
    await handle.close();
  }
}

/** readRegularFileSync's buffer: a trac.ini fits its first size; the most it grows to. */
let scratch = Buffer.allocUnsafe(16 * 1024);
const MAX_SCRATCH = 64 * 1024;

/**
 * readRegularFile with the same checks, synchronously: for the per-environment reads of a
 * parent directory (VERSION, trac.ini), done on worker threads, where a blocking read costs a
 * fraction of the CPU of a promise round trip through libuv's thread pool (~6x less per file).
 */
export function readRegularFileSync(file: string, max = MAX_TEXT_BYTES): string {
  const fd = fsSync.openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fsSync.fstatSync(fd);
    refuseUnlessSmallFile(file, stat, max);
    const want = Math.min(max + 1, stat.size + 1);
    // Read into one buffer per thread (the text is decoded out of it, a copy), a larger file into its own.
    if (want > scratch.length && want <= MAX_SCRATCH) scratch = Buffer.allocUnsafe(MAX_SCRATCH);
    const buffer = want <= scratch.length ? scratch.subarray(0, want) : Buffer.allocUnsafe(want);
    let length = 0;
    while (length < buffer.length) {
      const bytesRead = fsSync.readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      // All the bytes fstat counted: the read that would return none (end of file) is not made.
      // Only a file growing meanwhile would have given more (then read as of a moment earlier).
      if (length === stat.size) break;
    }
    return textOf(file, buffer, length, max);
  } finally {
    fsSync.closeSync(fd);
  }
}

function refuseUnlessSmallFile(file: string, stat: Stats, max: number): void {
  if (!stat.isFile()) {
    const kind = stat.isFIFO() ? 'a FIFO' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isSocket() ? 'a socket' : stat.isDirectory() ? 'a directory' : 'not a file';
    throw new NotARegularFile(file, `it is ${kind}, not a regular file`);
  }
  if (stat.size > max) throw new NotARegularFile(file, `it is larger than ${max} bytes`);
}

function textOf(file: string, buffer: Buffer, length: number, max: number): string {
  if (length > max) throw new NotARegularFile(file, `it is larger than ${max} bytes`);
  return buffer.subarray(0, length).toString('utf8');
}
