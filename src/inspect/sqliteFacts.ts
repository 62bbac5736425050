import fs from 'node:fs';
import type { Problem, Repository } from './types.js';

export interface SqliteFacts {
  databaseVersion: number | null;
  /** Repositories stored in the `repository` table (added with trac-admin repository add). */
  repositories: Repository[];
  /** Users and groups in the `permission` table that carry a DOMAIN\ prefix or an @REALM. */
  domainUsers: string[];
  problems: Problem[];
}

/** better-sqlite3, loaded on the first database (a parent directory opens thousands). */
let sqlite: typeof import('better-sqlite3') | undefined;

/**
 * Reads what deployment needs from a Trac SQLite database, read-only and without waiting
 * more than a moment for a lock. Every failure becomes a problem, never an exception.
 */
export async function readSqliteFacts(dbPath: string): Promise<SqliteFacts> {
  const facts: SqliteFacts = { databaseVersion: null, repositories: [], domainUsers: [], problems: [] };
  // A missing file is common (synthetic or half-made environments): no need to load SQLite.
  if (!isFile(dbPath)) {
    facts.problems.push({ code: 'database-missing', severity: 'error', message: `SQLite database ${dbPath} does not exist or cannot be opened`, path: dbPath });
    return facts;
  }
  const Database = (sqlite ??= (await import('better-sqlite3')).default);
  let db: import('better-sqlite3').Database | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 250 });
    const row = db.prepare("SELECT value FROM system WHERE name = 'database_version'").get() as
      | { value: string }
      | undefined;
    facts.databaseVersion = row ? Number.parseInt(row.value, 10) : null;
    if (row === undefined) {
      facts.problems.push({
        code: 'database-version-missing',
        severity: 'warning',
        message: `${dbPath} has no database_version in its system table`,
        path: dbPath,
      });
    }
    // Opening a database parses its whole schema (most of the cost of these facts): one query
    // for the optional tables instead of one per table.
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('repository', 'permission')").all() as { name: string }[]).map((t) => t.name));
    facts.repositories = tables.has('repository') ? readRepositoryTable(db) : [];
    facts.domainUsers = tables.has('permission') ? readDomainUsers(db) : [];
  } catch (error) {
    facts.problems.push(sqliteProblem(dbPath, error));
  } finally {
    db?.close();
  }
  return facts;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

function readRepositoryTable(db: import('better-sqlite3').Database): Repository[] {
  const rows = db.prepare('SELECT id, name, value FROM repository').all() as {
    id: number;
    name: string;
    value: string | null;
  }[];
  const byId = new Map<number, Map<string, string>>();
  for (const row of rows) {
    const props = byId.get(row.id) ?? new Map<string, string>();
    props.set(row.name, row.value ?? '');
    byId.set(row.id, props);
  }
  const repositories: Repository[] = [];
  for (const props of byId.values()) {
    const name = props.get('name');
    // Trac's DbRepositoryProvider: a row set is a repository only with a dir or an alias. Every
    // repository, trac.ini's too, gets an id row with just its name (and youngest_rev after a
    // resync): those are not repositories of their own.
    if (name === undefined || !(props.has('dir') || props.has('alias'))) continue;
    repositories.push({
      name,
      type: props.get('type') || '',
      dir: props.get('dir') || null,
      alias: props.get('alias') || null,
      hidden: ['1', 'true', 'yes', 'enabled', 'on'].includes((props.get('hidden') ?? '').toLowerCase()),
      source: 'database',
    });
  }
  return repositories;
}

function readDomainUsers(db: import('better-sqlite3').Database): string[] {
  const rows = db.prepare('SELECT DISTINCT username FROM permission').all() as { username: string }[];
  return rows.map((r) => r.username).filter((u) => u.includes('\\') || /@/.test(u));
}

function sqliteProblem(dbPath: string, error: unknown): Problem {
  const code = (error as { code?: string }).code ?? '';
  const text = error instanceof Error ? error.message : String(error);
  if (/SQLITE_CANTOPEN/.test(code) || /does not exist/.test(text)) {
    return { code: 'database-missing', severity: 'error', message: `SQLite database ${dbPath} does not exist or cannot be opened`, path: dbPath };
  }
  if (/SQLITE_BUSY|SQLITE_LOCKED/.test(code)) {
    return { code: 'database-locked', severity: 'warning', message: `SQLite database ${dbPath} is locked by another process; its version could not be read`, path: dbPath };
  }
  return { code: 'database-unreadable', severity: 'error', message: `SQLite database ${dbPath} could not be read: ${text}`, path: dbPath };
}
