import { execa } from 'execa';
import fs from 'fs-extra';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RenderedFile } from '../../src/plan/types.js';
import { isOurTempName, ownerMayRun, removeLeftoverTemps } from '../../src/write/leftoverTemps.js';
import { applySync, planSync, tempName } from '../../src/write/syncHtdocs.js';
import { compareFiles } from '../../src/write/writeFiles.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * What deploy writes below TARGET/htdocs and in TARGET/cgi-bin, and reads back there (review 7,
 * M1, M2, L3): as root, a directory another user may change is found (planSync's unsafe), a
 * directory swapped for a link after the plan is not written through, scripts are compared
 * through the confined reader (a FIFO or a link swapped in is never read), and a temp file of a
 * run that still goes on is not swept.
 */
const asRoot = process.geteuid?.() === 0;
const WWW = 33;

async function sources() {
  const root = await tempDir();
  const common = path.join(root, 'src-common');
  await fs.outputFile(path.join(common, 'css', 'trac.css'), 'a {}\n');
  await fs.outputFile(path.join(common, 'js', 'trac.js'), '// js\n');
  return { root, common, target: path.join(root, 'target'), htdocs: path.join(root, 'target', 'htdocs') };
}

describe.skipIf(!asRoot)('planSync as root: directories below htdocs another user may change', () => {
  it('names a directory not root\'s, and a root one writable by others, sticky or not; root-only ones pass', async () => {
    const { common, htdocs } = await sources();
    const plan = async () => (await planSync(htdocs, [{ key: 'common', dir: common }], {})).unsafe;
    await applySync(await planSync(htdocs, [{ key: 'common', dir: common }], {}));
    expect(await plan()).toEqual([]);
    const css = path.join(htdocs, 'common', 'css');
    await fs.chown(css, WWW, WWW);
    expect(await plan()).toEqual([{ dir: css, why: `is owned by uid ${WWW}, not root` }]);
    await fs.chown(css, 0, 0);
    await fs.chmod(path.join(htdocs, 'common'), 0o1777);
    expect((await plan()).map((u) => u.dir)).toEqual([path.join(htdocs, 'common')]);
    await fs.chmod(path.join(htdocs, 'common'), 0o755);
    // A link another user made where a directory of the plan goes.
    await fs.remove(path.join(htdocs, 'common', 'js'));
    await fs.symlink(css, path.join(htdocs, 'common', 'js'));
    await fs.lchown(path.join(htdocs, 'common', 'js'), WWW, WWW);
    expect(await plan()).toEqual([{ dir: path.join(htdocs, 'common', 'js'), why: `is a symbolic link owned by uid ${WWW}` }]);
  });

  it('a sticky 1777 htdocs (root\'s) where another user made common: common is named', async () => {
    const { common, htdocs } = await sources();
    await fs.mkdirp(htdocs);
    await fs.chmod(htdocs, 0o1777);
    await fs.mkdir(path.join(htdocs, 'common'));
    await fs.chown(path.join(htdocs, 'common'), WWW, WWW);
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], {});
    expect(plan.unsafe.map((u) => u.dir)).toEqual([path.join(htdocs, 'common')]);
  });
});

describe('applySync writes through the directories it checked', () => {
  it('a directory swapped for a link after the plan: nothing is written through it (exit 2)', async () => {
    const { root, common, htdocs } = await sources();
    await applySync(await planSync(htdocs, [{ key: 'common', dir: common }], {}));
    await fs.outputFile(path.join(common, 'css', 'new.css'), 'new {}\n');
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], {});
    expect(plan.entries.filter((e) => e.status === 'added').map((e) => e.rel)).toEqual(['common/css/new.css']);
    const outside = path.join(root, 'outside');
    await fs.mkdirp(outside);
    await fs.rename(path.join(htdocs, 'common', 'css'), path.join(htdocs, 'common', 'css.old'));
    await fs.symlink(outside, path.join(htdocs, 'common', 'css'));
    await expect(applySync(plan)).rejects.toMatchObject({ exitCode: 2 });
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it.skipIf(!asRoot)('as root, a directory another user made between the plan and the write: not written into (unless --force)', async () => {
    const { common, htdocs } = await sources();
    await fs.mkdirp(htdocs);
    await fs.chmod(htdocs, 0o1777);
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], {});
    expect(plan.unsafe).toEqual([]);
    // Made by www-data after the plan (a sticky htdocs lets it).
    await execa('setpriv', ['--reuid=www-data', '--regid=www-data', '--init-groups', 'mkdir', path.join(htdocs, 'common')]);
    await expect(applySync(plan)).rejects.toThrow(/is owned by uid 33, not root/);
    expect(await fs.readdir(path.join(htdocs, 'common'))).toEqual([]);
    await applySync(plan, { force: true });
    expect(await fs.readFile(path.join(htdocs, 'common', 'css', 'trac.css'), 'utf8')).toBe('a {}\n');
  });

  it('temp files are named with this run\'s pid and time: a concurrent sweep leaves them alone', () => {
    const name = tempName('trac.css');
    expect(isOurTempName(name)).toBe(true);
    expect(ownerMayRun(name)).toBe(true);
  });
});

function script(file: string, content = 'ours\n'): RenderedFile {
  return { path: file, content, mode: 0o755, kind: 'wsgi' } as RenderedFile;
}

describe('compareFiles reads existing scripts confined and bounded', () => {
  it('a FIFO or a link to a secret swapped in for a script while --check looks: never read (no hang, no secret)', async () => {
    const root = await tempDir();
    const out = path.join(root, 'out');
    await fs.mkdirp(out);
    const secret = path.join(root, 'secret');
    await fs.writeFile(secret, 'FAKE-PASSWORD\n', { mode: 0o600 });
    const file = path.join(out, 'trac.wsgi');
    await fs.writeFile(file, 'ours, edited\n');
    await fs.symlink(secret, path.join(out, 'alt-link'));
    await execa('mkfifo', [path.join(out, 'alt-fifo')]);
    // Swap the script with the link, and with the FIFO, atomically and without end.
    const swapper = spawn('/usr/bin/python3', ['-c', `import ctypes,sys
l=ctypes.CDLL(None)
a=sys.argv[1].encode(); b=sys.argv[2].encode(); c=sys.argv[3].encode()
while True:
  l.renameat2(-100,a,-100,b,2); l.renameat2(-100,a,-100,b,2); l.renameat2(-100,a,-100,c,2); l.renameat2(-100,a,-100,c,2)`, file, path.join(out, 'alt-link'), path.join(out, 'alt-fifo')], { stdio: 'ignore' });
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 400; i++) {
        try {
          const [outcome] = await compareFiles([script(file)], { looking: true });
          seen.add(outcome!.status);
          expect(outcome!.current ?? '').not.toContain('FAKE-PASSWORD');
        } catch (error) {
          // lstat saw the link or the FIFO: refused by name, as before
          expect(String(error)).toMatch(/symbolic link|not a regular file/);
        }
      }
      expect(seen.has('changed')).toBe(true);
    } finally {
      swapper.kill('SIGKILL');
    }
  }, 120_000);

  it('a script larger than the bound is not read: skipped when looking, refused when writing', async () => {
    const root = await tempDir();
    const file = path.join(root, 'trac.wsgi');
    await fs.writeFile(file, Buffer.alloc(5 * 1024 * 1024, 0x41));
    const [looked] = await compareFiles([script(file)], { looking: true });
    expect(looked).toMatchObject({ status: 'skipped', current: null });
    await expect(compareFiles([script(file)])).rejects.toMatchObject({ exitCode: 2 });
  });

  it.skipIf(!asRoot)('as root, looking: a script in a directory another user owns is not read at all, reported skipped with the reason', async () => {
    const root = await tempDir();
    const out = path.join(root, 'out');
    const cgi = path.join(out, 'cgi-bin');
    await fs.mkdirp(cgi);
    await fs.writeFile(path.join(cgi, 'trac.wsgi'), 'whatever\n');
    await fs.writeFile(path.join(out, 'site.conf'), 'ours\n');
    await fs.chown(cgi, WWW, WWW);
    const outcomes = await compareFiles([script(path.join(cgi, 'trac.wsgi')), script(path.join(out, 'site.conf'))], { looking: true });
    expect(outcomes[0]).toMatchObject({ status: 'skipped', current: null });
    expect(outcomes[0]!.reason).toContain(`${cgi} is owned by uid ${WWW}`);
    expect(outcomes[1]).toMatchObject({ status: 'unchanged' });
  });
});

describe('removeLeftoverTemps and temp files of runs still going', () => {
  it('keeps a temp file whose pid-named owner runs and started before it; removes a dead one\'s and a recycled pid\'s', async () => {
    const root = await tempDir();
    const target = path.join(root, 'target');
    const css = path.join(target, 'htdocs', 'common', 'css');
    await fs.mkdirp(css);
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const live = path.join(css, `.trac.css.${sleeper.pid}.${Date.now()}.abc123.tmp`);
      const dead = path.join(css, `.trac.css.4194305.${Date.now()}.abc123.tmp`);
      // The same live pid, but a file made a day before that process started: another run's.
      const recycled = path.join(css, `.trac.js.${sleeper.pid}.${Date.now() - 86_400_000}.abc123.tmp`);
      for (const file of [live, dead, recycled]) await fs.writeFile(file, 'half');
      expect(isOurTempName(path.basename(live))).toBe(true);
      expect(ownerMayRun(path.basename(live))).toBe(true);
      expect(removeLeftoverTemps(target)).toEqual([dead, recycled].sort());
      expect(await fs.pathExists(live)).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it.skipIf(!asRoot)('as root, sweeps no directory another user owns or may write', async () => {
    const root = await tempDir();
    const target = path.join(root, 'target');
    const css = path.join(target, 'htdocs', 'common', 'css');
    const js = path.join(target, 'htdocs', 'common', 'js');
    await fs.mkdirp(css);
    await fs.mkdirp(js);
    const inCss = path.join(css, '.trac.css.0a1b2c3d4e5f.tmp');
    const inJs = path.join(js, '.trac.js.0a1b2c3d4e5f.tmp');
    await fs.writeFile(inCss, 'half');
    await fs.writeFile(inJs, 'half');
    await fs.chown(css, WWW, WWW);
    await fs.chmod(js, 0o1777);
    expect(removeLeftoverTemps(target)).toEqual([]);
    await fs.chown(css, 0, 0);
    await fs.chmod(js, 0o755);
    expect(removeLeftoverTemps(target)).toEqual([inCss, inJs]);
  });
});
