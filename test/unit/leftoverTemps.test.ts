import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOurTempName, removeLeftoverTemps } from '../../src/write/leftoverTemps.js';
import { STAGING_PREFIX } from '../../src/write/stageHtdocs.js';
import { tempDir } from '../helpers/tempDir.js';

/** Temporary files an interrupted deploy left in TARGET: ours removed, nothing else touched. */
describe('removeLeftoverTemps', () => {
  it('knows the names trac-deploy writes under, and no others', () => {
    expect(isOurTempName('.trac.css.0a1b2c3d4e5f.tmp')).toBe(true);
    expect(isOurTempName('.trac-deploy-manifest.json.0a1b2c3d4e5f.tmp')).toBe(true);
    expect(isOurTempName(`.trac.wsgi.4242.${Date.now()}.k3x9a.tmp`)).toBe(true);
    for (const name of ['trac.css.0a1b2c3d4e5f.tmp', '.trac.css.0A1B2C3D4E5F.tmp', '.trac.css.0a1b2c3d4e5.tmp', '.trac.css.4242.tmp', '.x.tmp', '.trac.css.0a1b2c3d4e5f.tmp.bak']) {
      expect(isOurTempName(name), name).toBe(false);
    }
  });

  it('removes ours in TARGET, cgi-bin and below htdocs; leaves links, look-alikes, other users\' files and everything outside', async () => {
    const root = await tempDir();
    const target = path.join(root, 'target');
    const outside = path.join(root, 'outside');
    const ours = [
      path.join(target, '.trac-deploy-manifest.json.0a1b2c3d4e5f.tmp'),
      path.join(target, `.env.conf.4194305.${Date.now()}.abc123.tmp`),
      path.join(target, 'cgi-bin', `.trac.wsgi.4194305.${Date.now()}.z.tmp`),
      path.join(target, 'htdocs', 'common', 'css', '.trac.css.00000000beef.tmp'),
      path.join(target, 'htdocs', 'plugin', 'deep', 'er', '.x.js.123456abcdef.tmp'),
    ];
    for (const file of ours) await fs.outputFile(file, 'half');
    const kept = [
      path.join(target, 'htdocs', 'common', 'css', 'trac.css'),
      path.join(target, 'htdocs', 'common', 'css', '.trac.css.4242.tmp'),
      path.join(target, 'htdocs', 'common', 'notes.tmp'),
      path.join(target, 'cgi-bin', 'sub', `.x.4194305.${Date.now()}.abc.tmp`),
      path.join(outside, '.secret.0a1b2c3d4e5f.tmp'),
    ];
    for (const file of kept) await fs.outputFile(file, 'keep');
    // A link with our name (to a file outside), and a directory of htdocs that links outside.
    const link = path.join(target, 'htdocs', 'common', '.linked.0a1b2c3d4e5f.tmp');
    await fs.symlink(path.join(outside, '.secret.0a1b2c3d4e5f.tmp'), link);
    await fs.symlink(outside, path.join(target, 'htdocs', 'linked-dir'));
    await fs.symlink(outside, path.join(target, 'cgi-bin', 'linked-dir'));
    let othersFile: string | null = null;
    if (process.geteuid?.() === 0) {
      othersFile = path.join(target, 'htdocs', 'common', '.other.ffffffffffff.tmp');
      await fs.outputFile(othersFile, 'another user\'s');
      await fs.chown(othersFile, 65534, 65534);
    }

    expect(removeLeftoverTemps(target)).toEqual([...ours].sort());
    for (const file of ours) expect(await fs.pathExists(file), file).toBe(false);
    for (const file of kept) expect(await fs.readFile(file, 'utf8'), file).toBe('keep');
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    if (othersFile) expect(await fs.pathExists(othersFile)).toBe(true);
    // Nothing left to do the second time.
    expect(removeLeftoverTemps(target)).toEqual([]);
  });

  it('leaves a live run\'s staging directory and all in it alone (this process\'s: id and start time)', async () => {
    const root = await tempDir();
    const target = path.join(root, 'target');
    const stat = await fs.readFile('/proc/self/stat', 'latin1');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const staging = path.join(target, 'htdocs', `${STAGING_PREFIX}${process.pid}-${start}-0a1b2c3d4e5f`);
    // A plugin's own file that happens to look like one of our temporary names.
    const inside = path.join(staging, 'plugin', '.x.js.123456abcdef.tmp');
    await fs.outputFile(inside, 'staged');
    const left = path.join(target, 'htdocs', 'common', '.trac.css.00000000beef.tmp');
    await fs.outputFile(left, 'half');
    expect(removeLeftoverTemps(target)).toEqual([left]);
    expect(await fs.readFile(inside, 'utf8')).toBe('staged');
  });

  it('a TARGET/htdocs that is itself a link is not swept, nor a TARGET that does not exist', async () => {
    const root = await tempDir();
    const target = path.join(root, 'target');
    const elsewhere = path.join(root, 'elsewhere');
    await fs.outputFile(path.join(elsewhere, '.a.css.0a1b2c3d4e5f.tmp'), 'keep');
    await fs.mkdirp(target);
    await fs.symlink(elsewhere, path.join(target, 'htdocs'));
    expect(removeLeftoverTemps(target)).toEqual([]);
    expect(await fs.pathExists(path.join(elsewhere, '.a.css.0a1b2c3d4e5f.tmp'))).toBe(true);
    expect(removeLeftoverTemps(path.join(root, 'missing'))).toEqual([]);
  });
});
