import { check, fail } from './notUnderstood.js';

/** The fields of the 100-byte database header the reader relies on. */
export interface DatabaseHeader {
  pageSize: number;
  /** Page size less the bytes each page reserves at its end (for extensions). */
  usableSize: number;
  /** Pages in the database: the header's count when valid, else the file's size in pages. */
  pageCount: number;
  schemaFormat: number;
  /** The page holding the byte at 1 GiB, which SQLite never uses (only in files past 1 GiB). */
  lockBytePage: number;
}

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
export const HEADER_BYTES = 100;
const PENDING_BYTE = 0x40000000;

/**
 * The database header (https://www.sqlite.org/fileformat.html#the_database_header), checked
 * field by field: any value SQLite itself would refuse, or that this reader does not handle
 * (a text encoding other than UTF-8, a read version above 2, non-zero reserved bytes), is not
 * understood.
 */
export function parseHeader(bytes: Uint8Array, fileSize: number): DatabaseHeader {
  check(bytes.length >= HEADER_BYTES && Buffer.from(bytes.buffer, bytes.byteOffset, 16).equals(MAGIC), 'no SQLite 3 header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (!(pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0)) fail(`page size ${rawPageSize}`);
  const writeVersion = bytes[18]!;
  const readVersion = bytes[19]!;
  if (!((writeVersion === 1 || writeVersion === 2) && (readVersion === 1 || readVersion === 2))) fail(`file format versions ${writeVersion}/${readVersion}`);
  const reserved = bytes[20]!;
  const usableSize = pageSize - reserved;
  if (usableSize < 480) fail(`${reserved} reserved bytes per page`);
  check(bytes[21] === 64 && bytes[22] === 32 && bytes[23] === 32, 'payload fractions other than 64/32/32');
  const changeCounter = view.getUint32(24);
  const headerPages = view.getUint32(28);
  check(fileSize % pageSize === 0, 'a file size that is not a whole number of pages');
  const filePages = fileSize / pageSize;
  // The header's page count is valid when written by SQLite 3.7.0 or later (its version-valid-for
  // number equals the change counter); SQLite then trusts it, else it uses the file's size.
  const headerValid = headerPages !== 0 && view.getUint32(92) === changeCounter;
  const pageCount = headerValid ? headerPages : filePages;
  if (!(pageCount >= 1 && pageCount <= filePages)) fail(`a page count (${pageCount}) beyond the file (${filePages} pages)`);
  const freelistTrunk = view.getUint32(32);
  const freelistPages = view.getUint32(36);
  check(freelistTrunk <= pageCount && freelistPages < pageCount && (freelistTrunk === 0) === (freelistPages === 0), 'a freelist outside the file');
  const schemaFormat = view.getUint32(44);
  if (!(schemaFormat >= 1 && schemaFormat <= 4)) fail(`schema format ${schemaFormat}`);
  if (view.getUint32(56) !== 1) fail(`text encoding ${view.getUint32(56)} (only UTF-8 is read directly)`);
  const incrementalVacuum = view.getUint32(64);
  check(incrementalVacuum === 0 || (incrementalVacuum === 1 && view.getUint32(52) !== 0), 'an incremental-vacuum flag without auto-vacuum');
  for (let at = 72; at < 92; at++) if (bytes[at] !== 0) fail(`reserved header byte ${at} is not zero`);
  return { pageSize, usableSize, pageCount, schemaFormat, lockBytePage: Math.floor(PENDING_BYTE / pageSize) + 1 };
}
