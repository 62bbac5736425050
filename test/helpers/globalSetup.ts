import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The end-to-end tests spawn the built CLI: build it once before any test runs. */
export default async function setup(): Promise<void> {
  await execa('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('build produced no dist/cli.js');
}
