import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * The Apache user's access check of 20,000 environments: their paths (~6 MB) would not fit in
 * one argument list (spawn E2BIG past ~15,000 environments when they were passed as arguments);
 * streamed through stdin, every environment is tested as www-data and exactly the ones it cannot
 * use are named.
 */
describe.skipIf(process.getuid?.() !== 0)('inspect as root checks 20,000 environments as the Apache user', () => {
  it('names exactly the trac.ini files www-data cannot read', async () => {
    const parent = path.join(await tempDir(), 'a-parent-directory-with-a-rather-long-name-to-make-every-path-longer');
    const count = 20_000;
    const longName = 'environment-with-a-long-name-'.repeat(3);
    const unreadable: string[] = [];
    fs.mkdirSync(parent);
    for (let i = 0; i < count; i++) {
      const env = path.join(parent, `${longName}${String(i).padStart(5, '0')}`);
      fs.mkdirSync(path.join(env, 'conf'), { recursive: true });
      fs.mkdirSync(path.join(env, 'log'));
      fs.chownSync(path.join(env, 'log'), 33, 33);
      fs.writeFileSync(path.join(env, 'VERSION'), 'Trac Environment Version 1\n');
      const ini = path.join(env, 'conf', 'trac.ini');
      fs.writeFileSync(ini, `[project]\nname = P${i}\n\n[trac]\ndatabase = postgres://trac@db/p${i}\n`, { mode: 0o644 });
      if (i % 997 === 0) {
        fs.chmodSync(ini, 0o600);
        unreadable.push(ini);
      }
    }
    const argvBytes = count * 2 * (path.join(parent, `${longName}00000`, 'conf', 'trac.ini').length + 4);
    expect(argvBytes).toBeGreaterThan(4 * 1024 * 1024);
    const r = await runCli(['inspect', parent, '--json']);
    expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
    const report = JSON.parse(r.stdout) as { environments: unknown[]; problems: { code: string; path?: string }[] };
    expect(report.environments).toHaveLength(count);
    const access = report.problems.filter((p) => p.code.startsWith('apache-user-access'));
    expect(access.filter((p) => p.code !== 'apache-user-access')).toEqual([]);
    // The parent is root's 0755 directory: readable, but www-data cannot create .egg-cache in it.
    expect(access.map((p) => p.path)).toEqual([...unreadable, parent]);
  }, 300_000);
});
