import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAccess, systemPython, type AccessNeed } from '../../src/apache/userAccess.js';
import { tempDir } from '../helpers/tempDir.js';

/**
 * The Apache user's access check, for real as www-data (setpriv, root only): a few needs are the
 * arguments of one shell, many are streamed through xargs; both name exactly the needs the user
 * is refused, in the order given, whatever the path holds (spaces, a newline, a colon).
 */
describe.skipIf(process.getuid?.() !== 0)('checkAccess as www-data', () => {
  async function bed(): Promise<{ readable: string; secret: string; closedDir: string; openDir: string }> {
    const dir = await tempDir();
    const readable = path.join(dir, 'a file: with spaces\nand a newline');
    const secret = path.join(dir, 'secret');
    const closedDir = path.join(dir, 'closed');
    const openDir = path.join(dir, 'open');
    await fs.writeFile(readable, 'x', { mode: 0o644 });
    await fs.writeFile(secret, 'x', { mode: 0o600 });
    await fs.mkdir(closedDir, { mode: 0o755 });
    await fs.mkdir(openDir, { mode: 0o755 });
    await fs.chown(openDir, 33, 33);
    return { readable, secret, closedDir, openDir };
  }

  it('a few needs (one shell, no xargs): exactly the refused ones', async () => {
    const { readable, secret, closedDir, openDir } = await bed();
    const needs: AccessNeed[] = [
      { path: readable, test: '-r', why: 'a' },
      { path: secret, test: '-r', why: 'b' },
      { path: closedDir, test: '-w', why: 'c' },
      { path: openDir, test: '-w', why: 'd' },
      { path: closedDir, test: '-x', why: 'e' },
    ];
    const r = await checkAccess('www-data', 'www-data', needs);
    expect(r.unchecked).toBeNull();
    expect(r.failed.map((n) => n.why)).toEqual(['b', 'c']);
  });

  it('many needs (streamed through xargs, also from an async source): the same answers', async () => {
    const { readable, secret, closedDir, openDir } = await bed();
    const needs: AccessNeed[] = [];
    for (let i = 0; i < 300; i++) {
      needs.push({ path: [readable, secret, closedDir, openDir][i % 4]!, test: i % 4 < 2 ? '-r' : '-w', why: String(i) });
    }
    async function* slowly(): AsyncGenerator<AccessNeed> {
      for (const need of needs) yield need;
    }
    const expected = needs.filter((_, i) => i % 4 === 1 || i % 4 === 2).map((n) => n.why);
    for (const source of [needs, slowly()]) {
      const r = await checkAccess('www-data', 'www-data', source);
      expect(r.unchecked).toBeNull();
      expect(r.failed.map((n) => n.why)).toEqual(expected);
    }
  });

  it.runIf(systemPython() !== null)('many needs: the system Python and the shells answer alike, over more than one read of the pipe', async () => {
    const { readable, secret, closedDir, openDir } = await bed();
    // Over 64 KiB of records: the Python tester reads them in pieces, a record split between two.
    const needs: AccessNeed[] = [];
    for (let i = 0; i < 3000; i++) {
      const which = i % 5;
      needs.push({ path: [readable, secret, closedDir, openDir, closedDir][which]!, test: which < 2 ? '-r' : which < 4 ? '-w' : '-x', why: String(i) });
    }
    const expected = needs.filter((_, i) => i % 5 === 1 || i % 5 === 2).map((n) => n.why);
    const python = await checkAccess('www-data', 'www-data', needs, { python: systemPython() });
    const shells = await checkAccess('www-data', 'www-data', needs, { python: null });
    expect(python).toEqual(shells);
    expect(python.unchecked).toBeNull();
    expect(python.failed.map((n) => n.why)).toEqual(expected);
    // An interpreter that does not run as that user: the shells test, never "unchecked".
    expect(await checkAccess('www-data', 'www-data', needs, { python: '/bin/false' })).toEqual(shells);
    expect(await checkAccess('www-data', 'www-data', needs, { python: '/nonexistent/python3' })).toEqual(shells);
  });

  it('no needs: nothing run, nothing failed; an unknown user: unchecked, never passed', async () => {
    expect(await checkAccess('www-data', 'www-data', [])).toEqual({ failed: [], unchecked: null });
    const { secret } = await bed();
    const r = await checkAccess('no-such-user-trac-deploy', 'no-such-group-trac-deploy', [{ path: secret, test: '-r', why: 'x' }]);
    expect(r.failed).toEqual([]);
    expect(r.unchecked).toMatch(/setpriv as no-such-user-trac-deploy:no-such-group-trac-deploy failed/);
  });
});
