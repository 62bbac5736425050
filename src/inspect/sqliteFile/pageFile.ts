import fs from 'node:fs';
import type { DatabaseHeader } from './header.js';
import { check, fail } from './notUnderstood.js';

/** At most this many bytes of one database are read (pages and overflow): beyond it, SQLite reads. */
export const READ_BUDGET = 4 * 1024 * 1024;

/**
 * Page buffers of the files read before in this thread, of one page size: the next file's pages
 * are read into them (no allocation, and no garbage, per page of each of a parent directory's
 * databases). A file's pages go back here when it is released.
 */
const spare: Buffer[] = [];
let spareSize = 0;
const MAX_SPARE = 32;

/**
 * The pages of one open database file, read on demand with positioned reads and never more
 * than READ_BUDGET bytes in all. The first bytes read to find the header serve as page 1 (and
 * the pages after it, when they fit).
 */
export class PageFile {
  private spent: number;
  /** Pages read beyond `start`, kept: a page asked for again (schemaPages compares, then the walk reads) is neither read nor counted twice. */
  private readonly read = new Map<number, Buffer>();

  constructor(
    private readonly fd: number,
    readonly header: DatabaseHeader,
    private readonly start: Uint8Array,
  ) {
    this.spent = start.length;
  }

  /** Page `number` (1-based), whole: `header.pageSize` bytes. */
  page(number: number): Uint8Array {
    const { pageSize, pageCount, lockBytePage } = this.header;
    if (!(Number.isInteger(number) && number >= 1 && number <= pageCount)) fail(`page ${number} outside the database (${pageCount} pages)`);
    check(number !== lockBytePage, 'a pointer to the lock-byte page');
    const offset = (number - 1) * pageSize;
    if (offset + pageSize <= this.start.length) return this.start.subarray(offset, offset + pageSize);
    const kept = this.read.get(number);
    if (kept !== undefined) return kept;
    this.spent += pageSize;
    if (this.spent > READ_BUDGET) fail(`more than ${READ_BUDGET} bytes to read`);
    const buffer = (spareSize === pageSize ? spare.pop() : undefined) ?? Buffer.allocUnsafe(pageSize);
    if (readFully(this.fd, buffer, offset) !== pageSize) fail(`page ${number} is cut short`);
    this.read.set(number, buffer);
    return buffer;
  }

  /**
   * Gives the pages read beyond the start back for the next file: neither they nor anything
   * made from them without a copy may be used after (the reader keeps decoded values and copies).
   */
  release(): void {
    if (spareSize !== this.header.pageSize) {
      spare.length = 0;
      spareSize = this.header.pageSize;
    }
    for (const buffer of this.read.values()) if (spare.length < MAX_SPARE) spare.push(buffer as Buffer);
    this.read.clear();
  }
}

/** Reads into `buffer` from `position` until it is full or the file ends; the bytes read. */
export function readFully(fd: number, buffer: Uint8Array, position: number): number {
  let length = 0;
  while (length < buffer.length) {
    const read = fs.readSync(fd, buffer, length, buffer.length - length, position + length);
    if (read === 0) break;
    length += read;
  }
  return length;
}
