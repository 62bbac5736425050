import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The marker the role's unarchive task waits for (`creates:`), written last into the archive. */
export const COMPLETE_MARKER = '.trac-deploy-complete';

export interface StaticDir {
  key: string;
  dir: string;
}

/**
 * A digest of the static files (paths and bytes, keys in order; a later source of the same
 * key overlays an earlier one, as trac-admin deploy copies them). It names the archive and the
 * directory each host unpacks it into, so a new version never overwrites the files the running
 * (or restored) configuration serves.
 */
export async function digestStatic(sources: StaticDir[]): Promise<string> {
  const files = new Map<string, string>();
  for (const source of sources) {
    for (const rel of await walk(source.dir)) files.set(path.posix.join(source.key, rel), path.join(source.dir, rel));
  }
  const hash = createHash('sha256');
  for (const rel of [...files.keys()].sort()) {
    hash.update(rel + '\0');
    hash.update(await fs.readFile(files.get(rel)!));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Regular files below dir, relative, sorted; symbolic links are not followed out of it. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? path.join(prefix, e.name) : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/**
 * Write `<top>/<key>/...` of every source into a gzipped tar at `target` (owner root, no
 * times), with the completion marker in <top>. Staged in a temp dir so that sources of one key
 * overlay in order.
 */
export async function writeStaticArchive(sources: StaticDir[], target: string, top: string): Promise<void> {
  const outer = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-fleet-htdocs-'));
  const stage = path.join(outer, top);
  try {
    await fs.mkdir(stage, { mode: 0o755 });
    for (const source of sources) {
      await fs.mkdir(path.join(stage, source.key), { recursive: true });
      for (const rel of await walk(source.dir)) {
        const dest = path.join(stage, source.key, rel);
        await fs.mkdir(path.dirname(dest), { recursive: true });
        await fs.copyFile(path.join(source.dir, rel), dest);
        await fs.chmod(dest, 0o644);
      }
    }
    await fs.writeFile(path.join(stage, COMPLETE_MARKER), 'trac-deploy fleet: unpacked completely\n', { mode: 0o644 });
    const partial = `${target}.partial`;
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--mode=u+rwX,go+rX,go-w', '-czf', partial, '-C', outer, top]);
      await fs.rename(partial, target);
    } catch (error) {
      await fs.rm(partial, { force: true });
      throw error;
    }
  } finally {
    await fs.rm(outer, { recursive: true, force: true });
  }
}
