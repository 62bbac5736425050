import fs from 'fs-extra';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stagingCandidates } from '../../src/commands/deploy.js';
import { leftoverNote, removeLeftoverTemps } from '../../src/write/leftoverTemps.js';
import { removeStaleStaging, safeToStage, Staging, STAGING_PREFIX } from '../../src/write/stageHtdocs.js';
import { planSync } from '../../src/write/syncHtdocs.js';
import { tempDir } from '../helpers/tempDir.js';

const open: Staging[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.remove({ keepMade: true });
});

function start(htdocs: string, candidates: { key: string; dir: string }[]): Staging | null {
  const staging = Staging.start(htdocs, candidates);
  if (staging) open.push(staging);
  return staging;
}

async function source(root: string, files = 1): Promise<string> {
  const dir = path.join(root, 'src-common');
  for (let i = 0; i < files; i++) await fs.outputFile(path.join(dir, `f${i}.css`), `f${i}\n`);
  return dir;
}

/** This process's start time, as the staging name holds it. */
function ownStart(): string {
  const stat = fs.readFileSync('/proc/self/stat', 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

const isRoot = process.geteuid?.() === 0;

describe('Staging only where nobody else can put a link in the way', () => {
  it('stages below directories owned by root or this user, not writable by others (a sticky /tmp is fine)', async () => {
    const root = await tempDir();
    const common = await source(root);
    expect(safeToStage(root)).toBe(true);
    expect(start(path.join(root, 'target', 'htdocs'), [{ key: 'common', dir: common }])).not.toBeNull();
  });

  it('does not stage when TARGET/htdocs, TARGET or a directory above is writable by group or others', async () => {
    const root = await tempDir();
    const common = await source(root);
    const htdocs = path.join(root, 'target', 'htdocs');
    await fs.mkdirp(htdocs);
    for (const [dir, mode] of [[htdocs, 0o777], [htdocs, 0o775], [path.dirname(htdocs), 0o757], [root, 0o777], [root, 0o775]] as const) {
      await fs.chmod(dir, mode);
      expect(safeToStage(htdocs), `${dir} ${mode.toString(8)}`).toBe(false);
      expect(start(htdocs, [{ key: 'common', dir: common }])).toBeNull();
      await fs.chmod(dir, 0o755);
    }
    expect(await fs.readdir(htdocs)).toEqual([]);
    // Sticky and writable by all, the next directory this user's: nobody else can rename it.
    await fs.chmod(root, 0o1777);
    expect(safeToStage(htdocs)).toBe(true);
  });

  it.runIf(isRoot)('does not stage when a directory on the way is owned by another user', async () => {
    const root = await tempDir();
    const common = await source(root);
    const htdocs = path.join(root, 'target', 'htdocs');
    await fs.mkdirp(htdocs);
    await fs.chown(path.join(root, 'target'), 4321, 4321);
    expect(start(htdocs, [{ key: 'common', dir: common }])).toBeNull();
    expect(await fs.readdir(htdocs)).toEqual([]);
  });

  it('a link put in place of the staged directory while copying: the file made through it is removed, nothing is published', async () => {
    const root = await tempDir();
    const common = await source(root, 400);
    const htdocs = path.join(root, 'target', 'htdocs');
    const outside = path.join(root, 'outside');
    await fs.mkdirp(outside, { mode: 0o700 });
    const staging = start(htdocs, [{ key: 'common', dir: common }])!;
    const into = path.join(staging.dir, 'common');
    // Wait until some files are staged, then swap the key's directory for a link.
    // (Synchronous looks only: the copying goes on a few files per turn of the event loop.)
    const staged = () => (fs.existsSync(into) ? fs.readdirSync(into).length : 0);
    for (let i = 0; i < 10000 && staged() < 4; i++) await new Promise((r) => setImmediate(r));
    expect(staged()).toBeGreaterThanOrEqual(4);
    expect(staged()).toBeLessThan(400);
    fs.renameSync(into, path.join(root, 'moved'));
    fs.symlinkSync(outside, into);
    await staging.settle(new Map([['common', common]]));
    expect(await fs.readdir(outside)).toEqual([]);
    const plan = await planSync(htdocs, [{ key: 'common', dir: common }], {}, undefined, staging);
    expect(plan.staged).toEqual([]);
    // The staging directory itself swapped before the key's directory is made: nothing made there either.
    const outside2 = path.join(root, 'outside2');
    await fs.mkdirp(outside2, { mode: 0o700 });
    const early = start(path.join(root, 't2', 'htdocs'), [{ key: 'common', dir: common }])!;
    fs.renameSync(early.dir, path.join(root, 'moved2'));
    fs.symlinkSync(outside2, early.dir);
    await early.settle(new Map([['common', common]]));
    expect(await fs.readdir(outside2)).toEqual([]);
  });
});

describe('staging directories of killed runs', () => {
  it('are removed by a later run: a dead process, or its id reused (another start time); a live run, a link, never', async () => {
    const root = await tempDir();
    const htdocs = path.join(root, 'target', 'htdocs');
    const dead = path.join(htdocs, `${STAGING_PREFIX}4194305-123-0123456789ab`); // above any pid_max
    const reused = path.join(htdocs, `${STAGING_PREFIX}${process.pid}-1-0123456789ab`);
    const live = path.join(htdocs, `${STAGING_PREFIX}${process.pid}-${ownStart()}-0123456789ab`);
    for (const dir of [dead, reused, live]) await fs.outputFile(path.join(dir, 'common', 'css', 'trac.css'), 'a {}\n');
    const linkedTo = path.join(root, 'elsewhere');
    await fs.outputFile(path.join(linkedTo, 'keep.txt'), 'keep\n');
    const link = path.join(htdocs, `${STAGING_PREFIX}4194305-124-0123456789ab`);
    await fs.symlink(linkedTo, link);
    await fs.outputFile(path.join(htdocs, '.x.0123456789ab.tmp'), 'temp');
    const removed = removeLeftoverTemps(path.join(root, 'target'));
    expect(removed).toEqual([path.join(htdocs, '.x.0123456789ab.tmp'), dead, reused].sort());
    expect(await fs.pathExists(live)).toBe(true);
    expect(await fs.readFile(path.join(link, 'keep.txt'), 'utf8')).toBe('keep\n');
    expect(leftoverNote(removed, 'T')).toMatch(/^removed 1 temporary file and 2 staging directories an interrupted deploy left in T \(/);
    expect(leftoverNote([dead], 'T')).toBe(`removed 1 staging directory an interrupted deploy left in T (${dead})`);
  });

  it('a run killed with SIGKILL mid-staging: its directory goes at the next run', async () => {
    const root = await tempDir();
    const common = await source(root, 400);
    const htdocs = path.join(root, 'target', 'htdocs');
    const script = `import { Staging } from ${JSON.stringify(path.resolve('dist/write/stageHtdocs.js'))};
      Staging.start(${JSON.stringify(htdocs)}, [{ key: 'common', dir: ${JSON.stringify(common)} }]);
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    const left = (await fs.readdir(htdocs)).filter((n) => n.startsWith(STAGING_PREFIX));
    expect(left).toHaveLength(1);
    expect(removeStaleStaging(htdocs)).toEqual([path.join(htdocs, left[0]!)]);
    expect(await fs.readdir(htdocs)).toEqual([]);
  });

  it('are left alone where others could write (no removal by path there)', async () => {
    const root = await tempDir();
    const htdocs = path.join(root, 'htdocs');
    const dead = path.join(htdocs, `${STAGING_PREFIX}4194305-123-0123456789ab`);
    await fs.mkdirp(dead);
    await fs.chmod(htdocs, 0o777);
    expect(removeStaleStaging(htdocs)).toEqual([]);
    expect(await fs.pathExists(dead)).toBe(true);
  });
});

describe('deploy: what to stage', () => {
  it('a path that cannot be looked at (ENOTDIR) means nothing is staged, not an error', async () => {
    const root = await tempDir();
    const home = path.join(root, 'venv');
    await fs.outputFile(path.join(home, 'lib', 'python3.11'), 'a file, not a directory');
    expect(stagingCandidates(null, path.join(root, 'env'), home, path.join(root, 'target', 'htdocs'))).toEqual([]);
  });
});
