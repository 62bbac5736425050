import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentHash } from '../../src/write/ownership.js';
import { applySync, MANIFEST_NAME, MAX_STATIC_FILE_BYTES, planSync, readManifest, writeManifest } from '../../src/write/syncHtdocs.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * planSync reads only regular files, bounded, and never through a link out of the tree it reads:
 * the sources (static directories) and what is already in htdocs (which it compares, replaces
 * and removes).
 */
async function setup() {
  const root = await tempDir();
  const common = path.join(root, 'src-common');
  await fs.outputFile(path.join(common, 'css', 'trac.css'), 'a {}\n');
  const outside = path.join(root, 'outside');
  await fs.outputFile(path.join(outside, 'css', 'trac.css'), 'somebody else\'s\n');
  return { root, common, outside, htdocs: path.join(root, 'target', 'htdocs') };
}

describe('planSync reads bounded, regular files only, never through a link out of htdocs', () => {
  it('refuses a source file larger than it copies, by name, without reading it', async () => {
    const { common, htdocs } = await setup();
    const big = path.join(common, 'video.webm');
    // Sparse: the size says 1 byte more than the bound, no disk is used.
    await fs.writeFile(big, '');
    await fs.truncate(big, MAX_STATIC_FILE_BYTES + 1);
    await expect(planSync(htdocs, [{ key: 'common', dir: common }], {})).rejects.toThrow(`${big} is larger than 64 MiB`);
  });

  it('a directory of htdocs that is a link out: what is there is not read, nothing is written through it', async () => {
    const { common, outside, htdocs } = await setup();
    await fs.mkdirp(htdocs);
    await fs.symlink(outside, path.join(htdocs, 'common'));
    const before = await fs.readFile(path.join(outside, 'css', 'trac.css'), 'utf8');
    // The file exists there (through the link), and would be compared and replaced.
    await expect(planSync(htdocs, [{ key: 'common', dir: common }], {})).rejects.toThrow(/symbolic link out of/);
    // A file not there yet would be added through the link.
    await fs.remove(path.join(outside, 'css', 'trac.css'));
    await expect(planSync(htdocs, [{ key: 'common', dir: common }], {})).rejects.toThrow(/symbolic link out of/);
    expect(await fs.readdir(path.join(outside, 'css'))).toEqual([]);
    expect(before).toBe('somebody else\'s\n');
  });

  it('a file the manifest lists, reached through a link out of htdocs, is not removed', async () => {
    const { common, outside, htdocs } = await setup();
    const victim = path.join(outside, 'css', 'trac.css');
    // The manifest says trac-deploy wrote exactly this content at old/css/trac.css ...
    const manifest = { 'old/css/trac.css': contentHash(await fs.readFile(victim)) };
    // ... and old/ is now a link to a directory outside holding a file with that content.
    await fs.mkdirp(htdocs);
    await fs.symlink(outside, path.join(htdocs, 'old'));
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], manifest);
    expect(plan.entries.filter((e) => e.status === 'removed')).toEqual([]);
    await applySync(plan);
    expect(await fs.readFile(victim, 'utf8')).toBe('somebody else\'s\n');
  });

  it('a FIFO where the manifest lists a file is not opened (a read would block)', async () => {
    const { common, htdocs } = await setup();
    await fs.mkdirp(path.join(htdocs, 'gone'));
    await execa('mkfifo', [path.join(htdocs, 'gone', 'x.css')]);
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], { 'gone/x.css': contentHash('x') });
    expect(plan.entries.map((e) => `${e.status} ${e.rel}`)).toEqual(['added common/css/trac.css']);
  }, 60_000);

  it('a file in htdocs larger than anything it copies is somebody else\'s: refused without --force, not read', async () => {
    const { common, htdocs } = await setup();
    const dest = path.join(htdocs, 'common', 'css', 'trac.css');
    await fs.mkdirp(path.dirname(dest));
    await fs.writeFile(dest, '');
    await fs.truncate(dest, MAX_STATIC_FILE_BYTES + 1);
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], { 'common/css/trac.css': contentHash('a {}\n') });
    expect(plan.foreign).toEqual([dest]);
  });
});

describe('readManifest reads a regular file only', () => {
  it('a FIFO or a link under the manifest\'s name is no record: nothing counts as ours, nothing blocks', async () => {
    const { root, htdocs } = await setup();
    const target = path.dirname(htdocs);
    await fs.mkdirp(target);
    await writeManifest(target, { htdocs: { 'common/css/trac.css': contentHash('a {}\n') } });
    expect((await readManifest(target)).htdocs).toEqual({ 'common/css/trac.css': contentHash('a {}\n') });
    const elsewhere = path.join(root, 'manifest-elsewhere.json');
    await fs.move(path.join(target, MANIFEST_NAME), elsewhere);
    await fs.symlink(elsewhere, path.join(target, MANIFEST_NAME));
    expect(await readManifest(target)).toEqual({ htdocs: {} });
    await fs.remove(path.join(target, MANIFEST_NAME));
    await execa('mkfifo', [path.join(target, MANIFEST_NAME)]);
    expect(await readManifest(target)).toEqual({ htdocs: {} });
  }, 60_000);
});
