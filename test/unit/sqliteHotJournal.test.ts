import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSqliteFacts } from '../../src/inspect/sqliteFacts.js';
import { ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * A database with a hot journal (a writer killed mid-transaction): read-only, SQLite refuses to
 * roll it back (SQLITE_READONLY_ROLLBACK). inspect changes nothing and says what happened in
 * words an administrator can act on, not "attempt to write a readonly database".
 */
describe('an SQLite database a writer left mid-transaction', () => {
  it('is left as it is, and the problem names the journal and who rolls it back', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'trac.db');
    const writer = `
      const Database = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'better-sqlite3'))});
      const db = new Database(${JSON.stringify(file)});
      db.pragma('cache_size = 1');
      db.exec("CREATE TABLE system(name text PRIMARY KEY, value text); INSERT INTO system VALUES ('database_version', '45'); CREATE TABLE big(x)");
      const insert = db.prepare('INSERT INTO big VALUES (?)');
      db.exec('BEGIN');
      for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
      db.exec("UPDATE system SET value = '99'");
      process.kill(process.pid, 'SIGKILL');
    `;
    const killed = await execa('node', ['-e', writer], { reject: false, stdin: 'ignore' });
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.statSync(`${file}-journal`).size).toBeGreaterThan(0);
    const before = fs.readFileSync(file);
    const journal = fs.readFileSync(`${file}-journal`);

    const facts = await readSqliteFacts(file);
    expect(facts.databaseVersion).toBeNull();
    expect(facts.problems).toHaveLength(1);
    expect(facts.problems[0]?.message).toContain(`unfinished transaction in ${file}-journal`);
    expect(facts.problems[0]?.advice?.[0]).toMatch(/Trac rolls it back/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readFileSync(`${file}-journal`).equals(journal)).toBe(true);
  }, 60_000);
});
