import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { allProblems, inspectPath } from '../../src/inspect/inspectPath.js';
import { copyFixture } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

async function fixture(name: string) {
  return copyFixture(name, await tempDir());
}

describe('inspect a single environment', () => {
  it('Trac 1.0 layout: SQLite version 29, pre-0.12 repository options, needs upgrade', async () => {
    const env = await fixture('trac10-svn');
    const inspection = await inspectPath(env);
    expect(inspection.kind).toBe('environment');
    const [info] = inspection.environments;
    expect(info).toMatchObject({
      name: 'trac10-svn',
      formatVersion: 1,
      databaseVersion: 29,
      tracRelease: '1.0',
      project: { name: 'Legacy Project', description: 'A Trac 1.0 environment' },
      database: { scheme: 'sqlite', name: 'db/trac.db' },
      connectors: ['svn'],
    });
    expect(info?.repositories).toEqual([
      { name: '', type: 'svn', dir: '/srv/svn/legacy', alias: null, hidden: false, source: 'trac-section' },
    ]);
    expect(info?.problems.map((p) => p.code)).toContain('needs-upgrade');
  });

  it('Trac 1.4 layout on PostgreSQL: URL parsed, password never present, git repositories', async () => {
    const env = await fixture('trac14-postgres');
    const inspection = await inspectPath(env);
    const [info] = inspection.environments;
    expect(info?.database).toEqual({
      scheme: 'postgres',
      host: 'db.example.com',
      port: 5433,
      name: 'trac_db',
      user: 'trac user',
      hasPassword: true,
      params: { schema: 'tracschema' },
    });
    expect(JSON.stringify(inspection)).not.toMatch(/s3cr/);
    expect(info?.project.description).toBe('First line of the description\nsecond line, continued');
    expect(info?.ignoreAuthCase).toBe(true);
    expect(info?.connectors).toEqual(['git']);
    expect(info?.enabledComponents).toEqual(['acct_mgr', 'acct_mgr.web_ui.loginmodule']);
    const repos = Object.fromEntries((info?.repositories ?? []).map((r) => [r.name, r]));
    expect(repos['']).toMatchObject({ type: 'git', dir: '/srv/git/main.git' });
    expect(repos.tools).toMatchObject({ type: 'git', dir: '/srv/git/tools.git' });
    expect(repos.latest).toMatchObject({ alias: 'tools', type: 'git' });
    expect(info?.databaseVersion).toBeNull();
  });

  it('Trac 1.6 on MySQL: [inherit] file merged, htdocs_dir, plugins listed', async () => {
    const env = await fixture('trac16-mysql');
    const [info] = (await inspectPath(env)).environments;
    expect(info?.database).toMatchObject({ scheme: 'mysql', host: 'localhost', port: 3306, name: 'trac16', user: 'trac', hasPassword: true });
    expect(info?.inherit.files).toEqual([path.join(env, 'conf', 'global.ini')]);
    expect(info?.inherit.htdocsDir).toBe('/srv/trac/shared-htdocs');
    expect(info?.connectors).toEqual(['svn']);
    expect(info?.plugins.map((p) => [p.name, p.kind])).toEqual([
      ['hello_plugin', 'py'],
      ['TracTags', 'egg'],
    ]);
  });

  it('Trac 1.6 on SQLite: repositories from the database and users with a domain', async () => {
    const env = await fixture('trac16-sqlite');
    const [info] = (await inspectPath(env)).environments;
    expect(info?.databaseVersion).toBe(45);
    expect(info?.tracRelease).toBe('1.4 or 1.6');
    expect(info?.repositories).toEqual([
      { name: 'website', type: 'git', dir: '/srv/git/website.git', alias: null, hidden: false, source: 'database' },
    ]);
    const domain = info?.problems.find((p) => p.code === 'domain-users');
    expect(domain?.message).toContain('CORP\\alice');
    expect(domain?.message).toContain('bob@EXAMPLE.COM');
    expect(info?.problems.map((p) => p.code)).not.toContain('needs-upgrade');
  });

  it('a missing SQLite database is a problem, not a crash', async () => {
    const env = await fixture('trac16-sqlite');
    await fs.remove(path.join(env, 'db', 'trac.db'));
    const [info] = (await inspectPath(env)).environments;
    expect(info?.databaseVersion).toBeNull();
    expect(info?.problems.map((p) => p.code)).toContain('database-missing');
  });

  it('a locked SQLite database is reported as locked', async () => {
    const env = await fixture('trac16-sqlite');
    const { default: Database } = await import('better-sqlite3');
    const holder = new Database(path.join(env, 'db', 'trac.db'));
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const [info] = (await inspectPath(env)).environments;
      expect(info?.problems.map((p) => p.code)).toContain('database-locked');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('a malformed database string is a reported problem', async () => {
    const env = await fixture('trac16-sqlite');
    await fs.writeFile(path.join(env, 'conf', 'trac.ini'), '[trac]\ndatabase = postgres://u:pw@host:notaport/db\n');
    const [info] = (await inspectPath(env)).environments;
    expect(info?.database).toBeNull();
    const problem = info?.problems.find((p) => p.code === 'database-url-invalid');
    expect(problem?.message).toContain('notaport');
    expect(problem?.message).not.toContain('pw');
  });

  it('a configured repository whose connector is disabled is a problem', async () => {
    const env = await fixture('trac16-sqlite');
    await fs.writeFile(path.join(env, 'conf', 'trac.ini'), '[repositories]\n.dir = /srv/git/x.git\n.type = git\n');
    const [info] = (await inspectPath(env)).environments;
    expect(info?.problems.map((p) => p.code)).toContain('connector-disabled');
  });
});

describe('inspect a parent directory', () => {
  it('skips hidden directories, plain directories and files, and reports non-environments', async () => {
    const parent = await fixture('parent');
    const inspection = await inspectPath(parent);
    expect(inspection.kind).toBe('parent');
    expect(inspection.environments.map((e) => e.name)).toEqual(['alpha', 'beta']);
    expect(inspection.skipped).toEqual([
      { name: '.hidden', reason: 'matches .tracignore pattern ".*"' },
      { name: 'notes', reason: 'not a Trac environment' },
    ]);
    const problem = inspection.problems.find((p) => p.code === 'not-an-environment');
    expect(problem?.message).toContain('.tracignore');
  });

  it('a .tracignore replaces the default pattern, as in Trac', async () => {
    const parent = await fixture('parent-tracignore');
    const inspection = await inspectPath(parent);
    expect(inspection.environments.map((e) => e.name)).toEqual(['.dotted', 'alpha']);
    expect(inspection.skipped).toEqual([{ name: 'beta', reason: 'matches .tracignore pattern "b*"' }]);
  });

  it('an environment with an unreadable trac.ini is a problem of the parent', async () => {
    const parent = await fixture('parent');
    const ini = path.join(parent, 'beta', 'conf', 'trac.ini');
    await fs.remove(ini);
    await fs.mkdirp(ini);
    const inspection = await inspectPath(parent);
    expect(inspection.environments.map((e) => e.name)).toEqual(['alpha']);
    expect(allProblems(inspection).find((p) => p.code === 'trac-ini-unreadable')?.message).toContain(ini);
  });
});

describe('inspect refuses bad input with a UserError (exit 2)', () => {
  const expectUsage = async (p: string, fragment: string) => {
    const error = await inspectPath(p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toContain(fragment);
  };

  it('a missing path', async () => {
    const dir = await tempDir();
    await expectUsage(path.join(dir, 'nope'), 'no such file');
  });

  it('a file', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'f'), 'x');
    await expectUsage(path.join(dir, 'f'), 'is not a directory');
  });

  it('a VERSION file that is not Trac\'s', async () => {
    await expectUsage(await fixture('not-env'), 'is not a Trac environment');
  });

  it('an empty directory', async () => {
    await expectUsage(await tempDir(), 'neither a Trac environment nor a directory of environments');
  });

  it('an environment without trac.ini', async () => {
    await expectUsage(await fixture('no-ini'), 'trac.ini');
  });
});
