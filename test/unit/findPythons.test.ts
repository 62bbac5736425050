import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPythons, ownerHome, venvsUnder, type PythonRunner } from '../../src/python/findPythons.js';
import { tempDir } from '../helpers/tempDir.js';

async function fakeVenv(dir: string): Promise<string> {
  await fs.mkdirp(path.join(dir, 'bin'));
  await fs.writeFile(path.join(dir, 'pyvenv.cfg'), 'home = /usr/bin\n');
  await fs.writeFile(path.join(dir, 'bin', 'python'), '#!/bin/sh\n', { mode: 0o755 });
  return dir;
}

describe('where administrators put virtualenvs', () => {
  it('finds them up to two levels below each root, hidden directories skipped, in name order', async () => {
    const root = await tempDir();
    const a = await fakeVenv(path.join(root, 'opt', 'venv'));
    const b = await fakeVenv(path.join(root, 'opt', 'trac', 'env-py3'));
    await fakeVenv(path.join(root, 'opt', '.hidden', 'venv'));
    await fakeVenv(path.join(root, 'opt', 'x', 'y', 'too-deep'));
    const c = await fakeVenv(path.join(root, 'srv', 'trac-venv'));
    expect(await venvsUnder([path.join(root, 'opt'), path.join(root, 'srv'), path.join(root, 'missing')])).toEqual([b, a, c]);
  });

  it("the environment owner's home, from a passwd file", async () => {
    const dir = await tempDir();
    const env = path.join(dir, 'env');
    await fs.mkdirp(env);
    await fs.chown(env, 4321, 4321);
    const passwd = path.join(dir, 'passwd');
    await fs.writeFile(passwd, 'root:x:0:0:root:/root:/bin/bash\ntrac:x:4321:4321::/home/trac:/bin/sh\n');
    expect(await ownerHome(env, passwd)).toBe('/home/trac');
    // Root's files: no owner's home to search (root's is not where site venvs live).
    expect(await ownerHome(dir, passwd)).toBeNull();
  });

  it('findPythons asks the well-known places after the environment’s neighbourhood', async () => {
    const dir = await tempDir();
    const env = path.join(dir, 'srv', 'trac', 'proj');
    await fs.mkdirp(env);
    const beside = await fakeVenv(path.join(dir, 'srv', 'trac', 'venv'));
    const opt = await fakeVenv(path.join(dir, 'opt', 'trac', 'venv'));
    const asked: string[] = [];
    const run: PythonRunner = async (file) => {
      asked.push(file);
      const home = path.dirname(path.dirname(file));
      if (home !== opt && home !== beside) return { exitCode: 1, stdout: '' };
      const trac = home === opt ? '1.6' : null;
      return { exitCode: 0, stdout: JSON.stringify({ python: '3.11.2', prefix: home, base_prefix: '/usr', base_executable: '/usr/bin/python3', trac }) };
    };
    const found = await findPythons({ near: env, run, env: { PATH: '' }, systemPython: '/nonexistent/python3', wellKnown: [path.join(dir, 'opt')] });
    expect(asked.slice(0, 2)).toEqual([path.join(beside, 'bin', 'python'), path.join(opt, 'bin', 'python')]);
    // The one that imports trac comes first.
    expect(found.map((p) => [p.home, p.tracVersion])).toEqual([
      [opt, '1.6'],
      [beside, null],
    ]);
  });
});
