import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectPath } from '../../src/inspect/inspectPath.js';
import { readTracTablesWithSqlite } from '../../src/inspect/sqliteFacts.js';
import { confirmSchema, readTracTables } from '../../src/inspect/sqliteFile/tracTables.js';
import { TRAC_ADMIN } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { initEnv } from '../helpers/tracEnv.js';

const admin = (env: string, ...args: string[]) => execa(TRAC_ADMIN, [env, ...args], { stdin: 'ignore' });

/**
 * The SQLite file reader on databases Trac itself made and changed (initenv, repository add,
 * alias and set, permission add), in the default rollback mode and in WAL mode (where trac-admin
 * leaves its WAL behind, so the reader must leave the database to SQLite): the same rows as
 * SQLite, and the same inspection with the reader and without it.
 */
describe('the SQLite file reader on databases made by trac-admin', () => {
  it('reads what SQLite reads, and inspect answers alike with and without it', async () => {
    const parent = await tempDir();
    const plain = await initEnv(path.join(parent, 'plain'), 'Plain');
    const wal = await initEnv(path.join(parent, 'wal'), 'Wal', 'sqlite:db/trac.db?journal_mode=wal');
    for (const env of [plain, wal]) {
      await admin(env, 'config', 'set', 'components', 'tracopt.versioncontrol.git.*', 'enabled');
      await admin(env, 'repository', 'add', 'main', '/srv/git/main.git', 'git');
      await admin(env, 'repository', 'alias', 'other', 'main');
      await admin(env, 'repository', 'set', 'main', 'hidden', 'true');
      await admin(env, 'permission', 'add', 'CORP\\alice', 'TRAC_ADMIN');
      await admin(env, 'permission', 'add', 'bob@EXAMPLE.COM', 'WIKI_VIEW');
    }

    const plainDb = path.join(plain, 'db', 'trac.db');
    const first = readTracTables(plainDb);
    expect(first).toHaveProperty('unconfirmedSchema');
    const bySqlite = await readTracTablesWithSqlite(plainDb);
    confirmSchema((first as { unconfirmedSchema: string }).unconfirmedSchema);
    const direct = readTracTables(plainDb);
    expect(direct).toEqual({ rows: { ...bySqlite, permissionUsers: expect.arrayContaining(bySqlite.permissionUsers ?? []) } });
    expect(bySqlite.repository).toHaveLength(7);

    // trac-admin leaves WAL mode's -wal file with the last changes: only SQLite may read them.
    const walDb = path.join(wal, 'db', 'trac.db');
    expect(fs.statSync(`${walDb}-wal`).size).toBeGreaterThan(0);
    expect(readTracTables(walDb)).toEqual({ fallback: 'a wal file with content' });
    expect((await readTracTablesWithSqlite(walDb)).permissionUsers).toContain('CORP\\alice');

    const withReader = await inspectPath(parent);
    process.env.TRAC_DEPLOY_SQLITE_FILE_READER = '0';
    let withoutReader: Awaited<ReturnType<typeof inspectPath>>;
    try {
      withoutReader = await inspectPath(parent);
    } finally {
      delete process.env.TRAC_DEPLOY_SQLITE_FILE_READER;
    }
    expect(withReader).toEqual(withoutReader);
    for (const info of withReader.environments) {
      expect(info.databaseVersion).toBe(45);
      expect(info.repositories.filter((r) => r.source === 'database')).toEqual([
        { name: 'main', type: 'git', dir: '/srv/git/main.git', alias: null, hidden: true, source: 'database' },
        { name: 'other', type: 'git', dir: null, alias: 'main', hidden: false, source: 'database' },
      ]);
      expect(info.domainUsers).toEqual(['CORP\\alice', 'bob@EXAMPLE.COM']);
    }
  }, 120_000);
});
