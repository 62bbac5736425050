import { isUtf8 } from 'node:buffer';
import { check, fail, NotUnderstood } from './notUnderstood.js';

/**
 * A value of an SQLite record as better-sqlite3 would return it: null, a number (INTEGER within
 * JavaScript's safe range, or REAL), a string (TEXT, valid UTF-8 without NUL), or a Uint8Array
 * (BLOB). Anything else (an integer beyond 2^53, text that is not clean UTF-8) is not understood.
 */
export type SqlValue = null | number | string | Uint8Array;

export interface Varint {
  value: number;
  /** Offset just after the varint. */
  end: number;
}

/**
 * SQLite's variable-length integer (1 to 9 bytes, big-endian, 7 bits a byte, all 8 in the ninth)
 * at `offset`, read no further than `limit`; a value outside JavaScript's safe integer range is
 * not understood (rowids, sizes and serial types of Trac's small tables never come close).
 */
export function readVarint(bytes: Uint8Array, offset: number, limit: number): Varint {
  // The first seven bytes (49 bits) fit a number exactly; longer ones go through a bigint.
  let value = 0;
  for (let i = 0; i < 7; i++) {
    check(offset + i < limit, 'a varint runs past its page or record');
    const byte = bytes[offset + i]!;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return { value, end: offset + i + 1 };
  }
  let big = BigInt(value);
  for (let i = 7; i < 9; i++) {
    check(offset + i < limit, 'a varint runs past its page or record');
    const byte = bytes[offset + i]!;
    if (i === 8) return { value: safe(BigInt.asIntN(64, (big << 8n) | BigInt(byte))), end: offset + 9 };
    big = (big << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) return { value: safe(big), end: offset + i + 1 };
  }
  throw new NotUnderstood('unreachable: a varint has at most nine bytes');
}

function safe(value: bigint): number {
  check(value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER), 'an integer beyond 2^53');
  return Number(value);
}

/**
 * One record (https://www.sqlite.org/fileformat.html#record_format): a header of serial types,
 * then their bodies, which must fill the payload exactly. Values are decoded one at a time, on
 * demand (most rows of the schema table are looked at for two short columns). Serial types 8
 * and 9 (the constants 0 and 1) exist only from schema format 4 on.
 */
export class RecordView {
  private readonly types: number[] = [];
  private readonly offsets: number[] = [];

  constructor(
    private readonly payload: Uint8Array,
    schemaFormat: number,
  ) {
    const header = readVarint(payload, 0, payload.length);
    check(header.value >= header.end && header.value <= payload.length, 'a record header larger than its record');
    let at = header.end;
    let body = header.value;
    while (at < header.value) {
      const type = readVarint(payload, at, header.value);
      at = type.end;
      this.types.push(type.value);
      this.offsets.push(body);
      body += bodySize(type.value, schemaFormat);
    }
    check(at === header.value, 'a record header that does not end where it says');
    check(body === payload.length, 'a record whose values do not fill it');
  }

  get length(): number {
    return this.types.length;
  }

  /** Whether column `i` is TEXT of `bytes` bytes (a cheap look before decoding it). */
  isTextOfLength(i: number, bytes: number): boolean {
    return this.types[i] === 13 + 2 * bytes;
  }

  /** Whether column `i` is the TEXT `ascii`, compared byte by byte without decoding it. */
  isText(i: number, ascii: string): boolean {
    if (!this.isTextOfLength(i, ascii.length)) return false;
    const at = this.offsets[i]!;
    for (let k = 0; k < ascii.length; k++) if (this.payload[at + k] !== ascii.charCodeAt(k)) return false;
    return true;
  }

  /**
   * Appends the serial types and stored bytes of columns `first`..`last` (inclusive) to `key`:
   * equal bytes for equal columns, without decoding them.
   */
  appendColumns(key: ByteKey, first: number, last: number): void {
    check(last < this.types.length, 'a column past the end of its record');
    for (let i = first; i <= last; i++) key.appendNumber(this.types[i]!);
    const start = this.offsets[first]!;
    const end = last + 1 < this.offsets.length ? this.offsets[last + 1]! : this.payload.length;
    key.append(new Uint8Array(this.payload.buffer, this.payload.byteOffset + start, end - start));
  }

  value(i: number): SqlValue {
    const type = this.types[i];
    check(type !== undefined, 'a column past the end of its record');
    const at = this.offsets[i]!;
    return valueOf(type, this.payload, at, bodySize(type, 4));
  }

  values(): SqlValue[] {
    return this.types.map((_, i) => this.value(i));
  }

  /** Whether any column is a BLOB (checked without decoding anything). */
  hasBlob(): boolean {
    return this.types.some((type) => type >= 12 && type % 2 === 0);
  }
}

function bodySize(type: number, schemaFormat: number): number {
  check(type >= 0, 'a negative serial type');
  if (type >= 12) return (type - 12) >> 1;
  check(type !== 10 && type !== 11, 'a reserved serial type (10 or 11)');
  check(!(type === 8 || type === 9) || schemaFormat >= 4, 'serial type 8 or 9 below schema format 4');
  return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0][type]!;
}

function valueOf(type: number, payload: Uint8Array, at: number, size: number): SqlValue {
  if (type >= 12) {
    if (type % 2 === 0) return payload.subarray(at, at + size);
    // Decoding replaces each invalid sequence with U+FFFD: only text holding one needs checking.
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8', at, at + size);
    if (text.includes('\0') || (text.includes('\uFFFD') && !isUtf8(payload.subarray(at, at + size)))) fail('text that is not UTF-8 without NUL');
    return text;
  }
  if (type === 0) return null;
  if (type === 8) return 0;
  if (type === 9) return 1;
  const view = new DataView(payload.buffer, payload.byteOffset + at, size);
  switch (type) {
    case 1:
      return view.getInt8(0);
    case 2:
      return view.getInt16(0);
    case 3:
      return (view.getInt8(0) << 16) | view.getUint16(1);
    case 4:
      return view.getInt32(0);
    case 5:
      return view.getInt16(0) * 2 ** 32 + view.getUint32(2);
    case 6:
      return safe(view.getBigInt64(0));
    default:
      return view.getFloat64(0);
  }
}

/**
 * Bytes gathered into one growing buffer, to be compared at once: the buffer is kept between
 * uses (one per thread) and start() empties it.
 */
export class ByteKey {
  private static bytes = new Uint8Array(16 * 1024);
  private length = 0;

  append(part: Uint8Array): void {
    this.reserve(part.length);
    ByteKey.bytes.set(part, this.length);
    this.length += part.length;
  }

  appendNumber(value: number): void {
    this.reserve(4);
    const bytes = ByteKey.bytes;
    bytes[this.length] = value >>> 24;
    bytes[this.length + 1] = value >>> 16;
    bytes[this.length + 2] = value >>> 8;
    bytes[this.length + 3] = value;
    this.length += 4;
  }

  /** Whether the bytes gathered are exactly `other`'s. */
  equals(other: Uint8Array): boolean {
    return this.length === other.length && Buffer.from(ByteKey.bytes.buffer, 0, this.length).equals(other);
  }

  /** A copy of the bytes gathered (the buffer itself is reused). */
  copy(): Uint8Array {
    return ByteKey.bytes.slice(0, this.length);
  }

  /** The bytes gathered, as a string of one character per byte (a Map key compared by content). */
  text(): string {
    return Buffer.from(ByteKey.bytes.buffer, 0, this.length).toString('latin1');
  }

  private reserve(more: number): void {
    if (this.length + more <= ByteKey.bytes.length) return;
    const grown = new Uint8Array(Math.max(ByteKey.bytes.length * 2, this.length + more));
    grown.set(ByteKey.bytes.subarray(0, this.length));
    ByteKey.bytes = grown;
  }
}
