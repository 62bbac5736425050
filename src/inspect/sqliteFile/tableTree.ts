import { check, fail } from './notUnderstood.js';
import { READ_BUDGET, type PageFile } from './pageFile.js';
import { readVarint } from './record.js';

const LEAF_TABLE = 0x0d;
const INTERIOR_TABLE = 0x05;
/** SQLite's own limit on a b-tree's depth (BTCURSOR_MAX_DEPTH). */
const MAX_DEPTH = 20;

/**
 * Walks the table b-trees of one file (https://www.sqlite.org/fileformat.html#b_tree_pages),
 * each row once, in rowid order, with its payload whole (overflow pages followed). Every page is
 * checked before it is trusted: its type, its header and cell pointers within the page, rowids
 * strictly increasing and within the bounds the interior keys above them set, no page visited
 * twice (in any tree of the file), and no deeper than SQLite goes.
 */
export class TableTrees {
  private readonly seen = new Set<number>();
  /** When set, every page the walks reach (b-tree and overflow pages) is added, in the order reached. */
  visited: number[] | null = null;

  constructor(private readonly file: PageFile) {}

  /**
   * Counts `pages` as reached, in this order, without reading them: for a walk already known to
   * reach exactly these (schemaPages.ts). A later walk that reaches one fails as it would have.
   */
  claimAll(pages: readonly number[]): void {
    for (const number of pages) this.claim(number);
  }

  /** Calls `row` with each row's rowid and payload (valid only during the call). */
  walk(root: number, row: (rowid: number, payload: Uint8Array) => void): void {
    this.visit(root, 1, -Infinity, Infinity, row);
  }

  private visit(number: number, depth: number, low: number, high: number, row: (rowid: number, payload: Uint8Array) => void): void {
    check(depth <= MAX_DEPTH, 'a b-tree deeper than SQLite makes them');
    this.claim(number);
    const page = this.file.page(number);
    const { usableSize } = this.file.header;
    const at = number === 1 ? 100 : 0;
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const type = page[at]!;
    if (!(type === LEAF_TABLE || type === INTERIOR_TABLE)) fail(`page ${number} is not a table b-tree page (type ${type})`);
    const leaf = type === LEAF_TABLE;
    const cells = view.getUint16(at + 3);
    const contentStart = view.getUint16(at + 5) || 65536;
    const firstFreeblock = view.getUint16(at + 1);
    const pointers = at + (leaf ? 8 : 12);
    if (!(pointers + 2 * cells <= contentStart && contentStart <= usableSize)) fail(`page ${number}: cells overlap its header`);
    const fragmented = page[at + 7]!;
    if (fragmented > 60) fail(`page ${number}: more fragmented bytes than SQLite allows`);
    checkFreeblocks(view, number, firstFreeblock, contentStart, usableSize, fragmented + contentStart - (pointers + 2 * cells));
    let previous = low;
    for (let i = 0; i < cells; i++) {
      const cell = view.getUint16(pointers + 2 * i);
      if (!(cell >= contentStart && cell < usableSize)) fail(`page ${number}: a cell outside its content area`);
      if (leaf) {
        const size = readVarint(page, cell, usableSize);
        const rowid = readVarint(page, size.end, usableSize);
        if (!(rowid.value > previous && rowid.value <= high)) fail(`page ${number}: rowids out of order`);
        previous = rowid.value;
        row(rowid.value, this.payload(page, rowid.end, size.value));
      } else {
        if (cell + 4 > usableSize) fail(`page ${number}: a cell past the page`);
        const child = view.getUint32(cell);
        const key = readVarint(page, cell + 4, usableSize);
        if (!(key.value > previous && key.value <= high)) fail(`page ${number}: keys out of order`);
        this.visit(child, depth + 1, previous, key.value, row);
        previous = key.value;
      }
    }
    if (!leaf) this.visit(view.getUint32(at + 8), depth + 1, previous, high, row);
  }

  private claim(number: number): void {
    if (this.seen.has(number)) fail(`page ${number} is reached twice`);
    this.seen.add(number);
    this.visited?.push(number);
  }

  /** A cell's payload of `size` bytes starting at `start`: on the page, then along its overflow chain. */
  private payload(page: Uint8Array, start: number, size: number): Uint8Array {
    const { usableSize } = this.file.header;
    if (size > READ_BUDGET) fail(`a payload of ${size} bytes`);
    const local = localPayload(size, usableSize);
    if (local === size) {
      check(start + size <= usableSize, 'a payload past its page');
      return page.subarray(start, start + size);
    }
    check(start + local + 4 <= usableSize, 'a payload past its page');
    const whole = Buffer.allocUnsafe(size);
    whole.set(page.subarray(start, start + local), 0);
    let filled = local;
    let next = new DataView(page.buffer, page.byteOffset + start + local, 4).getUint32(0);
    while (filled < size) {
      check(next !== 0, 'an overflow chain that ends early');
      this.claim(next);
      const overflow = this.file.page(next);
      const take = Math.min(size - filled, usableSize - 4);
      whole.set(overflow.subarray(4, 4 + take), filled);
      filled += take;
      next = new DataView(overflow.buffer, overflow.byteOffset, 4).getUint32(0);
    }
    check(next === 0, 'an overflow chain longer than its payload');
    return whole;
  }
}

/**
 * The chain of free blocks inside a page, as SQLite checks it before using a page
 * (btreeComputeFreeSpace): each at least 4 bytes, in the content area, in ascending order
 * without overlap, and few enough to end.
 */
function checkFreeblocks(view: DataView, number: number, first: number, contentStart: number, usableSize: number, gap: number): void {
  let free = gap;
  let block = first;
  let end = contentStart;
  for (let count = 0; block !== 0; count++) {
    // Blocks apart by fewer than 4 bytes would have been merged (the bytes between are fragments).
    if (block < (count === 0 ? end : end + 4) || block + 4 > usableSize) fail(`page ${number}: a freeblock out of order or past the page`);
    const size = view.getUint16(block + 2);
    if (size < 4 || block + size > usableSize) fail(`page ${number}: a freeblock of impossible size`);
    free += size;
    end = block + size;
    block = view.getUint16(block);
  }
  if (free > usableSize) fail(`page ${number}: more free space than the page`);
}

/** How much of a table leaf cell's payload of `size` bytes is kept on the page itself. */
export function localPayload(size: number, usableSize: number): number {
  const maxLocal = usableSize - 35;
  if (size <= maxLocal) return size;
  const minLocal = Math.floor(((usableSize - 12) * 32) / 255) - 23;
  const local = minLocal + ((size - minLocal) % (usableSize - 4));
  return local <= maxLocal ? local : minLocal;
}
