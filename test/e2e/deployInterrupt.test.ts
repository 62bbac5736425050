import fs from 'fs-extra';
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/paths.js';
import { copyFixture } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * A signal while deploy waits on the environment's Python: Python is stopped (not left running
 * when only trac-deploy got the signal), its egg cache removed, and the process ends as the
 * signal would have ended it (128 + its number). The "Python" notes its pid and egg cache, then
 * sleeps (exec: the pid is the sleeper's). Meanwhile deploy copies the static directories the
 * answer will most likely name into a staging directory of TARGET: that goes too, and TARGET,
 * which this run made, with it.
 */
describe('deploy interrupted while Python answers', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: exit ${code}, no Python left, no egg cache left, nothing staged left`, async () => {
      const root = await tempDir();
      const env = await copyFixture('trac16-sqlite', root);
      const home = path.join(root, 'venv');
      // Writable by the web server's user, whom deploy asks the "Python" as when run as root.
      const notes = path.join(root, 'notes');
      await fs.mkdir(notes);
      await fs.chmod(notes, 0o777);
      const noted = path.join(notes, 'python.pid');
      await fs.outputFile(path.join(home, 'bin', 'python'), `#!/bin/sh\necho "$$ $PYTHON_EGG_CACHE" > '${noted}.part'\nmv '${noted}.part' '${noted}'\nexec sleep 600\n`, { mode: 0o755 });
      await fs.outputFile(path.join(home, 'pyvenv.cfg'), 'home = /usr/bin\nversion = 3.11.2\n');
      // Trac's own static files where a virtualenv has them: staged while "Python" answers.
      for (let i = 0; i < 20; i++) await fs.outputFile(path.join(home, 'lib', 'python3.11', 'site-packages', 'trac', 'htdocs', 'css', `f${i}.css`), `f${i} {}\n`);
      const target = path.join(root, 'target');
      const htdocs = path.join(target, 'htdocs');
      const child = execa('node', [CLI, 'deploy', env, target, '--python-home', home], {
        reject: false,
        stdin: 'ignore',
        env: { NO_COLOR: '1', TRAC_DEPLOY_CACHE_DIR: path.join(root, 'cache') },
      });
      let pid = 0;
      try {
        for (let i = 0; i < 1200 && !(await fs.pathExists(noted)); i++) await new Promise((r) => setTimeout(r, 50));
        const [pidText, eggCache] = (await fs.readFile(noted, 'utf8')).trim().split(' ');
        pid = Number(pidText);
        expect(eggCache).toMatch(/trac-deploy-eggs-/);
        expect(await fs.pathExists(eggCache!)).toBe(true);
        const staged = async () => {
          const names = (await fs.pathExists(htdocs)) ? await fs.readdir(htdocs) : [];
          const dir = names.find((n) => n.startsWith('.trac-deploy-staging-'));
          return dir && (await fs.pathExists(path.join(htdocs, dir, 'common', 'css', 'f19.css')));
        };
        for (let i = 0; i < 1200 && !(await staged()); i++) await new Promise((r) => setTimeout(r, 50));
        expect(await staged()).toBe(true);
        child.kill(signal);
        const result = await child;
        expect(result.exitCode, String(result.stderr)).toBe(code);
        expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
        expect(await fs.pathExists(eggCache!)).toBe(false);
        expect(await fs.pathExists(target)).toBe(false);
      } finally {
        child.kill('SIGKILL');
        if (pid) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone, as it should be
          }
        }
      }
    }, 120_000);
  }
});
