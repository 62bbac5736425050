import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/paths.js';
import { copyFixture } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

describe('trac-deploy deploy (CLI surface)', () => {
  it('--help names the command, its positionals and the generate flags', async () => {
    const result = await runCli(['deploy', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('deploy <env> <target>');
    expect(result.stdout).toContain('--python-home');
    expect(result.stdout).toContain('--force');
  });

  it('refuses a directory of environments with exit 2 and advice', async () => {
    const root = await tempDir();
    const parent = await copyFixture('parent', root);
    const result = await runCli(['deploy', parent, path.join(root, 'out')]);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain('deploy takes one environment');
  });

  it('refuses a path that is not an environment with exit 2', async () => {
    const root = await tempDir();
    const result = await runCli(['deploy', path.join(FIXTURES, 'envs', 'not-env'), path.join(root, 'out')]);
    expect(result.code).toBe(2);
    expectCleanError(result);
  });

  it('generate --help lists --htdocs', async () => {
    const result = await runCli(['generate', '--help']);
    expect(result.stdout).toContain('--htdocs');
  });
});
