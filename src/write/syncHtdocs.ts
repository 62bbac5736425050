import fs from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.js';
import { contentHash, isOurs } from './ownership.js';

/** One static directory to publish as htdocs/<key>, in Trac's provider order. */
export interface HtdocsSource {
  key: string;
  dir: string;
}

export type SyncStatus = 'added' | 'replaced' | 'unchanged' | 'removed';

export interface SyncEntry {
  /** Path relative to the htdocs directory, with "/" separators: "common/css/trac.css". */
  rel: string;
  status: SyncStatus;
  /** Where the content comes from (null for removals). */
  source: string | null;
}

export interface SyncPlan {
  htdocs: string;
  /** Every key published; its directory is made even when empty, as trac-admin makes it. */
  keys: string[];
  entries: SyncEntry[];
  /** Files that exist with other content and that trac-deploy did not write (refused without --force). */
  foreign: string[];
  /** What the manifest will record after the sync: rel -> content hash of the content written. */
  manifest: Record<string, string>;
}

/** The record of what trac-deploy wrote into a deployment directory. */
export const MANIFEST_NAME = '.trac-deploy-manifest.json';

export interface Manifest {
  /** htdocs-relative path -> content hash of the content trac-deploy wrote there. */
  htdocs: Record<string, string>;
  /** Scripts and configuration trac-deploy wrote: path relative to the target -> content hash. */
  files?: Record<string, string>;
}

export async function readManifest(target: string): Promise<Manifest> {
  try {
    const data = JSON.parse(await fs.readFile(path.join(target, MANIFEST_NAME), 'utf8')) as Partial<Manifest>;
    return { htdocs: data.htdocs ?? {}, files: data.files ?? {} };
  } catch {
    return { htdocs: {} };
  }
}

export async function writeManifest(target: string, manifest: Manifest): Promise<void> {
  const htdocs = Object.fromEntries(Object.entries(manifest.htdocs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const file = path.join(target, MANIFEST_NAME);
  const temp = `${file}.${process.pid}.tmp`;
  await fs.mkdir(target, { recursive: true });
  await fs.writeFile(temp, JSON.stringify({ generator: 'trac-deploy', files: manifest.files ?? {}, htdocs }, null, 1) + '\n');
  await fs.rename(temp, file);
}

/**
 * What publishing the sources into htdocs would do, comparing content before copying anything.
 * As trac-admin deploy does, a later source wins over an earlier one for the same file. A file
 * trac-deploy wrote before (per the manifest) and that no source provides any more is removed;
 * files it never wrote are left alone, and refused (listed in `foreign`) if they would change.
 */
export async function planSync(htdocs: string, sources: HtdocsSource[], manifest: Record<string, string>): Promise<SyncPlan> {
  const wanted = new Map<string, string>();
  for (const { key, dir } of sources) {
    for (const rel of await listFiles(dir)) wanted.set(`${key}/${rel}`, path.join(dir, rel));
  }
  const entries: SyncEntry[] = [];
  const foreign: string[] = [];
  const next: Record<string, string> = {};
  const jobs = [...wanted].map(([rel, source]) => async (): Promise<SyncEntry> => {
    const dest = path.join(htdocs, rel);
    const stat = await fs.lstat(dest).catch(() => null);
    if (stat && !stat.isFile()) {
      throw usageError(`${dest} exists and is not a regular file${stat.isSymbolicLink() ? ' (a symbolic link)' : ''}; trac-deploy will not replace it. Remove it and re-run`);
    }
    const content = await fs.readFile(source);
    const hash = contentHash(content);
    next[rel] = hash;
    if (!stat) return { rel, status: 'added', source };
    const current = stat.size === content.length ? await fs.readFile(dest) : null;
    if (current && current.equals(content)) return { rel, status: 'unchanged', source };
    const ours = isOurs(manifest[rel], current ?? (await fs.readFile(dest)));
    if (!ours) foreign.push(dest);
    return { rel, status: 'replaced', source };
  });
  entries.push(...(await inBatches(jobs)));
  for (const [rel, hash] of Object.entries(manifest)) {
    if (wanted.has(rel)) continue;
    const dest = path.join(htdocs, rel);
    const current = await fs.readFile(dest).catch(() => null);
    if (current === null) continue;
    if (isOurs(hash, current)) entries.push({ rel, status: 'removed', source: null });
    // Changed since trac-deploy wrote it: someone's edit, left alone and forgotten.
  }
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { htdocs, keys: [...new Set(sources.map((s) => s.key))], entries, foreign: foreign.sort(), manifest: next };
}

/** Carry out a sync plan: copy added and replaced files (temp file + rename), delete removed ones. */
export async function applySync(plan: SyncPlan): Promise<void> {
  const made = new Set<string>();
  for (const key of plan.keys) {
    await fs.mkdir(path.join(plan.htdocs, key), { recursive: true });
    made.add(path.join(plan.htdocs, key));
  }
  for (const entry of plan.entries) {
    const dest = path.join(plan.htdocs, entry.rel);
    if (entry.status === 'removed') {
      await fs.rm(dest, { force: true });
      continue;
    }
    if (entry.status === 'unchanged' || !entry.source) continue;
    const dir = path.dirname(dest);
    if (!made.has(dir)) {
      await fs.mkdir(dir, { recursive: true });
      made.add(dir);
    }
    const temp = path.join(dir, `.${path.basename(dest)}.${process.pid}.tmp`);
    try {
      await fs.copyFile(entry.source, temp);
      const stat = await fs.stat(entry.source);
      await fs.chmod(temp, (stat.mode & 0o777) | 0o444);
      // Keep the source's mtime, as trac-admin's copy2 does: Last-Modified and ETags stay stable.
      await fs.utimes(temp, stat.atime, stat.mtime);
      await fs.rename(temp, dest);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }
}

/** Regular files below dir (following links, as Trac's copytree does), relative, "/"-separated. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(path.join(dir, prefix), { withFileTypes: true });
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const stat = await fs.stat(path.join(dir, rel)).catch(() => null);
      isDir = Boolean(stat?.isDirectory());
      isFile = Boolean(stat?.isFile());
    }
    if (isDir) out.push(...(await listFiles(dir, rel)));
    else if (isFile) out.push(rel);
  }
  return out;
}

/** Run jobs a few dozen at a time: fast on many small files, without running out of descriptors. */
async function inBatches<T>(jobs: (() => Promise<T>)[], width = 32): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += width) out.push(...(await Promise.all(jobs.slice(i, i + width).map((job) => job()))));
  return out;
}
