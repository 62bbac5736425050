import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

describe('--out and --htdocs reached through a link into an environment', () => {
  it('are refused with the path they resolve to, and nothing is written', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const real = await fs.realpath(env);
    await fs.symlink(path.join(env, 'htdocs'), path.join(dir, 'innocent'));
    await fs.symlink(env, path.join(dir, 'static'));
    const out = await runCli(['generate', env, '--out', path.join(dir, 'innocent', 'deploy')]);
    expect(out.code).toBe(2);
    expectCleanError(out);
    expect(out.stderr).toContain(`(which resolves to ${path.join(real, 'htdocs', 'deploy')}) is inside ${path.join(env, 'htdocs')}`);
    expect(await fs.pathExists(path.join(env, 'htdocs', 'deploy'))).toBe(false);
    const htdocs = await runCli(['generate', env, '--out', path.join(dir, 'out'), '--htdocs', path.join(dir, 'static')]);
    expect(htdocs.code).toBe(2);
    expectCleanError(htdocs);
    expect(htdocs.stderr).toContain('contains the Trac environment');
    expect(await fs.pathExists(path.join(dir, 'out'))).toBe(false);
  });
});
