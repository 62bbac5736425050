import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectPath } from '../../src/inspect/inspectPath.js';
import { readSqliteFacts, readTracTablesWithSqlite } from '../../src/inspect/sqliteFacts.js';
import { pinDatabase, plantedLinkOut, sqliteFileToRead } from '../../src/inspect/sqlitePath.js';
import { copyFixture } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * An environment's SQLite database reached through a symbolic link out of the environment
 * (db/trac.db or db/ a link): root does not follow a link somebody else planted there; Trac's
 * own configuration (an absolute path) is followed; a link root made itself is followed.
 */
const asRoot = process.geteuid?.() === 0;
const NOBODY = 65534;

/** A fixture environment whose database was moved to OUTSIDE/trac.db. */
async function envWithDatabaseElsewhere(): Promise<{ env: string; outside: string }> {
  const base = await tempDir();
  const env = await copyFixture('trac16-sqlite', path.join(base, 'envs'));
  const outside = path.join(base, 'elsewhere');
  await fs.ensureDir(outside);
  await fs.move(path.join(env, 'db', 'trac.db'), path.join(outside, 'trac.db'));
  return { env, outside };
}

describe('the SQLite database behind a symbolic link out of the environment', () => {
  it.skipIf(!asRoot)('as root, db/trac.db linked out by another user: not read, a warning says so', async () => {
    const { env, outside } = await envWithDatabaseElsewhere();
    const link = path.join(env, 'db', 'trac.db');
    await fs.symlink(path.join(outside, 'trac.db'), link);
    fs.lchownSync(link, NOBODY, NOBODY);
    const [info] = (await inspectPath(env)).environments;
    expect(info?.databaseVersion).toBeNull();
    const problem = info?.problems.find((p) => p.code === 'database-link-outside');
    expect(problem).toMatchObject({ severity: 'warning', path: link });
    expect(problem?.message).toContain(path.join(outside, 'trac.db'));
    expect(problem?.advice?.[0]).toContain(`[trac] database = sqlite:${path.join(outside, 'trac.db')}`);
  });

  it.skipIf(!asRoot)('as root, the db/ directory linked out by another user: not read', async () => {
    const { env, outside } = await envWithDatabaseElsewhere();
    await fs.remove(path.join(env, 'db'));
    await fs.symlink(outside, path.join(env, 'db'));
    fs.lchownSync(path.join(env, 'db'), NOBODY, NOBODY);
    const [info] = (await inspectPath(env)).environments;
    expect(info?.databaseVersion).toBeNull();
    expect(info?.problems.find((p) => p.code === 'database-link-outside')?.message).toContain(`symbolic link ${path.join(env, 'db')} `);
  });

  it('a link root made itself (or any link, when not root) is followed, and the real file read', async () => {
    const { env, outside } = await envWithDatabaseElsewhere();
    await fs.symlink(path.join(outside, 'trac.db'), path.join(env, 'db', 'trac.db'));
    const [info] = (await inspectPath(env)).environments;
    expect(info?.problems.map((p) => p.code)).not.toContain('database-link-outside');
    expect(info?.databaseVersion).toBe(45);
  });

  it('an absolute path in trac.ini outside the environment is Trac\'s configuration: read', async () => {
    const { env, outside } = await envWithDatabaseElsewhere();
    const ini = path.join(env, 'conf', 'trac.ini');
    const text = await fs.readFile(ini, 'utf8');
    await fs.writeFile(ini, text.replace(/^database\s*=.*$/m, `database = sqlite:${path.join(outside, 'trac.db')}`));
    expect(await fs.readFile(ini, 'utf8')).toContain(`sqlite:${outside}`);
    const [info] = (await inspectPath(env)).environments;
    expect(info?.databaseVersion).toBe(45);
    expect(info?.problems.map((p) => p.code)).not.toContain('database-link-outside');
  });

  it('resolves to the real path, and judges links by owner only when root', async () => {
    const { env, outside } = await envWithDatabaseElsewhere();
    const link = path.join(env, 'db', 'trac.db');
    await fs.symlink(path.join(outside, 'trac.db'), link);
    expect(sqliteFileToRead(env, 'db/trac.db', false)).toEqual({ file: path.join(await fs.realpath(outside), 'trac.db') });
    if (asRoot) {
      fs.lchownSync(link, NOBODY, NOBODY);
      expect(sqliteFileToRead(env, 'db/trac.db', true)).toMatchObject({ skipped: { code: 'database-link-outside' } });
      expect(sqliteFileToRead(env, 'db/trac.db', false)).toEqual({ file: path.join(await fs.realpath(outside), 'trac.db') });
    }
    // A link inside the environment to a file inside it: followed, whoever made it.
    await fs.remove(link);
    await fs.move(path.join(outside, 'trac.db'), path.join(env, 'db', 'real.db'));
    await fs.symlink('real.db', link);
    if (asRoot) fs.lchownSync(link, NOBODY, NOBODY);
    const pinned = sqliteFileToRead(env, 'db/trac.db', true);
    expect(pinned).toMatchObject({ file: expect.stringMatching(/^\/proc\/self\/fd\/\d+\/real\.db$/), real: path.join(await fs.realpath(env), 'db', 'real.db') });
    if ('release' in pinned) pinned.release?.();
  });
});

/**
 * As root, the database is read through its directory held open (a directory on the way that
 * its owner swaps for a link after the checks leads nowhere else), SQLite's own open is checked
 * to have reached the file resolved, and a name that does not resolve is not read unresolved.
 */
describe('root reads the database it resolved, not what a swapped path leads to', () => {
  it('pinDatabase: the directory held open names the same file; a directory become a link is refused', async () => {
    const { env, outside } = await envWithDatabaseElsewhere();
    const real = path.join(await fs.realpath(outside), 'trac.db');
    const pinned = pinDatabase(real);
    expect(pinned).toMatchObject({ file: expect.stringMatching(/^\/proc\/self\/fd\/\d+\/trac\.db$/), real });
    if (!('file' in pinned)) throw new Error('not pinned');
    const fd = pinned.file.split('/')[4];
    // The directory moves away (renamed, a link put in its place): the held name still reads the same file.
    await fs.move(outside, `${outside}.moved`);
    await fs.symlink(env, outside);
    expect((await readSqliteFacts(real, pinned.file, { alone: true, real: `${outside}.moved/trac.db` })).databaseVersion).toBe(45);
    pinned.release?.();
    expect(fs.existsSync(`/proc/self/fd/${fd}`) && fs.readlinkSync(`/proc/self/fd/${fd}`) === `${outside}.moved`).toBe(false);
    // Now the path's directory is the link: not held, not read.
    expect(pinDatabase(real)).toMatchObject({ skipped: { code: 'database-unreadable' } });
  });

  it('SQLite opening a link put in the last name is caught before anything is read', async () => {
    const { env, outside } = await envWithDatabaseElsewhere();
    const other = path.join(await fs.realpath(outside), 'trac.db');
    const expected = path.join(await fs.realpath(env), 'db', 'trac.db');
    await fs.symlink(other, expected);
    await expect(readTracTablesWithSqlite(expected, expected)).rejects.toThrow(/changed while it was opened/);
    // The same file, opened where it is: read.
    expect((await readTracTablesWithSqlite(other, other)).databaseVersion).toBe('45');
  });

  it('as root, a name that does not resolve is reported, not read unresolved', async () => {
    const { env } = await envWithDatabaseElsewhere();
    const configured = path.join(env, 'db', 'trac.db');
    expect(sqliteFileToRead(env, 'db/trac.db', true)).toEqual({ skipped: { code: 'database-missing', severity: 'error', message: `SQLite database ${configured} does not exist or cannot be opened`, path: configured } });
    expect(sqliteFileToRead(env, 'db/trac.db', false)).toEqual({ file: configured });
  });

  it('plantedLinkOut: resolved outside, with no link on the way any more, names the path (the way changed)', async () => {
    const { env, outside } = await envWithDatabaseElsewhere();
    // db/ is a plain directory now (the link that resolved it outside was swapped back).
    const configured = path.join(env, 'db', 'trac.db');
    await fs.writeFile(configured, '');
    expect(plantedLinkOut(env, configured, path.join(outside, 'trac.db'))).toEqual({ path: configured, real: path.join(outside, 'trac.db') });
    expect(plantedLinkOut(env, configured)).toBeNull();
  });
});
