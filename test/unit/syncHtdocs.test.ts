import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { applySync, planSync, prefetchSources, PREFETCH_FILE_LIMIT, readConfined, readManifest, writeManifest } from '../../src/write/syncHtdocs.js';
import { tempDir } from '../helpers/tempDir.js';

async function setup() {
  const root = await tempDir();
  const common = path.join(root, 'src-common');
  const plugin = path.join(root, 'src-plugin');
  await fs.outputFile(path.join(common, 'css', 'trac.css'), 'a {}\n');
  await fs.outputFile(path.join(common, 'js', 'trac.js'), '// js\n');
  await fs.outputFile(path.join(plugin, 'p.css'), 'p {}\n');
  return { root, common, plugin, htdocs: path.join(root, 'target', 'htdocs'), target: path.join(root, 'target') };
}

describe('planSync / applySync', () => {
  it('adds everything on the first run, then finds nothing to do', async () => {
    const { common, plugin, htdocs, target } = await setup();
    const sources = [{ key: 'common', dir: common }, { key: 'plug', dir: plugin }, { key: 'site', dir: path.join(common, 'css') }];
    const first = await planSync(htdocs, sources, {});
    expect(first.entries.map((e) => `${e.status} ${e.rel}`)).toEqual(['added common/css/trac.css', 'added common/js/trac.js', 'added plug/p.css', 'added site/trac.css']);
    await applySync(first);
    await writeManifest(target, { htdocs: first.manifest });
    expect(await fs.readFile(path.join(htdocs, 'plug', 'p.css'), 'utf8')).toBe('p {}\n');
    const again = await planSync(htdocs, sources, (await readManifest(target)).htdocs);
    expect(again.entries.every((e) => e.status === 'unchanged')).toBe(true);
    expect(again.foreign).toEqual([]);
  });

  it('lets a later source win for the same file, as trac-admin deploy does', async () => {
    const { root, common, htdocs } = await setup();
    const other = path.join(root, 'other');
    await fs.outputFile(path.join(other, 'css', 'trac.css'), 'b {}\n');
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }, { key: 'common', dir: other }], {});
    await applySync(plan);
    expect(await fs.readFile(path.join(htdocs, 'common', 'css', 'trac.css'), 'utf8')).toBe('b {}\n');
  });

  it('replaces its own earlier files, flags files it did not write, removes its stale files only', async () => {
    const { common, plugin, htdocs, target } = await setup();
    const first = await planSync(htdocs, [{ key: 'common', dir: common }, { key: 'plug', dir: plugin }], {});
    await applySync(first);
    await writeManifest(target, { htdocs: first.manifest });
    await fs.writeFile(path.join(common, 'css', 'trac.css'), 'upgraded {}\n');
    await fs.outputFile(path.join(htdocs, 'common', 'js', 'trac.js'), '// edited by hand\n');
    await fs.outputFile(path.join(htdocs, 'mine.txt'), 'unrelated\n');
    const next = await planSync(htdocs, [{ key: 'common', dir: common }], (await readManifest(target)).htdocs);
    const byRel = Object.fromEntries(next.entries.map((e) => [e.rel, e.status]));
    expect(byRel).toEqual({ 'common/css/trac.css': 'replaced', 'common/js/trac.js': 'replaced', 'plug/p.css': 'removed' });
    expect(next.foreign).toEqual([path.join(htdocs, 'common', 'js', 'trac.js')]);
    await applySync(next);
    expect(await fs.pathExists(path.join(htdocs, 'plug', 'p.css'))).toBe(false);
    expect(await fs.readFile(path.join(htdocs, 'mine.txt'), 'utf8')).toBe('unrelated\n');
  });

  it('refuses to write through a symbolic link', async () => {
    const { root, common, htdocs } = await setup();
    await fs.mkdirp(path.join(htdocs, 'common', 'css'));
    await fs.symlink(path.join(root, 'elsewhere'), path.join(htdocs, 'common', 'css', 'trac.css'));
    await expect(planSync(htdocs, [{ key: 'common', dir: common }], {})).rejects.toThrow(/symbolic link/);
  });

  it('never follows a link in a source, to a file or a directory, inside the tree or out of it', async () => {
    const { root, common, htdocs } = await setup();
    const secret = path.join(root, 'secret.txt');
    await fs.writeFile(secret, 'root only\n', { mode: 0o600 });
    await fs.symlink(secret, path.join(common, 'css', 'leak.css'));
    await fs.symlink('trac.css', path.join(common, 'css', 'inside.css'));
    await fs.mkdirp(path.join(root, 'private-dir'));
    await fs.writeFile(path.join(root, 'private-dir', 'key.pem'), 'KEY\n');
    await fs.symlink(path.join(root, 'private-dir'), path.join(common, 'linked-dir'));
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], {});
    expect(plan.entries.map((e) => e.rel)).toEqual(['common/css/trac.css', 'common/js/trac.js']);
    expect(plan.skipped).toEqual([path.join(common, 'css', 'inside.css'), path.join(common, 'css', 'leak.css'), path.join(common, 'linked-dir')]);
    await applySync(plan);
    expect(await fs.pathExists(path.join(htdocs, 'common', 'css', 'leak.css'))).toBe(false);
    expect(await fs.pathExists(path.join(htdocs, 'common', 'linked-dir'))).toBe(false);
  });

  it('reads through a checked descriptor: a path swapped for a link, or through one, after listing is not read', async () => {
    const { root, common } = await setup();
    const realCommon = await fs.realpath(common);
    const secret = path.join(root, 'secret.txt');
    await fs.writeFile(secret, 'root only\n', { mode: 0o600 });
    const css = path.join(common, 'css', 'trac.css');
    expect((await readConfined(css, realCommon))?.content.toString()).toBe('a {}\n');
    // the file itself replaced by a link to a root-only file
    await fs.rename(css, `${css}.moved`);
    await fs.symlink(secret, css);
    expect(await readConfined(css, realCommon)).toBeNull();
    // a directory on the way replaced by a link to a directory outside holding the same name
    await fs.outputFile(path.join(root, 'evil', 'trac.css'), 'leaked\n');
    await fs.rename(path.join(common, 'css'), path.join(root, 'css-moved'));
    await fs.symlink(path.join(root, 'evil'), path.join(common, 'css'));
    expect(await readConfined(css, realCommon)).toBeNull();
    // a FIFO is not opened for reading (it would block)
    await execa('mkfifo', [path.join(common, 'js', 'fifo.js')]);
    expect(await readConfined(path.join(common, 'js', 'fifo.js'), realCommon)).toBeNull();
  });

  it('never widens a file\'s permissions: a 0600 source stays 0600, a 0640 one 0640', async () => {
    const { common, htdocs } = await setup();
    await fs.chmod(path.join(common, 'css', 'trac.css'), 0o600);
    await fs.chmod(path.join(common, 'js', 'trac.js'), 0o640);
    await applySync(await planSync(htdocs, [{ key: 'common', dir: common }], {}));
    expect((await fs.stat(path.join(htdocs, 'common', 'css', 'trac.css'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(htdocs, 'common', 'js', 'trac.js'))).mode & 0o777).toBe(0o640);
  });

  it('writes an added file beside its name and renames it there: a link planted at the name is replaced, never followed', async () => {
    const { root, common, htdocs } = await setup();
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], {});
    expect(plan.entries.map((e) => e.status)).toEqual(['added', 'added']);
    // Planted between the plan and the copy: a link to a file that does not exist yet.
    await fs.mkdirp(path.join(htdocs, 'common', 'js'));
    await fs.symlink(path.join(root, 'elsewhere.js'), path.join(htdocs, 'common', 'js', 'trac.js'));
    await applySync(plan);
    expect(await fs.pathExists(path.join(root, 'elsewhere.js'))).toBe(false);
    const js = path.join(htdocs, 'common', 'js', 'trac.js');
    expect((await fs.lstat(js)).isFile()).toBe(true);
    expect(await fs.readFile(js, 'utf8')).toBe('// js\n');
    // Complete, with the source's times (to the millisecond, as a Date carries it); no temporary file is left.
    const copied = (await fs.stat(path.join(htdocs, 'common', 'css', 'trac.css'))).mtimeMs;
    expect(Math.abs(copied - (await fs.stat(path.join(common, 'css', 'trac.css'))).mtimeMs)).toBeLessThan(1);
    expect((await fs.readdir(path.join(htdocs, 'common', 'js'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // A run stopped after these files were written but before its manifest: the files are whole
    // under their names, so the next plan finds them unchanged rather than someone else's.
    const again = await planSync(htdocs, [{ key: 'common', dir: common }], {});
    expect(again.entries.map((e) => e.status)).toEqual(['unchanged', 'unchanged']);
    expect(again.foreign).toEqual([]);
  });

  it('uses files read ahead only while they are the files that were read', async () => {
    const { root, common, htdocs } = await setup();
    const ahead = await prefetchSources([common, path.join(root, 'missing')]);
    expect([...ahead.keys()].sort()).toEqual([path.join(common, 'css', 'trac.css'), path.join(common, 'js', 'trac.js')]);
    // Read ahead and unchanged (same inode, size and times): the bytes read ahead are planned.
    const unchanged = await planSync(htdocs, [{ key: 'common', dir: common }], {}, ahead);
    expect(unchanged.entries.map((e) => e.content?.toString())).toEqual(['a {}\n', '// js\n']);
    // Changed since (new bytes, or swapped for a link): read again, or skipped like any link.
    await fs.writeFile(path.join(common, 'css', 'trac.css'), 'changed since {}\n');
    await fs.writeFile(path.join(root, 'secret.js'), 'secret\n');
    await fs.remove(path.join(common, 'js', 'trac.js'));
    await fs.symlink(path.join(root, 'secret.js'), path.join(common, 'js', 'trac.js'));
    const changed = await planSync(htdocs, [{ key: 'common', dir: common }], {}, ahead);
    expect(changed.entries.map((e) => `${e.rel} ${e.content?.toString()}`)).toEqual(['common/css/trac.css changed since {}\n']);
    expect(changed.skipped).toEqual([path.join(common, 'js', 'trac.js')]);
    // What was read ahead is what is planned (marked here to tell it from a new read), unless
    // it was read below another root (the same path, another directory).
    const fresh = await prefetchSources([common]);
    const marked = (under: string) => new Map([...fresh].map(([file, entry]) => [file, { ...entry, root: under, read: { ...entry.read, content: Buffer.from('read ahead\n') } }]));
    const realCommon = await fs.realpath(common);
    expect((await planSync(htdocs, [{ key: 'common', dir: common }], {}, marked(realCommon))).entries[0]?.content?.toString()).toBe('read ahead\n');
    expect((await planSync(htdocs, [{ key: 'common', dir: common }], {}, marked(path.join(root, 'other')))).entries[0]?.content?.toString()).toBe('changed since {}\n');
  });

  it('reads ahead only small files, within a budget, and stops when aborted', async () => {
    const { root, common, htdocs } = await setup();
    const big = path.join(common, 'big.bin');
    await fs.outputFile(big, Buffer.alloc(PREFETCH_FILE_LIMIT + 1, 7));
    for (let i = 0; i < 6; i++) await fs.outputFile(path.join(common, 'many', `f${i}.bin`), Buffer.alloc(100 * 1024, i));
    // The default bounds: the file over the per-file limit is not held; planSync reads it itself.
    const ahead = await prefetchSources([common]);
    expect(ahead.has(big)).toBe(false);
    expect(ahead.size).toBe(8);
    const planned = await planSync(htdocs, [{ key: 'common', dir: common }], {}, ahead);
    expect(planned.entries.find((e) => e.rel === 'common/big.bin')?.content?.length).toBe(PREFETCH_FILE_LIMIT + 1);
    // A budget of 350 KiB: what is held never exceeds it (three of the 100 KiB files at most).
    const budgeted = await prefetchSources([common], { budget: 350 * 1024 });
    const held = [...budgeted.values()].reduce((sum, e) => sum + e.read.content.length, 0);
    expect(held).toBeLessThanOrEqual(350 * 1024);
    expect([...budgeted.keys()].filter((f) => f.endsWith('.bin')).length).toBeLessThanOrEqual(3);
    expect(budgeted.size).toBeGreaterThan(0);
    // Aborted: nothing more is read (aborted before its first read: nothing at all).
    const stop = new AbortController();
    const stopped = prefetchSources([common, path.join(root, 'src-plugin')], { signal: stop.signal });
    stop.abort();
    expect((await stopped).size).toBe(0);
  });

  it('copies past a temporary file a killed earlier run left under this process id', async () => {
    const { common, htdocs } = await setup();
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], {});
    // What a run killed between creating its temp file and renaming it leaves behind; a
    // container's next run often has the same PID.
    const leftover = path.join(htdocs, 'common', 'css', `.trac.css.${process.pid}.tmp`);
    await fs.outputFile(leftover, 'half');
    await applySync(plan);
    expect(await fs.readFile(path.join(htdocs, 'common', 'css', 'trac.css'), 'utf8')).toBe('a {}\n');
    expect(await fs.readFile(leftover, 'utf8')).toBe('half');
  });
});
