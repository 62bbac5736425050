import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from '../errors.js';
import { VERSION } from '../version.js';

/**
 * trac-deploy is not published on the npm registry, so the pipeline's default `--package` is
 * this very trac-deploy packed into the configuration repository: `npm pack` of the running
 * package (its bin/, dist/ and templates/), which `npm install -g ./<tarball>` installs on the
 * runner. The same trac-deploy that wrote the configuration then checks it.
 */
export const PACKED_DIR = '.trac-deploy';
export const PACKED_NAME = `trac-deploy-${VERSION}.tgz`;
/** The --package the workflow names: relative to the checkout, where the pipeline runs. */
export const PACKED_SPEC = `./${PACKED_DIR}/${PACKED_NAME}`;

/** The installed package's root: dist/ci/ -> the directory with package.json. */
function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export type PackStatus = 'new' | 'unchanged' | 'changed';

/**
 * Packs trac-deploy into `<repoRoot>/.trac-deploy/`. An existing tarball with other bytes is
 * replaced only with `force` (the one policy for existing files); with `dryRun` nothing is
 * written. Returns the tarball's path and what happened to it.
 */
export async function packSelf(repoRoot: string, options: { force: boolean; dryRun: boolean }): Promise<{ path: string; status: PackStatus; written: boolean }> {
  const dest = path.join(path.resolve(repoRoot), PACKED_DIR, PACKED_NAME);
  const current = await fs.readFile(dest).catch(() => null);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-pack-'));
  try {
    const { execa } = await import('execa');
    // --ignore-scripts: the package is already built (dist/); prepack would need the compiler.
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp], {
      cwd: packageRoot(),
      reject: false,
      stdin: 'ignore',
    });
    const made = path.join(tmp, String(packed.stdout).trim().split('\n').pop() ?? '');
    const bytes = packed.exitCode === 0 ? await fs.readFile(made).catch(() => null) : null;
    if (!bytes) {
      throw usageError(
        `could not pack trac-deploy for the pipeline (npm pack in ${packageRoot()} exited ${packed.exitCode ?? 'by signal'}: ${String(packed.stderr).trim().split('\n')[0] ?? ''})`,
        'Pass --package with a tarball path or git URL npm install -g can install',
      );
    }
    const status: PackStatus = current === null ? 'new' : current.equals(bytes) ? 'unchanged' : 'changed';
    if (status === 'changed' && !options.force && !options.dryRun) {
      throw usageError(`${dest} exists with other content (another trac-deploy build); pass --force to replace it, or --package to install something else`);
    }
    if (status === 'unchanged' || options.dryRun) return { path: dest, status, written: false };
    await fs.mkdir(path.dirname(dest), { recursive: true });
    const part = `${dest}.part-${process.pid}`;
    await fs.writeFile(part, bytes, { mode: 0o644 });
    await fs.rename(part, dest);
    return { path: dest, status, written: true };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
