import Database from 'better-sqlite3';
import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { FIXTURES, TRAC_ADMIN } from './paths.js';

/** A real environment made by Trac 1.6's own `trac-admin ENV initenv`. */
export async function initEnv(dir: string, projectName = 'Test Project', database = 'sqlite:db/trac.db'): Promise<string> {
  await fs.mkdirp(path.dirname(dir));
  await execa(TRAC_ADMIN, [dir, 'initenv', projectName, database], { stdin: 'ignore' });
  return dir;
}

/** Give a tree to the Apache user, as an administrator would. */
export async function chownToApache(dir: string, user = 'www-data'): Promise<void> {
  await execa('chown', ['-R', `${user}:${user}`, dir]);
}

/**
 * Copy a hand-made fixture (fixtures/envs/<name>) into dir. A `db.sql` beside an
 * environment's conf/ becomes its db/trac.db, so no binary database is committed.
 */
export async function copyFixture(name: string, dir: string): Promise<string> {
  return copyFixtureTo(name, path.join(dir, name));
}

/** copyFixture under another name: the fixture's contents become target. */
export async function copyFixtureTo(name: string, target: string): Promise<string> {
  await fs.copy(path.join(FIXTURES, 'envs', name), target);
  await materializeDatabases(target);
  return target;
}

async function materializeDatabases(root: string): Promise<void> {
  for (const entry of await fs.readdir(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) await materializeDatabases(full);
    else if (entry.name === 'db.sql') {
      await fs.mkdirp(path.join(root, 'db'));
      const db = new Database(path.join(root, 'db', 'trac.db'));
      db.exec(await fs.readFile(full, 'utf8'));
      db.close();
      await fs.remove(full);
    }
  }
}
