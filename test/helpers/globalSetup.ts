import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The end-to-end tests spawn the built CLI: build it once before any test runs. Type errors
 * do not stop the build (tsc still emits); test/unit/typecheck.test.ts reports them as a
 * failing test instead of failing the whole run.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await execa('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, reject: false, stdin: 'ignore' });
  // What `npm run build` adds after tsc: the precompiled templates and the bundle the CLI loads.
  await execa('node', ['scripts/precompile-templates.mjs'], { cwd: ROOT, stdin: 'ignore' });
  await execa('node', ['scripts/bundle.mjs'], { cwd: ROOT, stdin: 'ignore' });
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('build produced no dist/cli.js');
  // deploy's Python answer cache: one for this run (the tests' CLIs inherit it), removed after.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'trac-deploy-test-cache-'));
  process.env.TRAC_DEPLOY_CACHE_DIR = path.join(cache, 'cache');
  return async () => fs.rmSync(cache, { recursive: true, force: true });
}
