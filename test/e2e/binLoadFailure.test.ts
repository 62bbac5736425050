import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * bin/trac-deploy.js when the CLI behind it cannot load (dist/ missing, or a bundle that throws
 * as it loads): one line naming what failed and exit 1, as for any unexpected error, never
 * Node's stack trace or an unhandled rejection.
 */
async function runCopiedBin(prepare: (dir: string) => Promise<void>): Promise<{ code: number; stderr: string; stdout: string }> {
  const dir = await tempDir();
  await fs.copy(path.join(ROOT, 'bin'), path.join(dir, 'bin'));
  await prepare(dir);
  const r = await execa('node', [path.join(dir, 'bin', 'trac-deploy.js'), '--version'], { reject: false, stdin: 'ignore', env: { TRAC_DEPLOY_DEBUG: '', TRAC_DEPLOY_CACHE_DIR: path.join(dir, 'cache') } });
  return { code: r.exitCode ?? -1, stderr: String(r.stderr), stdout: String(r.stdout) };
}

function expectOneClearLine(stderr: string, naming: string): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines[0]).toMatch(/^trac-deploy: cannot start: /);
  expect(lines[0]).toContain(naming);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/Unhandled|node:internal|Require stack/);
}

describe('bin/trac-deploy.js when the CLI cannot load', () => {
  it('without dist/: one line and exit 1', async () => {
    const r = await runCopiedBin(async () => {});
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectOneClearLine(r.stderr, 'binMain.js');
  });

  it('with a bundle that throws as it loads: one line and exit 1', async () => {
    const r = await runCopiedBin(async (dir) => {
      await fs.outputFile(path.join(dir, 'dist', 'bundle', 'trac-deploy.js'), "throw new Error('bundle broken here');\n");
    });
    expect(r.code).toBe(1);
    expectOneClearLine(r.stderr, 'bundle broken here');
  });
});
