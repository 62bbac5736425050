import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { descriptorPath } from '../util/procfs.js';
import { confirmSchemaIfUnchanged, readTracTables, type RepositoryRow, type TracRows } from './sqliteFile/tracTables.js';
import type { Problem, Repository } from './types.js';

export interface SqliteFacts {
  databaseVersion: number | null;
  /** Repositories stored in the `repository` table (added with trac-admin repository add). */
  repositories: Repository[];
  /** Users and groups in the `permission` table that carry a DOMAIN\ prefix or an @REALM. */
  domainUsers: string[];
  problems: Problem[];
}

/** better-sqlite3, loaded on the first database the file reader leaves to SQLite, with its addon. */
let sqlite: { Database: typeof import('better-sqlite3'); nativeBinding: { nativeBinding?: string } } | undefined;

/**
 * better-sqlite3's addon where its install builds it (build/Release): handed to it directly, as
 * its `nativeBinding` option, instead of the `bindings` package searching a dozen places for it
 * from a stack trace (~4 ms of every inspect and generate of an SQLite environment). Anywhere
 * else (another build layout), better-sqlite3 finds it as it always does.
 */
function nativeBinding(): { nativeBinding?: string } {
  try {
    const file = path.join(path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
    return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ? { nativeBinding: file } : {};
  } catch {
    return {};
  }
}

/**
 * Reads what deployment needs from a Trac SQLite database, read-only and without waiting
 * more than a moment for a lock. Every failure becomes a problem, never an exception.
 *
 * The file is read directly first (sqliteFile/tracTables.ts: a few pages instead of SQLite
 * parsing the whole schema, which is most of the cost of inspecting a parent directory of
 * SQLite environments); whenever that reader is not sure to answer as SQLite would, SQLite
 * answers. TRAC_DEPLOY_SQLITE_FILE_READER=0 makes SQLite answer always.
 *
 * dbPath is the database as the environment names it (in messages); FILE the real path it was
 * resolved to (sqlitePath.ts), read by both readers: a regular file only, never a link, opened
 * read-only (SQLite creates nothing beside a database in rollback-journal mode, Trac's default;
 * see the README for WAL mode).
 */
export async function readSqliteFacts(dbPath: string, file = dbPath, { alone = false, real }: { alone?: boolean; real?: string } = {}): Promise<SqliteFacts> {
  // The only database of this run (inspect ENV, generate ENV): SQLite reads it anyway, since the
  // reader answers only for a schema SQLite accepted before in this thread; what the reader would
  // learn (the schema, for the databases after it) has no use, and its look at /proc/locks alone
  // costs ~10 ms on its first read (the kernel waits for an RCU grace period).
  const direct = alone || process.env.TRAC_DEPLOY_SQLITE_FILE_READER === '0' ? null : readTracTables(file);
  // The reader answers only after seeing FILE name the regular file it read (its last check):
  // the look below, whether FILE is a regular file, would say yes.
  if (direct !== null && 'rows' in direct) return factsOf(dbPath, direct.rows);
  // A missing file is common (synthetic or half-made environments): no need to load SQLite.
  if (!isFile(file)) {
    return { databaseVersion: null, repositories: [], domainUsers: [], problems: [{ code: 'database-missing', severity: 'error', message: `SQLite database ${dbPath} does not exist or cannot be opened`, path: dbPath }] };
  }
  try {
    const rows = await readTracTablesWithSqlite(file, real);
    // Only if SQLite read the very file the reader read: the path may name another one by now.
    if (direct !== null && direct.unconfirmedSchema !== undefined && direct.seen !== undefined) confirmSchemaIfUnchanged(file, direct.unconfirmedSchema, direct.seen);
    return factsOf(dbPath, rows);
  } catch (error) {
    return { databaseVersion: null, repositories: [], domainUsers: [], problems: [sqliteProblem(dbPath, error, real ?? file)] };
  }
}

/**
 * The same rows as readTracTables, from SQLite itself (better-sqlite3, read-only, waiting at
 * most 250 ms for a lock). Throws SQLite's errors. REAL (root's read through a directory held
 * open, sqlitePath.ts pinDatabase): SQLite follows a link in the last name, so what it opened is
 * checked before anything is read: a descriptor of this process must name REAL (one that a link
 * put there led elsewhere names that elsewhere).
 */
export async function readTracTablesWithSqlite(dbPath: string, real?: string): Promise<TracRows> {
  sqlite ??= { Database: (await import('better-sqlite3')).default, nativeBinding: nativeBinding() };
  const db = new sqlite.Database(dbPath, { readonly: true, fileMustExist: true, timeout: 250, ...sqlite.nativeBinding });
  try {
    if (real !== undefined && !openedHere(real)) {
      throw Object.assign(new Error(`${real} changed while it was opened (a link or another directory put in its place); it was not read`), { code: 'TRAC_DEPLOY_REPLACED' });
    }
    const row = db.prepare("SELECT value FROM system WHERE name = 'database_version'").get() as { value: unknown } | undefined;
    // Opening a database parses its whole schema (most of the cost of these facts): one query
    // for the optional tables instead of one per table.
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('repository', 'permission')").all() as { name: string }[]).map((t) => t.name));
    return {
      databaseVersion: row?.value,
      repository: tables.has('repository') ? (db.prepare('SELECT id, name, value FROM repository').all() as RepositoryRow[]) : null,
      permissionUsers: tables.has('permission') ? (db.prepare('SELECT DISTINCT username FROM permission').all() as { username: unknown }[]).map((r) => r.username) : null,
    };
  } finally {
    db.close();
  }
}

/** Whether a descriptor of this process is open on REAL (by the kernel's name for it). */
function openedHere(real: string): boolean {
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return false;
  }
  return fds.some((fd) => descriptorPath(Number(fd)) === real);
}

function factsOf(dbPath: string, rows: TracRows): SqliteFacts {
  const facts: SqliteFacts = { databaseVersion: null, repositories: repositoriesOf(rows.repository ?? []), domainUsers: domainUsersOf(rows.permissionUsers ?? []), problems: [] };
  if (rows.databaseVersion === undefined) {
    facts.problems.push({ code: 'database-version-missing', severity: 'warning', message: `${dbPath} has no database_version in its system table`, path: dbPath });
  } else {
    const version = Number.parseInt(String(rows.databaseVersion), 10);
    facts.databaseVersion = Number.isNaN(version) ? null : version;
  }
  return facts;
}

/** A regular file, not a link to one: FILE is a real path (sqlitePath.ts), and a link there now was put there since. */
function isFile(file: string): boolean {
  try {
    return fs.lstatSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

function repositoriesOf(rows: readonly RepositoryRow[]): Repository[] {
  const byId = new Map<unknown, Map<unknown, unknown>>();
  for (const row of rows) {
    const props = byId.get(row.id) ?? new Map<unknown, unknown>();
    props.set(row.name, row.value ?? '');
    byId.set(row.id, props);
  }
  const repositories: Repository[] = [];
  for (const props of byId.values()) {
    const text = (key: string) => {
      const value = props.get(key);
      return value === undefined ? undefined : String(value);
    };
    const name = text('name');
    // Trac's DbRepositoryProvider: a row set is a repository only with a dir or an alias. Every
    // repository, trac.ini's too, gets an id row with just its name (and youngest_rev after a
    // resync): those are not repositories of their own.
    if (name === undefined || !(props.has('dir') || props.has('alias'))) continue;
    repositories.push({
      name,
      type: text('type') || '',
      dir: text('dir') || null,
      alias: text('alias') || null,
      hidden: ['1', 'true', 'yes', 'enabled', 'on'].includes((text('hidden') ?? '').toLowerCase()),
      source: 'database',
    });
  }
  return repositories;
}

/**
 * The names with a domain or realm, in SQLite's BINARY order (UTF-8 bytes; the order of
 * Trac's permission index), so both readers list them alike.
 */
function domainUsersOf(users: readonly unknown[]): string[] {
  return users
    .filter((u): u is string => typeof u === 'string' && (u.includes('\\') || u.includes('@')))
    .map((u) => Buffer.from(u))
    .sort(Buffer.compare)
    .map((b) => b.toString());
}

function sqliteProblem(dbPath: string, error: unknown, file = dbPath): Problem {
  const code = (error as { code?: string }).code ?? '';
  const text = error instanceof Error ? error.message : String(error);
  if (/SQLITE_CANTOPEN/.test(code) || /does not exist/.test(text)) {
    return { code: 'database-missing', severity: 'error', message: `SQLite database ${dbPath} does not exist or cannot be opened`, path: dbPath };
  }
  if (code === 'SQLITE_READONLY_ROLLBACK') {
    // A hot journal: a writer stopped mid-transaction. Read-only, SQLite may not roll it back (and
    // trac-deploy changes nothing); Trac does, the next time it opens the database to write.
    return {
      code: 'database-unreadable',
      severity: 'error',
      message: `SQLite database ${dbPath} has an unfinished transaction in ${file}-journal (a process stopped while writing); trac-deploy reads databases read-only and did not roll it back, so its version and repositories were not read`,
      path: dbPath,
      advice: ['Trac rolls it back the next time it opens the database as a user who may write it (any trac-admin ENV command does), then inspect again'],
    };
  }
  if (/SQLITE_BUSY|SQLITE_LOCKED/.test(code)) {
    return { code: 'database-locked', severity: 'warning', message: `SQLite database ${dbPath} is locked by another process; its version could not be read`, path: dbPath };
  }
  return { code: 'database-unreadable', severity: 'error', message: `SQLite database ${dbPath} could not be read: ${text}`, path: dbPath };
}
