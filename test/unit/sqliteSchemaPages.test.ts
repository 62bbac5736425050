import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTracTablesWithSqlite } from '../../src/inspect/sqliteFacts.js';
import { readTracTables, schemaDecodes } from '../../src/inspect/sqliteFile/tracTables.js';
import { ROOT } from '../helpers/paths.js';
import { readDirectly } from '../helpers/sqliteDirect.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * The reader's fast path for a schema table whose pages are byte for byte the last database's
 * (src/inspect/sqliteFile/schemaPages.ts): what it reuses, and what it must check again. Each
 * case reads a sound database first (its schema walk is then the one remembered), then one that
 * shares its schema pages, or all but one byte of them.
 */
const TRAC_SCHEMA = fs.readFileSync(path.join(ROOT, 'fixtures', 'sqlite', 'trac16-initenv.sql'), 'utf8');

async function tracDatabase(dir: string, name: string, extra = ''): Promise<string> {
  const file = path.join(dir, name);
  const db = new Database(file);
  db.exec(TRAC_SCHEMA + extra);
  db.close();
  return file;
}


function pageSize(file: string): number {
  return fs.readFileSync(file).readUInt16BE(16);
}

/** The pages of `names` (and the schema's), from SQLite's dbstat. */
function pagesOf(file: string, names: string[]): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT pageno FROM dbstat WHERE name IN (${['sqlite_schema', ...names].map(() => '?').join(', ')})`).all('sqlite_schema', ...names) as { pageno: number }[]).map((r) => r.pageno);
  } finally {
    db.close();
  }
}

describe('a schema whose pages equal the last database\'s', () => {
  it('is answered for again with the other file\'s own rows, whatever its page count', async () => {
    const dir = await tempDir();
    const first = await tracDatabase(dir, 'first.db');
    // More pages (another table grown) and other rows in Trac's tables, the schema pages alike.
    const second = await tracDatabase(dir, 'second.db', `; UPDATE system SET value = '44' WHERE name = 'database_version'; INSERT INTO permission VALUES ('CORP\\x', 'X'); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO wiki (name, version, text) SELECT 'P' || i, 1, hex(randomblob(200)) FROM n;`);
    const bytes = [first, second].map((file) => fs.readFileSync(file));
    expect(bytes[1]!.length).toBeGreaterThan(bytes[0]!.length);
    const schemaPages = pagesOf(first, []);
    for (const page of schemaPages) {
      const size = pageSize(first);
      const [a, b] = bytes.map((all) => all.subarray((page - 1) * size + (page === 1 ? 100 : 0), page * size));
      expect(a!.equals(b!), `schema page ${page}`).toBe(true);
    }
    expect(await readDirectly(first)).toMatchObject({ rows: { databaseVersion: '45' } });
    const decoded = schemaDecodes.count;
    const direct = readTracTables(second);
    expect(direct).toMatchObject({ rows: { databaseVersion: '44' } });
    // Its schema was not decoded again: the first one's pages were compared, and were the same.
    expect(schemaDecodes.count).toBe(decoded);
    expect('rows' in direct && direct.rows.permissionUsers).toContain('CORP\\x');
    const bySqlite = await readTracTablesWithSqlite(second);
    if (!('rows' in direct)) throw new Error('read directly');
    expect({ ...direct.rows, permissionUsers: direct.rows.permissionUsers?.map(String).sort() }).toEqual({ ...bySqlite, permissionUsers: bySqlite.permissionUsers?.map(String).sort() });
  });

  it('falls back when a row names a root page beyond this file, though the pages are the same', async () => {
    const dir = await tempDir();
    const file = await tracDatabase(dir, 'trac.db');
    const size = pageSize(file);
    const needed = Math.max(...pagesOf(file, ['system', 'repository', 'permission']));
    const bytes = fs.readFileSync(file);
    const pages = bytes.length / size;
    // A file cut short after the pages the reader reads: the schema's last tables lie beyond it.
    expect(needed).toBeLessThan(pages - 5);
    const cut = Buffer.from(bytes.subarray(0, needed * size));
    cut.writeUInt32BE(needed, 28);
    const short = path.join(dir, 'short.db');
    fs.writeFileSync(short, cut);
    expect(await readDirectly(file)).toHaveProperty('rows');
    expect(readTracTables(short)).toMatchObject({ fallback: 'a schema row with an impossible root page' });
    await expect(readTracTablesWithSqlite(short)).rejects.toThrow(/invalid rootpage/);
  });

  it('counts the schema\'s pages as reached: a table leading back to one falls back as before', async () => {
    const dir = await tempDir();
    const file = await tracDatabase(dir, 'trac.db');
    const size = pageSize(file);
    const db = new Database(file, { readonly: true });
    const systemRoot = (db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'system'").get() as { rootpage: number }).rootpage;
    db.close();
    // system's root made an interior page without cells whose right child is page 1.
    const bytes = fs.readFileSync(file);
    const at = (systemRoot - 1) * size;
    bytes.fill(0, at, at + size);
    bytes[at] = 0x05;
    bytes.writeUInt16BE(size, at + 5);
    bytes.writeUInt32BE(1, at + 8);
    const looped = path.join(dir, 'looped.db');
    fs.writeFileSync(looped, bytes);
    expect(await readDirectly(file)).toHaveProperty('rows');
    expect(readTracTables(looped)).toMatchObject({ fallback: 'page 1 is reached twice' });
  });

  it('decodes a schema again when one byte differs: a root page, which the schema key leaves out', async () => {
    const dir = await tempDir();
    const file = await tracDatabase(dir, 'trac.db', "; INSERT INTO permission VALUES ('database_version', '7');");
    const swapped = path.join(dir, 'swapped.db');
    fs.copyFileSync(file, swapped);
    // system's and permission's root pages swapped (both tables of two text columns).
    const patch = new Database(swapped);
    const root = (name: string) => (patch.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').get(name) as { rootpage: number }).rootpage;
    const [system, permission] = [root('system'), root('permission')];
    patch.unsafeMode(true);
    patch.pragma('writable_schema = ON');
    patch.prepare("UPDATE sqlite_master SET rootpage = CASE name WHEN 'system' THEN ? ELSE ? END WHERE name IN ('system', 'permission')").run(permission, system);
    patch.close();
    const [a, b] = [file, swapped].map((f) => fs.readFileSync(f));
    const differing = [...a!.keys()].filter((i) => i >= 100 && a![i] !== b![i]);
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.length).toBeLessThanOrEqual(2);
    expect(await readDirectly(file)).toMatchObject({ rows: { databaseVersion: '45' } });
    const direct = readTracTables(swapped);
    expect(direct).toMatchObject({ rows: { databaseVersion: '7' } });
    expect('rows' in direct && direct.rows.permissionUsers).toContain('initial_database_version');
  });
});
