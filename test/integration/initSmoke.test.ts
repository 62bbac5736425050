import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { VENV } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/** Skipped only while this build has no smoke command (it is built on another branch). */
describe('init offers the smoke test', () => {
  it('init --yes --smoke writes the files and serves them through a real Apache on 127.0.0.1', async () => {
    const dir = await tempDir();
    const env = await initEnv(path.join(dir, 'proj'), 'Smoke Offer');
    await chownToApache(env);
    const out = path.join(dir, 'deploy');
    const result = await runCli(['init', env, '--yes', '--smoke', '--out', out, '--python-home', VENV]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await fs.pathExists(path.join(out, 'proj.wsgi'))).toBe(true);
  });

  it('init --yes --no-smoke writes the files and names the smoke command instead', async () => {
    const dir = await tempDir();
    const env = await initEnv(path.join(dir, 'proj'));
    const out = path.join(dir, 'deploy');
    const result = await runCli(['init', env, '--yes', '--no-smoke', '--out', out, '--python-home', VENV]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`next: trac-deploy smoke ${out}`);
  });
});
