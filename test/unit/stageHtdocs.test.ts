import fs from 'fs-extra';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Staging, STAGING_PREFIX } from '../../src/write/stageHtdocs.js';
import { applySync, planSync } from '../../src/write/syncHtdocs.js';
import { tempDir } from '../helpers/tempDir.js';

const open: Staging[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.remove({ keepMade: true });
});

async function setup() {
  const root = await tempDir();
  const common = path.join(root, 'src-common');
  const site = path.join(root, 'env', 'htdocs');
  await fs.outputFile(path.join(common, 'css', 'trac.css'), 'a {}\n');
  await fs.outputFile(path.join(common, 'js', 'trac.js'), '// js\n');
  await fs.chmod(path.join(common, 'js', 'trac.js'), 0o640);
  await fs.utimes(path.join(common, 'css', 'trac.css'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  await fs.outputFile(path.join(site, 'logo.png'), 'png');
  const target = path.join(root, 'target');
  return { root, common, site, target, htdocs: path.join(target, 'htdocs') };
}

function start(htdocs: string, candidates: { key: string; dir: string }[]): Staging | null {
  const staging = Staging.start(htdocs, candidates);
  if (staging) open.push(staging);
  return staging;
}

const stagingDirs = async (htdocs: string) => ((await fs.pathExists(htdocs)) ? (await fs.readdir(htdocs)).filter((n) => n.startsWith(STAGING_PREFIX)) : []);

describe('Staging: static directories copied ahead, published by a rename', () => {
  it('publishes the staged copy of each key whole: same files, bytes, modes, times and manifest as a copy made file by file', async () => {
    const { root, common, site, htdocs } = await setup();
    const sources = [{ key: 'common', dir: common }, { key: 'site', dir: site }];
    const staging = start(htdocs, sources)!;
    expect(staging).not.toBeNull();
    // Private while it is being filled.
    expect((await fs.stat(staging.dir)).mode & 0o777).toBe(0o700);
    await staging.settle(new Map(sources.map((s) => [s.key, s.dir])));
    const plan = await planSync(htdocs, sources, {}, undefined, staging);
    expect(plan.staged.map((s) => s.key)).toEqual(['common', 'site']);
    expect(plan.entries.map((e) => `${e.status} ${e.rel} ${e.staged}`)).toEqual(['added common/css/trac.css true', 'added common/js/trac.js true', 'added site/logo.png true']);
    await applySync(plan);
    staging.remove({ keepMade: true });
    expect(await stagingDirs(htdocs)).toEqual([]);
    // The same as what the file-by-file copy makes.
    const other = path.join(root, 'other', 'htdocs');
    const plain = await planSync(other, sources, {});
    expect(plain.staged).toEqual([]);
    await applySync(plain);
    expect(plan.manifest).toEqual(plain.manifest);
    for (const rel of ['common/css/trac.css', 'common/js/trac.js', 'site/logo.png']) {
      const [a, b] = [path.join(htdocs, rel), path.join(other, rel)];
      expect(await fs.readFile(a, 'utf8')).toBe(await fs.readFile(b, 'utf8'));
      const [sa, sb] = [await fs.stat(a), await fs.stat(b)];
      expect(sa.mode).toBe(sb.mode);
      expect(sa.mtimeMs).toBe(sb.mtimeMs);
    }
    expect((await fs.stat(path.join(htdocs, 'common', 'js', 'trac.js'))).mode & 0o777).toBe(0o640);
    expect((await fs.stat(path.join(htdocs, 'common'))).mode & 0o777).toBe((await fs.stat(path.join(other, 'common'))).mode & 0o777);
  });

  it('never publishes a staged file that changed since it was read, nor leaves out a file added since', async () => {
    const { common, site, htdocs } = await setup();
    const sources = [{ key: 'common', dir: common }, { key: 'site', dir: site }];
    const staging = start(htdocs, sources)!;
    await staging.settle(new Map(sources.map((s) => [s.key, s.dir])));
    await fs.writeFile(path.join(common, 'css', 'trac.css'), 'changed since it was staged {}\n');
    await fs.outputFile(path.join(site, 'new.css'), 'new {}\n');
    const plan = await planSync(htdocs, sources, {}, undefined, staging);
    expect(plan.staged).toEqual([]);
    await applySync(plan);
    expect(await fs.readFile(path.join(htdocs, 'common', 'css', 'trac.css'), 'utf8')).toBe('changed since it was staged {}\n');
    expect(await fs.readFile(path.join(htdocs, 'site', 'new.css'), 'utf8')).toBe('new {}\n');
  });

  it('is not used for a key the answer serves from another directory, or from several', async () => {
    const { root, common, site, htdocs } = await setup();
    const staging = start(htdocs, [{ key: 'common', dir: common }, { key: 'site', dir: site }])!;
    const elsewhere = path.join(root, 'other-common');
    await fs.outputFile(path.join(elsewhere, 'css', 'trac.css'), 'other {}\n');
    await fs.outputFile(path.join(elsewhere, 'js', 'trac.js'), '// js\n');
    const answer = [{ key: 'common', dir: elsewhere }, { key: 'site', dir: site }, { key: 'site', dir: common }];
    await staging.settle(new Map([['common', elsewhere]]));
    const plan = await planSync(htdocs, answer, {}, undefined, staging);
    expect(plan.staged).toEqual([]);
    await applySync(plan);
    expect(await fs.readFile(path.join(htdocs, 'common', 'css', 'trac.css'), 'utf8')).toBe('other {}\n');
    expect(await fs.readFile(path.join(htdocs, 'site', 'css', 'trac.css'), 'utf8')).toBe('a {}\n');
  });

  it('refuses (exit 2) when htdocs/<key> appeared after the plan: nothing written into it, nor through a link there', async () => {
    const { root, common, htdocs } = await setup();
    const staging = start(htdocs, [{ key: 'common', dir: common }])!;
    await staging.settle(new Map([['common', common]]));
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], {}, undefined, staging);
    expect(plan.staged.map((s) => s.key)).toEqual(['common']);
    await fs.outputFile(path.join(htdocs, 'common', 'css', 'trac.css'), 'theirs\n');
    await expect(applySync(plan)).rejects.toMatchObject({ exitCode: 2, message: `${path.join(htdocs, 'common')} appeared while deploy ran; run again` });
    expect(await fs.readFile(path.join(htdocs, 'common', 'css', 'trac.css'), 'utf8')).toBe('theirs\n');
    expect(await fs.pathExists(path.join(htdocs, 'common', 'js'))).toBe(false);
    // A link put there: nothing is written where it leads.
    const outside = path.join(root, 'outside');
    await fs.mkdirp(outside);
    const again = start(path.join(root, 't2', 'htdocs'), [{ key: 'common', dir: common }])!;
    await again.settle(new Map([['common', common]]));
    const plan2 = await planSync(path.join(root, 't2', 'htdocs'), [{ key: 'common', dir: common }], {}, undefined, again);
    expect(plan2.staged.map((s) => s.key)).toEqual(['common']);
    await fs.symlink(outside, path.join(root, 't2', 'htdocs', 'common'));
    await expect(applySync(plan2)).rejects.toMatchObject({ exitCode: 2 });
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it('two deploys staging into one fresh TARGET: one publishes, the other refuses (never both "added")', async () => {
    const { common, htdocs } = await setup();
    const sources = [{ key: 'common', dir: common }];
    const [a, b] = [start(htdocs, sources)!, start(htdocs, sources)!];
    expect(a.dir).not.toBe(b.dir);
    await Promise.all([a.settle(new Map([['common', common]])), b.settle(new Map([['common', common]]))]);
    const [planA, planB] = [await planSync(htdocs, sources, {}, undefined, a), await planSync(htdocs, sources, {}, undefined, b)];
    expect([planA.staged.length, planB.staged.length]).toEqual([1, 1]);
    const results = await Promise.allSettled([applySync(planA), applySync(planB)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await fs.readFile(path.join(htdocs, 'common', 'css', 'trac.css'), 'utf8')).toBe('a {}\n');
    expect((await fs.readdir(path.join(htdocs, 'common'))).sort()).toEqual(['css', 'js']);
  });

  it('a key the answer does not publish is skipped, and the next key is still staged', async () => {
    const { common, site, htdocs } = await setup();
    for (let i = 0; i < 40; i++) await fs.outputFile(path.join(common, 'many', `f${i}.css`), `f${i}\n`);
    const sources = [{ key: 'common', dir: common }, { key: 'site', dir: site }];
    const staging = start(htdocs, sources)!;
    // The answer comes while common is being copied, and publishes site only.
    await staging.settle(new Map([['site', site]]));
    const plan = await planSync(htdocs, [{ key: 'site', dir: site }], {}, undefined, staging);
    expect(plan.staged.map((s) => s.key)).toEqual(['site']);
  });

  it('removed (a refusal): nothing is left, neither the staging nor the TARGET and htdocs it made', async () => {
    const { root, common, site, target, htdocs } = await setup();
    const staging = start(htdocs, [{ key: 'common', dir: common }, { key: 'site', dir: site }])!;
    await staging.settle(new Map([['common', common]]));
    staging.remove();
    expect(await fs.pathExists(target)).toBe(false);
    // An existing TARGET stays, and so does what it held.
    await fs.outputFile(path.join(target, 'mine.txt'), 'mine\n');
    const again = start(htdocs, [{ key: 'common', dir: common }])!;
    await again.settle(new Map([['common', common]]));
    again.remove();
    expect(await fs.readdir(target)).toEqual(['mine.txt']);
    // Removed while it is still copying: it stops, and nothing comes back.
    for (let i = 0; i < 40; i++) await fs.outputFile(path.join(common, 'many', `f${i}.css`), `f${i}\n`);
    const busy = start(path.join(root, 'busy', 'htdocs'), [{ key: 'common', dir: common }])!;
    busy.remove();
    await busy.settle(new Map([['common', common]]));
    expect(await fs.pathExists(path.join(root, 'busy'))).toBe(false);
  });

  it('stages nothing into a key that exists, through a link, or where source and target lie inside one another', async () => {
    const { root, common, site, target, htdocs } = await setup();
    // A re-run: htdocs/common is there (the file-by-file plan compares it), site is new.
    await fs.mkdirp(path.join(htdocs, 'common'));
    const rerun = start(htdocs, [{ key: 'common', dir: common }, { key: 'site', dir: site }])!;
    expect(rerun.staged.map((s) => s.key)).toEqual(['site']);
    rerun.remove({ keepMade: true });
    await fs.mkdirp(path.join(htdocs, 'site'));
    expect(start(htdocs, [{ key: 'common', dir: common }, { key: 'site', dir: site }])).toBeNull();
    // TARGET, or its htdocs, a symbolic link: never written through.
    const real = path.join(root, 'real-target');
    await fs.mkdirp(real);
    await fs.symlink(real, path.join(root, 'linked'));
    expect(start(path.join(root, 'linked', 'htdocs'), [{ key: 'common', dir: common }])).toBeNull();
    await fs.mkdirp(path.join(root, 't2'));
    await fs.symlink(real, path.join(root, 't2', 'htdocs'));
    expect(start(path.join(root, 't2', 'htdocs'), [{ key: 'common', dir: common }])).toBeNull();
    expect(await fs.readdir(real)).toEqual([]);
    // TARGET below the source (trac-admin refuses it), or the source below TARGET's htdocs.
    expect(start(path.join(site, 'deploy', 'htdocs'), [{ key: 'site', dir: site }])).toBeNull();
    expect(await fs.pathExists(path.join(site, 'deploy'))).toBe(false);
    const inside = path.join(root, 't3', 'htdocs', 'mine');
    await fs.outputFile(path.join(inside, 'x.css'), 'x\n');
    expect(start(path.join(root, 't3', 'htdocs'), [{ key: 'common', dir: inside }])).toBeNull();
    // A key that is not one path segment.
    expect(start(path.join(root, 't4', 'htdocs'), [{ key: '../up', dir: common }])).toBeNull();
    expect(await fs.pathExists(path.join(root, 't4'))).toBe(false);
    // TARGET holds what the re-runs made, and no staging directory is left in its htdocs.
    expect(await fs.readdir(target)).toEqual(['htdocs']);
    expect((await fs.readdir(htdocs)).sort()).toEqual(['common', 'site']);
  });
});
