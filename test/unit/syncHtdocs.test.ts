import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applySync, planSync, readManifest, writeManifest } from '../../src/write/syncHtdocs.js';
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
});
