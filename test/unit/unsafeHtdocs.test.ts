import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { refuseUnsafeHtdocs } from '../../src/write/unsafeHtdocs.js';
import { tempDir } from '../helpers/tempDir.js';

/** TARGET/htdocs that root cannot write safely: a link another user made, or a directory another user can change. */
const asRoot = process.geteuid?.() === 0;
const NOBODY = 65534;

function refusal(htdocs: string, force = false): UserError | null {
  try {
    refuseUnsafeHtdocs(htdocs, { force, asRoot: true });
    return null;
  } catch (error) {
    return error as UserError;
  }
}

async function target(): Promise<{ base: string; target: string; htdocs: string }> {
  const base = await tempDir();
  fs.chmodSync(base, 0o755);
  const target = path.join(base, 'deploy');
  fs.mkdirSync(target, { mode: 0o755 });
  fs.chmodSync(target, 0o755);
  return { base, target, htdocs: path.join(target, 'htdocs') };
}

describe.skipIf(!asRoot)('refuseUnsafeHtdocs, as root', () => {
  it('a root-owned TARGET whose htdocs is yet to be made (or a root-only directory): accepted', async () => {
    const { htdocs } = await target();
    expect(refusal(htdocs)).toBeNull();
    fs.mkdirSync(htdocs, { mode: 0o755 });
    expect(refusal(htdocs)).toBeNull();
  });

  it('htdocs a link not root\'s own: refused, even with --force, naming the link', async () => {
    const { base, htdocs } = await target();
    const elsewhere = path.join(base, 'elsewhere');
    fs.mkdirSync(elsewhere, { mode: 0o755 });
    fs.symlinkSync(elsewhere, htdocs);
    fs.lchownSync(htdocs, NOBODY, NOBODY);
    for (const force of [false, true]) {
      const error = refusal(htdocs, force);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toContain(`${htdocs} is a symbolic link (owned by uid ${NOBODY}`);
    }
  });

  it('htdocs a link root made to a root-only directory: followed; to a directory another user owns: refused unless --force', async () => {
    const { base, htdocs } = await target();
    const elsewhere = path.join(base, 'elsewhere');
    fs.mkdirSync(elsewhere, { mode: 0o755 });
    fs.symlinkSync(elsewhere, htdocs);
    expect(refusal(htdocs)).toBeNull();
    fs.chownSync(elsewhere, NOBODY, NOBODY);
    expect(refusal(htdocs)?.message).toContain(`${elsewhere} is owned by uid ${NOBODY}, not root`);
    expect(refusal(htdocs, true)).toBeNull();
  });

  it('htdocs, TARGET or a parent writable by another user: refused unless --force; a sticky parent is fine', async () => {
    const { base, target: dir, htdocs } = await target();
    fs.mkdirSync(htdocs, { mode: 0o755 });
    fs.chownSync(htdocs, NOBODY, NOBODY);
    expect(refusal(htdocs)?.message).toMatch(new RegExp(`^${htdocs} is owned by uid ${NOBODY}`));
    expect(refusal(htdocs, true)).toBeNull();
    fs.chownSync(htdocs, 0, 0);
    fs.chmodSync(dir, 0o775);
    expect(refusal(htdocs)?.message).toContain(`${dir} is writable by group`);
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(base, 0o1777);
    expect(refusal(htdocs)).toBeNull();
  });

  it('not root: nothing refused (it writes nothing its user could not)', async () => {
    const { htdocs } = await target();
    fs.mkdirSync(htdocs);
    fs.chownSync(htdocs, NOBODY, NOBODY);
    expect(() => refuseUnsafeHtdocs(htdocs, { asRoot: false })).not.toThrow();
  });
});
