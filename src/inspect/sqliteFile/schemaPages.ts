import { NotUnderstood } from './notUnderstood.js';
import type { PageFile } from './pageFile.js';

/**
 * The pages one walk of a schema table reached (its b-tree pages and overflow pages, in the
 * order reached), their bytes, and what was decoded from them. A walk is decided by those bytes
 * and by a few header fields alone: the page size, the usable size and the schema format (the
 * page count only bounds which page numbers may be read, and which root pages a row may name:
 * the caller checks both again). Databases made alike (every initenv of one Trac version and
 * plugin set) share them byte for byte, except for page 1's first 100 bytes (the header), left out.
 */
export interface SchemaPages<T> {
  pageSize: number;
  usableSize: number;
  schemaFormat: number;
  pages: readonly number[];
  bytes: readonly Buffer[];
  decoded: T;
}

/** The most bytes of schema pages remembered (Trac's schema takes a few pages): a larger schema is decoded every time. */
export const MAX_REMEMBERED_BYTES = 256 * 1024;

/** The walk just made over `pages` of `file`, remembered with what it decoded; null when larger than MAX_REMEMBERED_BYTES. */
export function rememberPages<T>(file: PageFile, pages: readonly number[], decoded: T): SchemaPages<T> | null {
  const { pageSize, usableSize, schemaFormat } = file.header;
  if (pages.length * pageSize > MAX_REMEMBERED_BYTES) return null;
  // Copies: the pages read belong to this file's buffers.
  const bytes = pages.map((number) => Buffer.from(pageBytes(file, number)));
  return { pageSize, usableSize, schemaFormat, pages: [...pages], bytes, decoded };
}

/**
 * Whether `file` holds the very pages `memo` remembers, at the same numbers, under the same
 * header fields: then walking them would decode the same. Reads pages as the walk would (the
 * file's page cache keeps them for a walk after a mismatch, unread and uncounted a second
 * time). A page the file cannot give (beyond its page count, past the read budget) is a
 * mismatch: the walk then meets it and says why.
 */
export function samePages<T>(file: PageFile, memo: SchemaPages<T>): boolean {
  const { pageSize, usableSize, schemaFormat } = file.header;
  if (pageSize !== memo.pageSize || usableSize !== memo.usableSize || schemaFormat !== memo.schemaFormat) return false;
  try {
    for (let i = 0; i < memo.pages.length; i++) if (!memo.bytes[i]!.equals(pageBytes(file, memo.pages[i]!))) return false;
  } catch (error) {
    if (error instanceof NotUnderstood) return false;
    throw error;
  }
  return true;
}

/** Page `number` of `file`, page 1 without the database header. */
function pageBytes(file: PageFile, number: number): Uint8Array {
  const page = file.page(number);
  return number === 1 ? page.subarray(100) : page;
}
