import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTracTablesWithSqlite } from '../../src/inspect/sqliteFacts.js';
import { NotUnderstood } from '../../src/inspect/sqliteFile/notUnderstood.js';
import { READ_BUDGET } from '../../src/inspect/sqliteFile/pageFile.js';
import { ByteKey, RecordView } from '../../src/inspect/sqliteFile/record.js';
import { confirmSchema, confirmSchemaIfUnchanged, MAX_SQL_BYTES, normalizedSql, readTracTables, type TracRows } from '../../src/inspect/sqliteFile/tracTables.js';
import { ROOT } from '../helpers/paths.js';
import { readDirectly } from '../helpers/sqliteDirect.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * The SQLite file reader (src/inspect/sqliteFile/) against SQLite itself: databases built with
 * better-sqlite3, from the schema of a real `trac-admin initenv` database and at random (page
 * sizes 512..65536, auto-vacuum, thousands of rows spanning interior pages, values spilling into
 * overflow pages, deleted rows on the freelist, negative and huge rowids, WAL), each read by
 * both: the reader's rows must equal SQLite's, or the reader must have fallen back. Databases it
 * must understand are required to be read directly, so the comparison cannot pass by falling
 * back every time.
 */
const TRAC_SCHEMA = fs.readFileSync(path.join(ROOT, 'fixtures', 'sqlite', 'trac16-initenv.sql'), 'utf8');

/** A small seeded generator (mulberry32): a failing case is named by its seed and reproduces. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;
  const text = (length: number) => {
    const alphabet = ['a', 'b', 'Z', '0', ' ', '\\', '@', '.', '-', 'é', 'ß', '中', '文', '😀', '\u00a0'];
    let out = '';
    while (out.length < length) out += pick(alphabet);
    return out;
  };
  return { next, int, pick, text };
}

/** SQLite's rows and the reader's, the DISTINCT users in one order (the query has no ORDER BY). */
function canonical(rows: TracRows): TracRows {
  const key = (u: unknown) => JSON.stringify(u);
  return { ...rows, permissionUsers: rows.permissionUsers && [...rows.permissionUsers].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) };
}


/**
 * The reader first (SQLite may leave -wal/-shm files behind), then SQLite. Returns the reader's
 * reason for falling back, or null when it answered, and then its answer equals SQLite's.
 */
async function differential(file: string): Promise<string | null> {
  const direct = await readDirectly(file);
  if ('fallback' in direct) return direct.fallback;
  const bySqlite = await readTracTablesWithSqlite(file);
  expect(canonical(direct.rows)).toEqual(canonical(bySqlite));
  return null;
}

/**
 * What the reader has to read in a database (the schema and Trac's three tables), from SQLite's
 * dbstat: its bytes, and whether it holds interior and overflow pages.
 */
function pagesToRead(file: string): { bytes: number; interior: boolean; overflow: boolean } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare("SELECT pagetype, sum(pgsize) AS bytes FROM dbstat WHERE name IN ('sqlite_schema', 'system', 'repository', 'permission') GROUP BY pagetype").all() as { pagetype: string; bytes: number }[];
    return { bytes: rows.reduce((sum, row) => sum + row.bytes, 0), interior: rows.some((row) => row.pagetype === 'internal'), overflow: rows.some((row) => row.pagetype === 'overflow') };
  } finally {
    db.close();
  }
}

interface Shape {
  pageSize: number;
  autoVacuum: 0 | 1 | 2;
  wal: boolean;
  repositoryRows: number;
  permissionRows: number;
  fillerRows: number;
  longValues: boolean;
  deleteShare: number;
  oddRowids: boolean;
}

function randomShape(r: ReturnType<typeof random>): Shape {
  return {
    pageSize: r.pick([512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]),
    autoVacuum: r.pick([0, 1, 2] as const),
    wal: r.next() < 0.3,
    repositoryRows: r.pick([0, 3, 40, 400, 2000]),
    permissionRows: r.pick([0, 5, 60, 600, 2000]),
    fillerRows: r.pick([0, 20, 100]),
    longValues: r.next() < 0.5,
    deleteShare: r.pick([0, 0, 0.1, 0.5, 0.9]),
    oddRowids: r.next() < 0.3,
  };
}

/** A Trac-like database of `shape` at `file`, closed (a WAL one checkpointed and its WAL gone). */
function build(file: string, shape: Shape, r: ReturnType<typeof random>): void {
  const db = new Database(file);
  // No fsync: these files only have to be what SQLite leaves, not to survive a crash.
  db.pragma('synchronous = OFF');
  db.pragma(`page_size = ${shape.pageSize}`);
  db.pragma(`auto_vacuum = ${shape.autoVacuum}`);
  if (shape.wal) db.pragma('journal_mode = WAL');
  db.exec(TRAC_SCHEMA);
  const usable = shape.pageSize;
  // Values of every length around what fits on a page (the local/overflow split), and beyond.
  const valueLength = () => (shape.longValues && r.next() < 0.02 ? r.pick([usable - 40 + r.int(20), usable + r.int(usable), 3 * usable + r.int(100), r.int(200)]) : r.int(60));
  const filler = db.prepare('INSERT INTO wiki (name, version, time, author, text) VALUES (?, ?, ?, ?, ?)');
  const repository = db.prepare(`INSERT OR IGNORE INTO repository (${shape.oddRowids ? 'rowid, ' : ''}id, name, value) VALUES (${shape.oddRowids ? '?, ' : ''}?, ?, ?)`);
  const permission = db.prepare(`INSERT OR IGNORE INTO permission (${shape.oddRowids ? 'rowid, ' : ''}username, action) VALUES (${shape.oddRowids ? '?, ' : ''}?, ?)`);
  const oddRowid = () => r.pick([-(2 ** 40) - r.int(1000), -1 - r.int(100), 2 ** 50 + r.int(1e6), r.int(1e9), 2 ** 53 - 1 - r.int(1000)]);
  const users = Array.from({ length: 1 + r.int(40) }, (_, i) => r.pick(['', 'CORP\\', 'EXAMPLE\\']) + r.text(1 + r.int(12)) + r.pick(['', '', '@EXAMPLE.COM', '@x']) + i);
  const names = ['name', 'dir', 'type', 'alias', 'hidden', 'description', 'youngest_rev', 'url'];
  db.transaction(() => {
    let filled = 0;
    for (let i = 0; i < Math.max(shape.repositoryRows, shape.permissionRows, shape.fillerRows); i++) {
      if (i < shape.repositoryRows) {
        const id = r.next() < 0.05 ? r.pick([null, 1.5, 'x', -7, 2 ** 45]) : Math.floor(i / names.length) + 1;
        const value = r.next() < 0.05 ? null : r.text(valueLength());
        const args = [id, names[i % names.length]!, value];
        repository.run(...(shape.oddRowids ? [oddRowid(), ...args] : args));
      }
      if (i < shape.permissionRows) {
        const user = r.next() < 0.01 ? null : r.pick(users);
        const args = [user, r.pick(['TRAC_ADMIN', 'WIKI_VIEW', 'TICKET_VIEW', r.text(valueLength())])];
        permission.run(...(shape.oddRowids ? [oddRowid(), ...args] : args));
      }
      if (filled < shape.fillerRows && r.next() < 0.5) {
        filler.run(`Page${filled++}`, 1, 0, 'admin', r.text(r.int(Math.min(3 * usable, 20_000))));
      }
    }
    if (shape.deleteShare > 0) {
      for (const table of ['repository', 'permission', 'wiki']) db.prepare(`DELETE FROM ${table} WHERE abs(rowid * 7919) % 100 < ?`).run(Math.round(shape.deleteShare * 100));
    }
    const version = r.next();
    if (version < 0.05) db.exec("DELETE FROM system WHERE name = 'database_version'");
    else if (version < 0.1) db.prepare("UPDATE system SET value = ? WHERE name = 'database_version'").run(r.pick(['', 'abc', '44x', ' 12', r.text(valueLength())]));
  })();
  db.close();
}


/** An empty database of Trac's schema, trac.db in a temporary directory of its own. */
async function tracDatabase(): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  const file = path.join(dir, 'trac.db');
  const db = new Database(file);
  db.exec(TRAC_SCHEMA);
  db.close();
  return { dir, file };
}
describe('the SQLite file reader answers as SQLite does', () => {
  it('a database made from trac-admin initenv\'s schema is read directly', async () => {
    const file = path.join(await tempDir(), 'trac.db');
    const db = new Database(file);
    db.exec(TRAC_SCHEMA);
    db.exec("INSERT INTO repository VALUES (1, 'name', 'website'), (1, 'dir', '/srv/git/website.git'), (1, 'type', 'git'), (2, 'name', 'old')");
    db.exec("INSERT INTO permission VALUES ('CORP\\alice', 'TRAC_ADMIN'), ('bob@EXAMPLE.COM', 'WIKI_VIEW')");
    db.close();
    expect(await differential(file)).toBeNull();
    const direct = readTracTables(file);
    expect(direct).toMatchObject({ rows: { databaseVersion: '45', repository: [{ id: 1, name: 'name', value: 'website' }, {}, {}, { id: 2 }] } });
  });

  it('random Trac-like databases: every page size, auto-vacuum, WAL, overflow, freelist, odd rowids', async () => {
    const dir = await tempDir();
    const fallbacks: string[] = [];
    let budgetFallbacks = 0;
    const covered = new Set<string>();
    for (let seed = 1; seed <= 80; seed++) {
      const r = random(seed);
      const shape = randomShape(r);
      const file = path.join(dir, `random-${seed}.db`);
      build(file, shape, r);
      const pages = pagesToRead(file);
      const tooLarge = pages.bytes > READ_BUDGET - 16 * 1024;
      if (!tooLarge) {
        if (pages.interior) covered.add('interior pages');
        if (pages.overflow) covered.add('overflow pages');
        if (shape.wal) covered.add('WAL');
        if (shape.autoVacuum) covered.add('auto-vacuum');
        if (shape.deleteShare) covered.add('freelist');
        if (shape.oddRowids) covered.add('odd rowids');
        covered.add(`page size ${shape.pageSize}`);
      }
      const fallback = await differential(file);
      if (tooLarge) budgetFallbacks++;
      if (fallback !== null && !(tooLarge && /bytes to read/.test(fallback))) fallbacks.push(`seed ${seed} ${JSON.stringify(shape)}: ${fallback}`);
      if (tooLarge && fallback === null) fallbacks.push(`seed ${seed}: read past its budget`);
      fs.rmSync(file);
    }
    // Every one of these is a database the reader understands: none may fall back, except for
    // tables too large to read within the budget (then SQLite reads them).
    expect(fallbacks).toEqual([]);
    expect(budgetFallbacks).toBeLessThan(20);
    // What the random databases exercised, among those read directly.
    expect([...covered].sort()).toEqual(['WAL', 'auto-vacuum', 'freelist', 'interior pages', 'odd rowids', 'overflow pages', ...[1024, 16384, 2048, 32768, 4096, 512, 65536, 8192].map((size) => `page size ${size}`)]);
  }, 120_000);

  it('pages that reserve bytes at their end (fixtures/sqlite/reserved-bytes.sh), with overflow pages', async () => {
    const file = path.join(await tempDir(), 'trac.db');
    fs.copyFileSync(path.join(ROOT, 'fixtures', 'sqlite', 'reserved-bytes.db'), file);
    const bytes = fs.readFileSync(file);
    expect([bytes.readUInt16BE(16), bytes[20]]).toEqual([512, 32]);
    expect(pagesToRead(file).overflow).toBe(true);
    expect(await differential(file)).toBeNull();
    expect(readTracTables(file)).toMatchObject({ rows: { repository: expect.arrayContaining([expect.objectContaining({ id: 12 })]) } });
  });

  it('missing optional tables, tables named in another case, views: as SQLite\'s answers', async () => {
    const dir = await tempDir();
    const cases: Record<string, string> = {
      'only system': "CREATE TABLE system (name text PRIMARY KEY, value text); INSERT INTO system VALUES ('database_version', '45');",
      'upper-case names': "CREATE TABLE system (name text PRIMARY KEY, value text); CREATE TABLE REPOSITORY (id integer, name text, value text, UNIQUE (id,name)); INSERT INTO REPOSITORY VALUES (1, 'dir', '/x'); CREATE TABLE Permission (username text, action text, UNIQUE (username,action)); INSERT INTO Permission VALUES ('a@b', 'X');",
      'views': "CREATE TABLE system (name text PRIMARY KEY, value text); CREATE TABLE r (id integer, name text, value text); CREATE VIEW repository AS SELECT * FROM r; CREATE VIEW permission AS SELECT 'a@b' AS username;",
      'no database_version': "CREATE TABLE system (name text PRIMARY KEY, value text); INSERT INTO system VALUES ('initial_database_version', '45');",
      'NULL version, NULL ids and users': "CREATE TABLE system (name text PRIMARY KEY, value text); INSERT INTO system VALUES ('database_version', NULL); CREATE TABLE repository (id integer, name text, value text, UNIQUE (id,name)); INSERT INTO repository VALUES (NULL, 'dir', NULL); CREATE TABLE permission (username text, action text, UNIQUE (username,action)); INSERT INTO permission VALUES (NULL, 'X'), (NULL, 'Y');",
    };
    for (const [name, sql] of Object.entries(cases)) {
      const file = path.join(dir, `${name}.db`);
      const db = new Database(file);
      db.exec(sql);
      db.close();
      expect(await differential(file), name).toBeNull();
    }
  });

  it('falls back for what it does not understand, and SQLite answers', async () => {
    const dir = await tempDir();
    const cases: Record<string, [sql: string, reason: RegExp, pragma?: string]> = {
      'WITHOUT ROWID': ['CREATE TABLE system (name text PRIMARY KEY, value text) WITHOUT ROWID', /not defined as Trac defines it/],
      'an added column': ['CREATE TABLE system (name text PRIMARY KEY, value text); ALTER TABLE system ADD COLUMN extra text', /not defined as Trac defines it/],
      'a quoted name': ['CREATE TABLE "system" (name text PRIMARY KEY, value text)', /not defined as Trac defines it/],
      'no system table': ['CREATE TABLE other (x)', /no table named exactly "system"/],
      'system in another case': ['CREATE TABLE SYSTEM (name text PRIMARY KEY, value text)', /no table named exactly "system"/],
      'system as a view': ["CREATE VIEW system AS SELECT 'database_version' AS name, '45' AS value", /a view named system/],
      'a BLOB value': ["CREATE TABLE system (name text PRIMARY KEY, value text); INSERT INTO system VALUES ('database_version', x'3435')", /BLOB/],
      'UTF-16': ["CREATE TABLE system (name text PRIMARY KEY, value text); INSERT INTO system VALUES ('database_version', '45')", /text encoding 2/, "encoding = 'UTF-16le'"],
      'an empty database': ['', /smaller than one page/],
    };
    for (const [name, [sql, reason, pragma]] of Object.entries(cases)) {
      const file = path.join(dir, `${name}.db`);
      const db = new Database(file);
      if (pragma) db.pragma(pragma);
      db.exec(sql);
      db.close();
      const direct = readTracTables(file);
      expect(direct, name).toHaveProperty('fallback');
      expect((direct as { fallback: string }).fallback, name).toMatch(reason);
    }
  });

  it('falls back while a WAL holds changes, and reads the database once they are checkpointed', async () => {
    const file = path.join(await tempDir(), 'trac.db');
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.exec(TRAC_SCHEMA);
    writer.pragma('wal_checkpoint(TRUNCATE)');
    expect(await readDirectly(file)).toHaveProperty('fallback', 'a process holds a lock on the database');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec("INSERT INTO permission VALUES ('CORP\\carol', 'WIKI_VIEW')");
    expect(readTracTables(file)).toHaveProperty('fallback', 'a wal file with content');
    expect((await readTracTablesWithSqlite(file)).permissionUsers).toContain('CORP\\carol');
    writer.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    expect(await differential(file)).toBeNull();
    expect(readTracTables(file)).toMatchObject({ rows: { permissionUsers: expect.arrayContaining(['CORP\\carol']) } });
  });

  it('falls back while another connection holds a lock, or a journal is left behind', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'trac.db');
    const db = new Database(file);
    db.exec(TRAC_SCHEMA);
    db.exec('BEGIN EXCLUSIVE');
    expect(readTracTables(file)).toEqual({ fallback: 'a process holds a lock on the database' });
    db.exec('ROLLBACK');
    db.close();
    expect(readTracTables(file)).toHaveProperty('rows');
    fs.writeFileSync(`${file}-journal`, 'not empty');
    expect(readTracTables(file)).toEqual({ fallback: 'a journal file with content' });
    fs.writeFileSync(`${file}-journal`, '');
    expect(readTracTables(file)).toHaveProperty('rows');
  });

  it('sees a lock on the database among thousands in /proc/locks (listed a page per read)', async () => {
    const { dir, file } = await tracDatabase();
    expect(await readDirectly(file)).toHaveProperty('rows');
    for (const dbFirst of [true, false]) {
      // Another process (fcntl locks are per process) locks 3,000 bytes of another file and one of the database's.
      const script = `import fcntl, sys
other = open(sys.argv[2], 'w+'); db = open(sys.argv[1], 'r+')
def lock_db(): fcntl.lockf(db, fcntl.LOCK_SH, 1, 1073741826)
if sys.argv[3] == '1': lock_db()
for i in range(3000): fcntl.lockf(other, fcntl.LOCK_EX, 1, 2 * i)
if sys.argv[3] == '0': lock_db()
print('ready', flush=True); sys.stdin.read()`;
      const holder = spawn('python3', ['-c', script, file, path.join(dir, 'other'), dbFirst ? '1' : '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          holder.stdout.once('data', () => resolve());
          holder.once('exit', (code) => reject(new Error(`python3 exited ${code}`)));
        });
        expect(fs.readFileSync('/proc/locks').length).toBeGreaterThan(64 * 1024);
        expect(readTracTables(file), `database locked ${dbFirst ? 'first' : 'last'}`).toEqual({ fallback: 'a process holds a lock on the database' });
      } finally {
        holder.stdin.end();
        await new Promise((resolve) => holder.once('exit', resolve));
      }
    }
    expect(readTracTables(file)).toHaveProperty('rows');
  });

  it('falls back for a symlink, a directory and a file that changes while it is read', async () => {
    const { dir, file } = await tracDatabase();
    fs.symlinkSync(file, path.join(dir, 'link.db'));
    expect(readTracTables(path.join(dir, 'link.db'))).toEqual({ fallback: 'cannot open: ELOOP' });
    expect(readTracTables(dir)).toEqual({ fallback: 'not a regular file' });
    const changed = readTracTables(file, {
      afterRead: () => {
        const writer = new Database(file);
        writer.exec("INSERT INTO permission VALUES ('x@y', 'Z')");
        writer.close();
      },
    });
    expect(changed).toEqual({ fallback: expect.stringMatching(/changed while it was read/) });
    // Another directory renamed over the database's while it is read: the file read is unchanged
    // (not even its ctime, as renaming a file over it would change), but SQLite would open another.
    fs.mkdirSync(path.join(dir, 'db'));
    const inDb = path.join(dir, 'db', 'trac.db');
    fs.copyFileSync(file, inDb);
    await readDirectly(inDb);
    expect(readTracTables(inDb)).toHaveProperty('rows');
    fs.mkdirSync(path.join(dir, 'db-new'));
    fs.copyFileSync(file, path.join(dir, 'db-new', 'trac.db'));
    const replaced = readTracTables(inDb, {
      afterRead: () => {
        fs.renameSync(path.join(dir, 'db'), path.join(dir, 'db-old'));
        fs.renameSync(path.join(dir, 'db-new'), path.join(dir, 'db'));
      },
    });
    expect(replaced).toEqual({ fallback: 'the path names another file since it was opened' });
  });

  it('a header whose page count is not vouched for by its change counter: the file size counts', async () => {
    const file = path.join(await tempDir(), 'trac.db');
    const db = new Database(file);
    db.exec(TRAC_SCHEMA);
    db.close();
    const bytes = fs.readFileSync(file);
    bytes.writeUInt32BE(bytes.readUInt32BE(24) + 1, 92);
    fs.writeFileSync(file, bytes);
    expect(await differential(file)).toBeNull();
    bytes.writeUInt32BE(bytes.readUInt32BE(28) + 5, 28);
    bytes.writeUInt32BE(bytes.readUInt32BE(24), 92);
    fs.writeFileSync(file, bytes);
    expect(readTracTables(file)).toEqual({ fallback: expect.stringMatching(/beyond the file/) });
  });

  it('damaged files: the reader never throws, and where SQLite and it both answer, they agree', async () => {
    const dir = await tempDir();
    const r = random(4242);
    const original = path.join(dir, 'original.db');
    build(original, { pageSize: 1024, autoVacuum: 0, wal: false, repositoryRows: 300, permissionRows: 300, fillerRows: 20, longValues: true, deleteShare: 0.1, oddRowids: false }, r);
    const bytes = fs.readFileSync(original);
    // Which object each page belongs to: damage to an index (which SQLite reads for these
    // queries and the reader does not) may make SQLite's answer differ from the table's.
    const owner = new Map<number, string>();
    const stat = new Database(original, { readonly: true });
    for (const row of stat.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[]) owner.set(row.pageno, row.name);
    const indexes = new Set((stat.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map((i) => i.name));
    stat.close();
    const readPages = new Set([...owner].filter(([, name]) => ['sqlite_schema', 'system', 'repository', 'permission'].includes(name)).map(([page]) => page));
    let answered = 0;
    for (let i = 0; i < 300; i++) {
      const damaged = Buffer.from(bytes);
      const pages = [...readPages];
      const touched: number[] = [];
      for (let k = 1 + r.int(4); k > 0; k--) {
        const page = r.next() < 0.8 ? r.pick(pages) : 1 + r.int(bytes.length / 1024);
        const offset = (page - 1) * 1024 + (page === 1 && r.next() < 0.3 ? r.int(100) : r.int(1024));
        damaged[offset] = r.int(256);
        touched.push(page);
      }
      const file = path.join(dir, `damaged-${i}.db`);
      fs.writeFileSync(file, damaged);
      let direct = readTracTables(file);
      if ('unconfirmedSchema' in direct && direct.unconfirmedSchema !== undefined) {
        const schema = direct.unconfirmedSchema;
        // As readSqliteFacts: SQLite reads it, and only if it accepts the schema does the reader answer.
        const accepted = await readTracTablesWithSqlite(file).then(() => true, () => false);
        if (accepted) {
          confirmSchema(schema);
          direct = readTracTables(file);
        }
      }
      if ('rows' in direct) {
        answered++;
        let bySqlite: TracRows | null = null;
        try {
          bySqlite = await readTracTablesWithSqlite(file);
        } catch {
          // SQLite refused the file where the reader did not: only damage outside what the reader reads may do that.
          expect(touched.some((page) => !readPages.has(page)), `damaged-${i}: pages ${touched}`).toBe(true);
        }
        // SQLite answers system's and permission's queries through their indexes: damage to those
        // tables' rows (or to the indexes) makes the table and its index disagree, and only the
        // table is the reader's to read. The schema's and repository's pages are read alike.
        const readAlike = (page: number) => ['sqlite_schema', 'repository'].includes(owner.get(page) ?? '') || !(indexes.has(owner.get(page) ?? '') || ['system', 'permission'].includes(owner.get(page) ?? ''));
        if (bySqlite !== null && touched.every(readAlike)) {
          expect(canonical(direct.rows), `damaged-${i}: pages ${touched}`).toEqual(canonical(bySqlite));
        }
      }
      fs.rmSync(file);
    }
    // Some damage falls where nothing is read (free space, other tables): those are answered.
    expect(answered).toBeGreaterThan(0);
  }, 120_000);

  it('answers only for a schema SQLite has accepted: one malformed CREATE statement anywhere, and SQLite reports it', async () => {
    const { dir, file } = await tracDatabase();
    // Reading it once through SQLite vouches for the schema (the first database of a parent directory).
    const confirmed = await readDirectly(file);
    expect(confirmed).toHaveProperty('rows');
    expect(readTracTables(file)).toHaveProperty('rows');
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf('CREATE TABLE component');
    expect(at).toBeGreaterThan(0);
    bytes.write('CREATE TABXE component', at, 'latin1');
    const damaged = path.join(dir, 'damaged.db');
    fs.writeFileSync(damaged, bytes);
    const direct = readTracTables(damaged);
    expect(direct).toMatchObject({ fallback: 'a schema SQLite has not yet accepted in this process' });
    await expect(readTracTablesWithSqlite(damaged)).rejects.toThrow(/malformed database schema/);
    expect(readTracTables(damaged)).toHaveProperty('unconfirmedSchema');
    // Another schema, once accepted, is read too, and so is the first again (looked up, not the last).
    const other = path.join(dir, 'other.db');
    const otherDb = new Database(other);
    otherDb.exec("CREATE TABLE system (name text PRIMARY KEY, value text); INSERT INTO system VALUES ('database_version', '7')");
    otherDb.close();
    expect(await readDirectly(other)).toMatchObject({ rows: { databaseVersion: '7', repository: null, permissionUsers: null } });
    expect(readTracTables(file)).toMatchObject({ rows: { databaseVersion: '45' } });
    expect(readTracTables(other)).toMatchObject({ rows: { databaseVersion: '7' } });
  });

  it('falls back for a schema row whose root page SQLite refuses, though the schema was accepted', async () => {
    const { dir, file } = await tracDatabase();
    expect(await readDirectly(file)).toHaveProperty('rows');
    const cases = [
      "UPDATE sqlite_master SET rootpage = 999999 WHERE name = 'ticket'",
      "UPDATE sqlite_master SET rootpage = -3 WHERE name = 'ticket'",
      "UPDATE sqlite_master SET rootpage = 999999 WHERE name = 'ticket_time_idx'",
    ];
    // Two indexes of different tables on one b-tree: SQLite accepts it and lists system's names as
    // permission's users (through the index); the reader, which reads the table, must not answer.
    const shared = "UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_system_1') WHERE name = 'sqlite_autoindex_permission_1'";
    for (const [i, sql] of [...cases, shared].entries()) {
      const copy = path.join(dir, `copy-${i}.db`);
      fs.copyFileSync(file, copy);
      const patch = new Database(copy);
      patch.unsafeMode(true);
      patch.pragma('writable_schema = ON');
      patch.exec(sql);
      patch.close();
      if (sql === shared) expect((await readTracTablesWithSqlite(copy)).permissionUsers).toContain('database_version');
      else await expect(readTracTablesWithSqlite(copy), sql).rejects.toThrow(/malformed database schema \(\w+\) - invalid rootpage/);
      expect(readTracTables(copy), sql).toHaveProperty('fallback');
    }
  });

  it('keeps nothing of a long CREATE statement or a large schema: SQLite reads those, every time', async () => {
    const dir = await tempDir();
    const columns = (n: number, width: number) => Array.from({ length: n }, (_, i) => `c${i}_${'x'.repeat(width)} text`).join(', ');
    // One plugin table whose statement is longer than any Trac writes.
    const long = path.join(dir, 'long.db');
    const db = new Database(long);
    db.exec(TRAC_SCHEMA);
    db.exec(`CREATE TABLE plugin_wide (${columns(200, 20)})`);
    db.close();
    expect(MAX_SQL_BYTES).toBeLessThan(200 * 25);
    for (let pass = 0; pass < 2; pass++) {
      const direct = readTracTables(long);
      expect(direct).toMatchObject({ fallback: expect.stringMatching(/longer than/) });
      expect(direct).not.toHaveProperty('unconfirmedSchema');
      await readTracTablesWithSqlite(long);
    }
    // Many statements, each short, together larger than a key kept.
    const large = path.join(dir, 'large.db');
    const many = new Database(large);
    many.exec(TRAC_SCHEMA);
    for (let t = 0; t < 40; t++) many.exec(`CREATE TABLE plugin_${t} (${columns(60, 20)})`);
    many.close();
    const direct = readTracTables(large);
    expect(direct).toMatchObject({ fallback: expect.stringMatching(/schema larger than/) });
    expect(direct).not.toHaveProperty('unconfirmedSchema');
    await readTracTablesWithSqlite(large);
    expect(readTracTables(large)).not.toHaveProperty('rows');
  });

  it('confirms a schema only if SQLite read the very file the reader read', async () => {
    const dir = await tempDir();
    const good = path.join(dir, 'good.db');
    const db = new Database(good);
    db.exec(TRAC_SCHEMA);
    // A schema no other test has shown to SQLite.
    db.exec('CREATE TABLE confirm_test (x text)');
    db.close();
    const bytes = fs.readFileSync(good);
    bytes.write('CREATE TABXE milestone', bytes.indexOf('CREATE TABLE milestone'), 'latin1');
    const file = path.join(dir, 'trac.db');
    fs.writeFileSync(file, bytes);
    const direct = readTracTables(file);
    if (!('unconfirmedSchema' in direct && direct.unconfirmedSchema !== undefined && direct.seen !== undefined)) throw new Error(`read directly: ${JSON.stringify(direct)}`);
    // Between the reader's read and SQLite's, a sound database took the path: SQLite accepts it.
    const replacement = path.join(dir, 'replacement.db');
    fs.copyFileSync(good, replacement);
    fs.renameSync(replacement, file);
    await readTracTablesWithSqlite(file);
    expect(confirmSchemaIfUnchanged(file, direct.unconfirmedSchema, direct.seen)).toBe(false);
    // The malformed schema was not confirmed: read again, it is still SQLite's to judge.
    fs.writeFileSync(file, bytes);
    expect(readTracTables(file)).toHaveProperty('unconfirmedSchema');
    await expect(readTracTablesWithSqlite(file)).rejects.toThrow(/malformed database schema/);
    // The same file, unchanged since the reader read it, is confirmed.
    const sound = readTracTables(good);
    if (!('unconfirmedSchema' in sound && sound.unconfirmedSchema !== undefined && sound.seen !== undefined)) throw new Error('read directly');
    await readTracTablesWithSqlite(good);
    expect(confirmSchemaIfUnchanged(good, sound.unconfirmedSchema, sound.seen)).toBe(true);
    expect(readTracTables(good)).toHaveProperty('rows');
  });

  it('normalizes CREATE TABLE statements only where spelling cannot change meaning', () => {
    expect(normalizedSql('CREATE TABLE system (\n    name text PRIMARY KEY,\n    value text\n)')).toBe('create table system(name text primary key,value text)');
    expect(normalizedSql('CREATE TABLE "system" (name text)')).toBeNull();
    expect(normalizedSql('CREATE TABLE system (name text -- comment\n)')).toBeNull();
  });
});

/** SQLite's varint of `value` in exactly `bytes` bytes (1 to 8): 7 bits a byte, big-endian. */
function varint(value: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push((Math.floor(value / 2 ** (7 * i)) & 0x7f) | (i > 0 ? 0x80 : 0));
  return out;
}

describe('records as SQLite reads them', () => {
  it('a serial type beyond 2^32 (a five-byte varint) is not taken for its low 32 bits', () => {
    // TEXT of 3 bytes is type 19; 19 + 2^32 claims 2 GiB of text: SQLite calls the record corrupt.
    const huge = Uint8Array.from([6, ...varint(2 ** 32 + 19, 5), 0x61, 0x62, 0x63]);
    expect(() => new RecordView(huge, 4)).toThrow(NotUnderstood);
    expect(new RecordView(Uint8Array.from([2, 19, 0x61, 0x62, 0x63]), 4).value(0)).toBe('abc');
    // 2^32 - 4, truncated, is a BLOB of -8 bytes: the next value would start 8 bytes before the record.
    const whole = new Uint8Array(32).fill(0x41);
    whole.set([7, ...varint(2 ** 32 - 4, 5), 7], 16);
    expect(() => new RecordView(whole.subarray(16, 23), 4)).toThrow(NotUnderstood);
  });

  it('keys of serial types that differ beyond 32 bits differ', () => {
    const key = (value: number) => {
      const k = new ByteKey();
      k.appendNumber(value);
      return k.text();
    };
    expect(key(19 + 2 ** 32)).not.toBe(key(19));
    expect(key(19)).toBe(key(19));
  });

  it('a stored REAL NaN reads as NULL, as SQLite reads it', () => {
    const nan = Uint8Array.from([2, 7, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect(new RecordView(nan, 4).value(0)).toBeNull();
    const real = Uint8Array.from([2, 7, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect(new RecordView(real, 4).value(0)).toBe(1.5);
  });
});
