import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectPath } from '../../src/inspect/inspectPath.js';
import { sqliteFileToRead } from '../../src/inspect/sqlitePath.js';
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
    expect(sqliteFileToRead(env, 'db/trac.db', true)).toEqual({ file: path.join(await fs.realpath(env), 'db', 'real.db') });
  });
});
