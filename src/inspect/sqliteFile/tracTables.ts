import fs from 'node:fs';
import { lockedByAnyone } from './fileLocks.js';
import { HEADER_BYTES, parseHeader } from './header.js';
import { check, fail, NotUnderstood } from './notUnderstood.js';
import { PageFile, readFully } from './pageFile.js';
import { ByteKey, RecordView, type SqlValue } from './record.js';
import { rememberPages, samePages, type SchemaPages } from './schemaPages.js';
import { TableTrees } from './tableTree.js';

/** A row of Trac's `repository` table, as `SELECT id, name, value FROM repository` returns it. */
export interface RepositoryRow {
  id: unknown;
  name: unknown;
  value: unknown;
}

/** What inspect asks of a Trac SQLite database, as SQLite would answer each query. */
export interface TracRows {
  /** `SELECT value FROM system WHERE name = 'database_version'`: undefined when there is no such row. */
  databaseVersion: unknown;
  /** `SELECT id, name, value FROM repository`, in rowid order; null when no table is named exactly `repository`. */
  repository: RepositoryRow[] | null;
  /** `SELECT DISTINCT username FROM permission`, in no particular order; null when no table is named exactly `permission`. */
  permissionUsers: unknown[] | null;
}

/**
 * `unconfirmedSchema`: the reader read everything, but SQLite has not yet been seen to accept
 * this database's schema; once SQLite reads the file without error, confirmSchema(key) lets the
 * reader answer for every database with the same schema.
 */
export type DirectRead = { rows: TracRows } | { fallback: string; unconfirmedSchema?: string; seen?: FileSeen };

/** The file the reader read: what confirmSchemaIfUnchanged compares SQLite's file with. */
export interface FileSeen {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  header: Buffer;
}

/**
 * Schemas SQLite opened without error in this thread (keys of schemaKey). SQLite parses every
 * CREATE statement of a database on opening it and refuses the whole database when one is
 * malformed (or needs a newer SQLite): the reader, which parses none but its three tables', so
 * answers only for a schema SQLite has accepted. The environments of a parent directory share a
 * handful of schemas (one per Trac version and plugin set): SQLite opens one database of each.
 */
const confirmedSchemas = new Set<string>();
let lastSchema: Uint8Array = new Uint8Array(0);
/** Schemas kept (each a few KiB): past this many, the oldest is forgotten (SQLite opens its next database). */
const MAX_CONFIRMED = 256;

/**
 * The longest CREATE statement of a schema the reader answers for (Trac's are under 400 bytes;
 * plugins' alike): a longer one, in any row, leaves the database to SQLite, and nothing of it is kept.
 */
export const MAX_SQL_BYTES = 4096;
/** The longest schema key kept (a few KiB for Trac and its plugins): a longer schema is SQLite's to read, every time. */
export const MAX_SCHEMA_KEY = 64 * 1024;

/**
 * Confirms `key` (the schema the reader saw) after SQLite read the database without error, only
 * if the path still names the very file the reader read, unchanged (dev, inode, size, mtime,
 * ctime and header): SQLite opened the path later, and may have read another schema. Returns
 * whether it confirmed.
 */
export function confirmSchemaIfUnchanged(dbPath: string, key: string, seen: FileSeen): boolean {
  let fd: number;
  try {
    fd = fs.openSync(dbPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const now = fs.fstatSync(fd, { bigint: true });
    const header = Buffer.alloc(HEADER_BYTES);
    const same =
      now.isFile() && now.dev === seen.dev && now.ino === seen.ino && now.size === seen.size && now.mtimeNs === seen.mtimeNs && now.ctimeNs === seen.ctimeNs && readFully(fd, header, 0) === HEADER_BYTES && header.equals(seen.header);
    if (same) confirmSchema(key);
    return same;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

export function confirmSchema(key: string): void {
  if (key.length > MAX_SCHEMA_KEY) return;
  if (confirmedSchemas.size >= MAX_CONFIRMED) confirmedSchemas.delete(confirmedSchemas.values().next().value!);
  confirmedSchemas.add(key);
}

/** The first bytes read: the header and, for the usual 4 KiB pages, the first few pages. */
const START_BYTES = 16 * 1024;
/** The buffer the first bytes of each file are read into, one per thread (nothing read is kept in it past the read). */
const startBuffer = Buffer.allocUnsafe(START_BYTES);

/**
 * The CREATE TABLE statements of Trac's tables that the reader knows the columns of (as Trac's
 * SQLite backend writes them, from 0.11 on, and the older PRIMARY KEY spelling), after
 * normalizedSql. Any other definition (an added column, WITHOUT ROWID, STRICT, a quoted name)
 * is SQLite's to read.
 */
const KNOWN_TABLES: Record<string, readonly string[]> = {
  system: ['create table system(name text primary key,value text)'],
  repository: ['create table repository(id integer,name text,value text,unique(id,name))', 'create table repository(id integer,name text,value text,primary key(id,name))'],
  permission: ['create table permission(username text,action text,unique(username,action))', 'create table permission(username text,action text,primary key(username,action))'],
};

/**
 * Reads Trac's facts from an SQLite database file directly (header, the schema table's b-tree,
 * then the b-trees of `system`, `repository` and `permission`), without SQLite, whose opening of
 * a database parses its whole schema: several times the cost of reading these few pages. Read-only, bounded
 * (READ_BUDGET), the file opened without following a symlink.
 *
 * It answers only when it is sure to answer as SQLite would; otherwise `fallback` says why and
 * the caller asks SQLite. Falls back on: a file it cannot open or that is not a regular file (a
 * symlink included: SQLite's own handling applies), any header field or page it does not fully
 * understand, a schema other than Trac's known one for these tables, a value of a type Trac does
 * not store there, a rollback journal or WAL file with content (uncommitted or uncheckpointed
 * changes, or a writer at work), a lock held on the file by any process (SQLite would wait or
 * report it locked), and a file that changed while it was read (header, size, mtime or ctime
 * differ after, or a journal, WAL or lock appeared). A writer can change the file only while it
 * holds a lock (seen in /proc/locks) and, in rollback modes, a journal; a commit increments the
 * header's change counter: checking the journal and locks after reading the header, and
 * re-reading the header after checking them again, catches a change during the read.
 *
 * Not checked: the indexes. SQLite answers the `system` query through sqlite_autoindex_system_1
 * and `DISTINCT username` through permission's index, this reader from the tables alone: when
 * such an index does not list exactly its table's (key, rowid) entries (a damaged or crafted
 * file; integrity_check reports it, opening does not), their answers may differ. Only an index
 * whose root page is another table's or index's is caught (schemaTables).
 */
export function readTracTables(dbPath: string, hooks: ReadHooks = {}): DirectRead {
  let fd: number;
  try {
    fd = fs.openSync(dbPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    return { fallback: `cannot open: ${(error as { code?: string }).code ?? String(error)}` };
  }
  try {
    const { rows, schema, seen } = readOpenFile(dbPath, fd, hooks);
    // The schema of the last database answered (in a parent directory, usually the next one's too)
    // is compared byte for byte; another is looked up among those SQLite accepted.
    if (schema === lastSchema || Buffer.from(schema.buffer, schema.byteOffset, schema.length).equals(lastSchema)) return { rows };
    if (schema.length > MAX_SCHEMA_KEY) return { fallback: `a schema larger than ${MAX_SCHEMA_KEY} bytes` };
    const key = Buffer.from(schema.buffer, schema.byteOffset, schema.length).toString('latin1');
    if (!confirmedSchemas.has(key)) return { fallback: 'a schema SQLite has not yet accepted in this process', unconfirmedSchema: key, seen };
    lastSchema = schema;
    return { rows };
  } catch (error) {
    if (error instanceof NotUnderstood) return { fallback: error.message };
    return { fallback: `read failed: ${(error as { code?: string }).code ?? String(error)}` };
  } finally {
    fs.closeSync(fd);
  }
}

/** For tests: `afterRead` runs between reading the tables and the checks that nothing changed. */
export interface ReadHooks {
  afterRead?: () => void;
}

function readOpenFile(dbPath: string, fd: number, hooks: ReadHooks): { rows: TracRows; schema: Uint8Array; seen: FileSeen } {
  const before = fs.fstatSync(fd, { bigint: true });
  check(before.isFile(), 'not a regular file');
  const size = Number(before.size);
  check(size >= 512, 'smaller than one page');
  const start = startBuffer.subarray(0, Math.min(size, START_BYTES));
  check(readFully(fd, start, 0) === start.length, 'the file is shorter than it said');
  const file = new PageFile(fd, parseHeader(start, size), start);
  try {
    return readTables(dbPath, fd, file, before, start, hooks);
  } finally {
    file.release();
  }
}

function readTables(dbPath: string, fd: number, file: PageFile, before: fs.BigIntStats, start: Buffer, hooks: ReadHooks): { rows: TracRows; schema: Uint8Array; seen: FileSeen } {
  noWriterAt(dbPath, before.ino);

  const trees = new TableTrees(file);
  const { tables, schema } = schemaTables(trees, file);
  const system = tables.get('system');
  check(system?.name === 'system', 'no table named exactly "system"');
  const rows: TracRows = {
    databaseVersion: databaseVersion(readTable(trees, system, 2, file.header.schemaFormat, [0, 1])),
    repository: null,
    permissionUsers: null,
  };
  const repository = tables.get('repository');
  if (repository?.name === 'repository') {
    rows.repository = readTable(trees, repository, 3, file.header.schemaFormat, [0, 1, 2]).map(([id, name, value]) => ({ id, name, value }));
  }
  const permission = tables.get('permission');
  if (permission?.name === 'permission') {
    // DISTINCT as SQLite compares (BINARY): the same text, or both NULL.
    rows.permissionUsers = [...new Set(readTable(trees, permission, 2, file.header.schemaFormat, [0]).map(([username]) => username))];
  }

  hooks.afterRead?.();
  noWriterAt(dbPath, before.ino);
  const after = fs.fstatSync(fd, { bigint: true });
  check(after.size === before.size && after.mtimeNs === before.mtimeNs && after.ctimeNs === before.ctimeNs, 'the file changed while it was read');
  // The path still names the file read (not one renamed over it since it was opened).
  const named = fs.lstatSync(dbPath, { bigint: true, throwIfNoEntry: false });
  check(named !== undefined && named.dev === before.dev && named.ino === before.ino, 'the path names another file since it was opened');
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  check(readFully(fd, header, 0) === HEADER_BYTES && header.equals(start.subarray(0, HEADER_BYTES)), 'the header changed while it was read');
  return { rows, schema, seen: { dev: before.dev, ino: before.ino, size: before.size, mtimeNs: before.mtimeNs, ctimeNs: before.ctimeNs, header } };
}

/**
 * No process holds a lock on the database, and no rollback journal or WAL file beside it has
 * content: SQLite would otherwise have to wait, roll back, or read pages from the WAL.
 */
function noWriterAt(dbPath: string, inode: bigint): void {
  for (const suffix of ['-journal', '-wal']) {
    const stat = fs.lstatSync(dbPath + suffix, { throwIfNoEntry: false });
    if (!(stat === undefined || (stat.isFile() && stat.size === 0))) fail(`a ${suffix.slice(1)} file with content`);
  }
  const locked = lockedByAnyone(inode);
  check(locked !== null, '/proc/locks cannot be read');
  check(!locked, 'a process holds a lock on the database');
}

interface SchemaTable {
  name: string;
  root: number;
  sql: string | null;
}

/** What schemaTables decodes: never changed once made (a walk remembered hands it out again). */
interface Schema {
  tables: ReadonlyMap<string, SchemaTable>;
  /** The schema's key (see schemaTables). */
  schema: Uint8Array;
  /** The highest root page a row names (each must be at most the page count). */
  maxRoot: number;
}

/** The last schema walked in this thread, with its pages: the next database's schema pages are compared with them first. */
let lastSchemaWalk: SchemaPages<Schema> | null = null;
/** Schemas decoded in this thread (not taken from the last walk): for tests. */
export const schemaDecodes = { count: 0 };

/**
 * decodeSchema's answer for the schema table of `file`. When its pages are byte for byte those
 * of the last schema decoded (under the same page size, usable size and schema format), the
 * answer is that one's, and only what the file's own page count decides is checked again: that
 * every page is inside the file (read to compare), and that no row names a root page beyond it.
 * The pages are counted as reached, as the walk would have.
 */
function schemaTables(trees: TableTrees, file: PageFile): Schema {
  const memo = lastSchemaWalk;
  if (memo !== null && samePages(file, memo)) {
    check(memo.decoded.maxRoot <= file.header.pageCount, 'a schema row with an impossible root page');
    trees.claimAll(memo.pages);
    return memo.decoded;
  }
  schemaDecodes.count++;
  trees.visited = [];
  const decoded = decodeSchema(trees, file.header.schemaFormat, file.header.pageCount);
  lastSchemaWalk = rememberPages(file, trees.visited, decoded);
  trees.visited = null;
  return decoded;
}

/**
 * The tables and views of sqlite_master (page 1) named, in any ASCII case, as the three tables
 * Trac's facts come from, and the schema's key: every entry's type, names and SQL as stored (not
 * its root page: databases made alike share it), with the schema format. SQLite finds a table by
 * its name in any ASCII case; inspect's check for the optional tables compares exactly: both are
 * kept apart by the `name` kept here. Every row's root page is checked as SQLite checks it when
 * loading the schema (what the key leaves out must not decide whether SQLite accepts it).
 */
function decodeSchema(trees: TableTrees, schemaFormat: number, pageCount: number): Schema {
  const found = new Map<string, SchemaTable>();
  const schemaBytes = new ByteKey();
  const roots = new Set<number>();
  let maxRoot = 0;
  schemaBytes.appendNumber(schemaFormat);
  trees.walk(1, (_rowid, payload) => {
    const record = new RecordView(payload, schemaFormat);
    check(record.length === 5, 'a schema row without five columns');
    record.appendColumns(schemaBytes, 0, 2);
    record.appendColumns(schemaBytes, 4, 4);
    const isTable = record.isText(0, 'table');
    const isView = !isTable && record.isText(0, 'view');
    const isIndex = !isTable && !isView && record.isText(0, 'index');
    check(isTable || isView || isIndex || record.isText(0, 'trigger'), 'a schema row of unknown type');
    check(record.storedBytes(4) <= MAX_SQL_BYTES, `a CREATE statement longer than ${MAX_SQL_BYTES} bytes`);
    // SQLite refuses a database whose schema has a row with a root page that is not an integer
    // from 0 to the page count ("invalid rootpage", sqlite3InitCallback) and an index sharing
    // its root page: every row is checked so, the key leaving root pages out. Tables and indexes
    // (never below page 2 in a database SQLite made) must also have a root page of their own.
    const root = record.value(3);
    check(typeof root === 'number' && Number.isInteger(root) && root >= 0 && root <= pageCount, 'a schema row with an impossible root page');
    maxRoot = Math.max(maxRoot, root);
    if (isTable || isIndex) {
      check(root >= 2 && !roots.has(root), 'a table or index with an impossible or shared root page');
      roots.add(root);
    }
    // Only names as long as "system" or "repository"/"permission" can matter: others stay undecoded.
    if (!(isTable || isView) || !(record.isTextOfLength(1, 6) || record.isTextOfLength(1, 10))) return;
    const [, name, , , sql] = record.values();
    check(typeof name === 'string' && typeof root === 'number' && (sql === null || typeof sql === 'string'), 'a schema row of unexpected types');
    const key = asciiLower(name);
    if (!(key in KNOWN_TABLES)) return;
    if (found.has(key)) fail(`two schema entries named ${key}`);
    if (isView) {
      // `FROM system` would read a view; inspect's check for the optional tables looks for tables only.
      check(key !== 'system', 'a view named system');
      return;
    }
    found.set(key, { name, root, sql });
  });
  return { tables: found, schema: schemaBytes.copy(), maxRoot };
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * The rows of one of Trac's tables, `columns` values each (a shorter record ends in NULLs),
 * decoding only the columns `wanted` (the others are null).
 */
function readTable(trees: TableTrees, table: SchemaTable, columns: number, schemaFormat: number, wanted: readonly number[]): SqlValue[][] {
  const sql = table.sql === null ? null : normalizedSql(table.sql);
  if (!(sql !== null && KNOWN_TABLES[table.name]!.includes(sql))) fail(`table ${table.name} is not defined as Trac defines it`);
  if (!(Number.isInteger(table.root) && table.root >= 2)) fail(`table ${table.name} has root page ${table.root}`);
  const rows: SqlValue[][] = [];
  trees.walk(table.root, (_rowid, payload) => {
    const record = new RecordView(payload, schemaFormat);
    if (record.length > columns) fail(`a ${table.name} row with more columns than the table`);
    if (record.hasBlob()) fail(`a BLOB in table ${table.name}`);
    const values: SqlValue[] = new Array<SqlValue>(columns).fill(null);
    for (const column of wanted) if (column < record.length) values[column] = record.value(column);
    rows.push(values);
  });
  return rows;
}

/** The value of the one `database_version` row: undefined without one. */
function databaseVersion(rows: SqlValue[][]): SqlValue | undefined {
  const matches = rows.filter(([name]) => name === 'database_version');
  check(matches.length <= 1, 'two database_version rows');
  return matches[0]?.[1];
}

/**
 * A CREATE TABLE statement in one spelling: lower case, single spaces, none around parentheses
 * and commas. null for one with quotes, brackets or comments, where that would change meaning.
 */
export function normalizedSql(sql: string): string | null {
  let normalized = normalizedCache.get(sql);
  if (normalized === undefined) {
    normalized = normalize(sql);
    if (normalizedCache.size < 1000) normalizedCache.set(sql, normalized);
  }
  return normalized;
}

/** The statements seen, normalized (the environments of a parent directory share a few). */
const normalizedCache = new Map<string, string | null>();

function normalize(sql: string): string | null {
  if (/['"`[\]]|--|\/\*/.test(sql)) return null;
  return sql
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/ ?([(),]) ?/g, '$1')
    .trim();
}
