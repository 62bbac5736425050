import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

/** VERSION + trac.ini: enough for inspect and the fleet rules, which run before Trac is asked. */
async function makeEnv(database: string): Promise<string> {
  const root = await tempDir();
  const env = path.join(root, 'proj');
  await fs.outputFile(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
  await fs.outputFile(path.join(env, 'conf', 'trac.ini'), `[project]\nname = proj\n\n[trac]\ndatabase = ${database}\n`);
  return env;
}

async function inventory(hosts: string[], group = 'trac_web'): Promise<string> {
  const file = path.join(await tempDir(), 'hosts.ini');
  await fs.writeFile(file, `[${group}]\n${hosts.map((h) => `${h} ansible_host=10.233.250.${hosts.indexOf(h) + 2}`).join('\n')}\n`);
  return file;
}

describe('fleet (rules before anything is written)', () => {
  test('refuses an SQLite environment on three web hosts, names it and says why; writes nothing', async () => {
    const env = await makeEnv('sqlite:db/trac.db');
    const out = path.join(await tempDir(), 'project');
    const result = await runCli(['fleet', env, '--inventory', await inventory(['web1', 'web2', 'web3']), '--out', out]);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain(`${env} uses SQLite, which 3 web hosts cannot share`);
    expect(result.stderr).toContain('convert_db');
    expect(await fs.pathExists(out)).toBe(false);
  }, 120_000);

  test('names the groups when the inventory has no web group', async () => {
    const env = await makeEnv('postgres://u:p@db.invalid/proj');
    const out = path.join(await tempDir(), 'project');
    const result = await runCli(['fleet', env, '--inventory', await inventory(['a'], 'webservers'), '--out', out]);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain('has no hosts in group "trac_web"');
    expect(result.stderr).toContain('webservers');
    expect(await fs.pathExists(out)).toBe(false);
  }, 120_000);

  test('a missing inventory is one clear line', async () => {
    const env = await makeEnv('postgres://u:p@db.invalid/proj');
    const result = await runCli(['fleet', env, '--inventory', '/nonexistent/hosts.ini', '--out', path.join(await tempDir(), 'p')]);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain('--inventory /nonexistent/hosts.ini: no such file');
  }, 60_000);

  test('says why every host gets the same daemon size, and sizes it as given', async () => {
    const env = await makeEnv('postgres://u:p@db.invalid/proj');
    const hosts = await inventory(['web1', 'web2']);
    const dry = await runCli(['fleet', env, '--inventory', hosts, '--out', path.join(await tempDir(), 'p'), '--python-home', VENV, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr + dry.stdout).toContain('daemon: 2 processes x 5 threads on every host, not sized from cores');
    const given = await runCli(['fleet', env, '--inventory', hosts, '--out', path.join(await tempDir(), 'p'), '--python-home', VENV, '--dry-run', '--processes', '4', '--threads', '8']);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr + given.stdout).not.toContain('not sized from cores');
    expect(given.stderr + given.stdout).toContain('processes=4 threads=8');
  }, 120_000);
});
