import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RenderedFile } from '../../src/plan/types.js';
import { writeFiles } from '../../src/write/writeFiles.js';
import { tempDir } from '../helpers/tempDir.js';

describe("generate's \"nothing was written\" restore", () => {
  it('puts back the bytes, mode and owner of a file it had replaced when a later write fails', async () => {
    const dir = await tempDir();
    const first = path.join(dir, 'site.conf');
    const latin1 = Buffer.from('# caf\xe9 \xff hand-tuned\n', 'latin1');
    await fs.writeFile(first, latin1, { mode: 0o640 });
    await fs.chmod(first, 0o640);
    await fs.chown(first, 33, 33);
    // a name whose temp file name is too long for the file system: the second write fails
    const second = path.join(dir, `${'x'.repeat(240)}.wsgi`);
    const files: RenderedFile[] = [
      { path: first, kind: 'apache', content: 'new content\n', mode: 0o644 },
      { path: second, kind: 'wsgi', content: 'print()\n', mode: 0o644 },
    ];
    await expect(writeFiles(files, { force: true, dryRun: false })).rejects.toThrow(/nothing was written/);
    const stat = await fs.stat(first);
    expect((await fs.readFile(first)).equals(latin1)).toBe(true);
    expect(stat.mode & 0o7777).toBe(0o640);
    expect([stat.uid, stat.gid]).toEqual([33, 33]);
    expect(await fs.pathExists(second)).toBe(false);
  });
});
