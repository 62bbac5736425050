import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * A large directory of environments is judged by worker threads in chunks: the report must be
 * byte for byte the one the main thread alone gives, in the same order, whatever each entry is.
 */
describe('inspect of a large parent directory', () => {
  it('gives the same --json with worker threads as without', async () => {
    const parent = await tempDir();
    const count = 2600;
    for (let i = 0; i < count; i++) {
      const dir = path.join(parent, `e${String(i).padStart(5, '0')}`);
      const kind = i % 13;
      if (kind === 1) {
        await fs.outputFile(path.join(dir, 'README'), 'not an environment\n');
        continue;
      }
      if (kind === 2) {
        await fs.outputFile(path.join(parent, `file${i}.txt`), 'a file\n');
        continue;
      }
      await fs.outputFile(path.join(dir, 'VERSION'), kind === 3 ? 'Trac Environment Version 2\n' : 'Trac Environment Version 1\n');
      if (kind === 4) continue; // no trac.ini: an error of that environment
      const database = kind === 5 ? `postgres://trac:pw@db${i % 3}/p${i}` : kind === 6 ? 'mysql://u:p@my/x' : 'sqlite:db/trac.db';
      await fs.outputFile(path.join(dir, 'conf', 'trac.ini'), `[project]\nname = P${i}\n\n[trac]\ndatabase = ${database}\n[components]\ntracopt.versioncontrol.git.* = ${kind === 7 ? 'enabled' : 'disabled'}\n`);
      if (kind === 8) await fs.outputFile(path.join(dir, 'plugins', 'x.py'), '# plugin\n');
    }
    await fs.mkdirp(path.join(parent, '.hidden'));
    await fs.symlink(path.join(parent, 'e00000'), path.join(parent, 'link-to-e0'));
    const sequential = await runCli(['inspect', parent, '--json'], { env: { TRAC_DEPLOY_INSPECT_WORKERS: '0' } });
    const parallel = await runCli(['inspect', parent, '--json'], { env: { TRAC_DEPLOY_INSPECT_WORKERS: '2' } });
    const byDefault = await runCli(['inspect', parent, '--json']);
    expect(sequential.code, sequential.stderr).toBe(0);
    const report = JSON.parse(sequential.stdout) as { environments: { name: string }[]; skipped: { name: string }[]; databaseServers: unknown[] };
    expect(report.environments.length).toBeGreaterThan(2000);
    expect(report.environments.map((e) => e.name)).toContain('link-to-e0');
    expect(report.skipped.map((s) => s.name)).toContain('.hidden');
    expect(report.databaseServers.length).toBeGreaterThan(2);
    expect(parallel.stdout).toBe(sequential.stdout);
    expect(parallel.stderr).toBe(sequential.stderr);
    expect(byDefault.stdout).toBe(sequential.stdout);
  });
});
