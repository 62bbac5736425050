import path from 'node:path';
import type { DatabaseInfo } from '../inspect/databaseUrl.js';
import type { EnvironmentInfo } from '../inspect/types.js';

/**
 * The stand-in environments a CI runner makes where the real ones are absent. They must look,
 * to `trac-deploy generate --check`, exactly like the real ones in every fact the rendered
 * files depend on: the project name (plan file, smoke's title check), the database backend and
 * server (pooling decision and its reason), [trac] ignore_auth_case and a login-form plugin
 * (auth notes). Each is set through Trac's own trac-admin. The database line carries no
 * password, so nothing secret enters the workflow; nothing connects to it either: before the
 * smoke test the stand-ins are pointed back at their own SQLite database, which initenv made.
 */
export interface StandInCommands {
  /** initenv with the real project name, then the settings that shape the rendered files. */
  make: string[][];
  /** The deployed database line, without its password (only for non-SQLite environments). */
  deployedDatabase: string[][];
  /** Back to the stand-in's own SQLite database, so Trac can serve it in the smoke test. */
  sqliteForSmoke: string[][];
}

/** What initenv writes into [project] name when given none; Trac's own default too. */
const TRAC_DEFAULT_PROJECT = 'My Project';
const STAND_IN_DB = 'sqlite:db/trac.db';

/**
 * Sets one trac.ini option through Trac's own Configuration class, without opening the
 * environment: trac-admin would first check the database for an upgrade, which it cannot do
 * for a server that is not there.
 */
export const SET_OPTION_PROGRAM = [
  'import sys',
  'from trac.config import Configuration',
  'config = Configuration(sys.argv[1])',
  'config.set(sys.argv[2], sys.argv[3], sys.argv[4])',
  'config.save()',
].join('; ');

export function standInCommands(environments: readonly EnvironmentInfo[], tracAdmin: string, python: string): StandInCommands {
  const make: string[][] = [];
  const deployedDatabase: string[][] = [];
  const sqliteForSmoke: string[][] = [];
  for (const env of environments) {
    const admin = (...args: string[]) => [tracAdmin, env.path, ...args];
    make.push(admin('initenv', env.project.name ?? TRAC_DEFAULT_PROJECT, STAND_IN_DB));
    if (env.project.name === null) make.push(admin('config', 'remove', 'project', 'name'));
    if (env.ignoreAuthCase) make.push(admin('config', 'set', 'trac', 'ignore_auth_case', 'true'));
    for (const component of env.loginFormComponents) make.push(admin('config', 'set', 'components', component, 'enabled'));
    const db = env.database;
    if (db && db.scheme !== 'sqlite') {
      deployedDatabase.push(admin('config', 'set', 'trac', 'database', databaseUrlWithoutPassword(db)));
      sqliteForSmoke.push([python, '-c', SET_OPTION_PROGRAM, path.join(env.path, 'conf', 'trac.ini'), 'trac', 'database', STAND_IN_DB]);
    }
  }
  return { make, deployedDatabase, sqliteForSmoke };
}

/**
 * A `[trac] database` string with the same scheme, user, host, port, database and parameters
 * as the parsed one, and no password (parseDatabaseUrl never kept it); parsing it again gives
 * the same facts.
 */
export function databaseUrlWithoutPassword(db: DatabaseInfo): string {
  const user = db.user ? `${encodeURIComponent(db.user)}@` : '';
  // Trac takes host, port and database name as written, and unquotes user and parameter values.
  const host = db.host ?? '';
  const port = db.port !== null ? `:${db.port}` : '';
  const name = db.name ?? '';
  const params = Object.entries(db.params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2F/gi, '/')}`)
    .join('&');
  return `${db.scheme}://${user}${host}${port}/${name}${params ? `?${params}` : ''}`;
}
