import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { askingUser, setprivArgs } from '../../src/python/askingUser.js';
import { mayRead, maySearch, type Reader } from '../../src/util/modeAccess.js';
import { listPinnedSync } from '../../src/write/confinedRead.js';
import { pinSources, siteDir } from '../../src/write/pinSources.js';
import { planSync } from '../../src/write/syncHtdocs.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * deploy as root publishes only what the web server's user may read, and pins each source to
 * its real path once (the site rule decided on ENV/htdocs itself).
 */
const WWW: Reader = { name: 'www-data', uid: 33, gid: 33, groups: [33] };
const asRoot = process.geteuid?.() === 0;

describe('permission bits for another user', () => {
  it('the first class that matches decides, as the kernel does', () => {
    expect(mayRead({ mode: 0o644, uid: 0, gid: 0 }, WWW)).toBe(true);
    expect(mayRead({ mode: 0o600, uid: 0, gid: 0 }, WWW)).toBe(false);
    expect(mayRead({ mode: 0o640, uid: 0, gid: 33 }, WWW)).toBe(true);
    expect(mayRead({ mode: 0o640, uid: 0, gid: 44 }, { ...WWW, groups: [33, 44] })).toBe(true);
    // Owner class matches first: its bits decide, whatever the others say.
    expect(mayRead({ mode: 0o044, uid: 33, gid: 0 }, WWW)).toBe(false);
    expect(maySearch({ mode: 0o700, uid: 0, gid: 0 }, WWW)).toBe(false);
    expect(maySearch({ mode: 0o711, uid: 0, gid: 0 }, WWW)).toBe(true);
    expect(mayRead({ mode: 0o000, uid: 5, gid: 5 }, { ...WWW, uid: 0 })).toBe(true);
  });
});

describe.skipIf(!asRoot)('as root', () => {
  it('asks as the web server user when there is one; not root, and not at all when not root', () => {
    const user = askingUser('/nonexistent-env');
    expect(user?.why).toBe('web-server');
    expect(user?.uid).not.toBe(0);
    expect(setprivArgs(user!)).toEqual([`--reuid=${user!.uid}`, `--regid=${user!.gid}`, '--init-groups']);
    expect(askingUser('/nonexistent-env', false)).toBeNull();
  });

  it('lists nothing below a directory the reader may not enter, nor below a root whose parent it may not pass', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    await fs.outputFile(path.join(src, 'open.css'), 'a\n');
    await fs.outputFile(path.join(src, 'closed', 'secret.txt'), 'KEY\n');
    await fs.chmod(path.join(src, 'closed'), 0o700);
    const listing = listPinnedSync(src, src, WWW)!;
    expect(listing.rels).toEqual(['open.css']);
    expect(listing.denied.map((d) => d.dir)).toEqual([path.join(src, 'closed')]);
    expect(listPinnedSync(src, src, null)!.rels.sort()).toEqual(['closed/secret.txt', 'open.css']);
    await fs.chmod(root, 0o700);
    const above = listPinnedSync(src, src, WWW)!;
    expect(above.rels).toEqual([]);
    expect(above.denied.map((d) => d.dir)).toEqual([root]);
    await fs.chmod(root, 0o755);
  });

  it('planSync copies no file the reader may not read, judged on the descriptor read, one warning per directory', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    await fs.outputFile(path.join(src, 'ok.css'), 'a\n');
    await fs.outputFile(path.join(src, 'a.key'), 'KEY-A\n', { mode: 0o600 });
    await fs.outputFile(path.join(src, 'b.key'), 'KEY-B\n', { mode: 0o600 });
    const htdocs = path.join(root, 'target', 'htdocs');
    const plan = await planSync(htdocs, [{ key: 'plug', dir: src, root: src }], {}, undefined, null, { reader: WWW });
    expect(plan.entries.map((e) => e.rel)).toEqual(['plug/ok.css']);
    expect(plan.denied).toHaveLength(1);
    expect(plan.denied[0]!.dir).toBe(src);
    expect(plan.denied[0]!.why).toContain('2 files');
    expect(plan.denied[0]!.why).not.toContain('KEY');
    // Without a reader (not root), what the caller may read is copied.
    expect((await planSync(htdocs, [{ key: 'plug', dir: src }], {})).entries).toHaveLength(3);
  });

  it('reads below the root pinned once: a source swapped for a link afterwards is not read through', async () => {
    const root = await tempDir();
    const src = path.join(root, 'src');
    const elsewhere = path.join(root, 'elsewhere');
    await fs.outputFile(path.join(src, 'site.css'), 'site\n');
    await fs.outputFile(path.join(elsewhere, 'secret.txt'), 'KEY\n');
    const [pinned] = pinSources([{ key: 'plug', dir: src }], siteDir(path.join(root, 'env'))).pinned;
    await fs.move(src, path.join(root, 'moved'));
    await fs.symlink(elsewhere, src);
    const plan = await planSync(path.join(root, 't', 'htdocs'), [pinned!], {});
    expect(plan.entries).toEqual([]);
  });

  it("the site rule is decided on ENV/htdocs: another user's link out skips a source however the answer names it", async () => {
    const root = await tempDir();
    const env = path.join(root, 'env');
    const outside = path.join(root, 'outside');
    await fs.mkdirp(env);
    await fs.outputFile(path.join(outside, 'key.txt'), 'KEY\n');
    await fs.symlink(outside, path.join(env, 'htdocs'));
    await fs.lchown(path.join(env, 'htdocs'), 33, 33);
    const site = siteDir(env);
    expect(site.planted?.real).toBe(outside);
    // Trac names the site directory by its real path (a fresh answer), or as ENV/htdocs (an older one).
    for (const dir of [outside, path.join(env, 'htdocs')]) {
      const { pinned, linkedOut } = pinSources([{ key: 'site', dir }], site);
      expect(pinned).toEqual([]);
      expect(linkedOut).toHaveLength(1);
    }
    // ... and under any key.
    expect(pinSources([{ key: 'other', dir: outside }], site).pinned).toEqual([]);
    // Root's own link is the administrator's choice: followed.
    await fs.lchown(path.join(env, 'htdocs'), 0, 0);
    expect(siteDir(env).planted).toBeNull();
  });
});
