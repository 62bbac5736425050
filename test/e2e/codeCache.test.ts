import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

/**
 * bin/codeCache.cjs keeps V8's compiled code of dist/bundle/ in dist/bundle/.v8-cache/, one cache
 * per command (a cache made by --version lacks what generate compiles). A cache V8 rejects (made
 * by another Node, damaged) costs that run the compile and is made anew, never the run its result.
 * Run on a copy of bin/ and dist/ so that the checkout's own cache is left alone.
 */
async function copyOfTheBuild(): Promise<{ cli: string; cacheDir: string; userCache: string }> {
  const root = await tempDir();
  await fs.cp(path.join(ROOT, 'bin'), path.join(root, 'bin'), { recursive: true });
  await fs.cp(path.join(ROOT, 'dist'), path.join(root, 'dist'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.v8-cache`) });
  for (const linked of ['node_modules', 'templates', 'python', 'package.json']) await fs.symlink(path.join(ROOT, linked), path.join(root, linked));
  // Copied files are newer than the bundle's stamp: the bundle must still be what bin/ loads.
  const now = new Date(Date.now() + 1000);
  await fs.utimes(path.join(root, 'dist', 'bundle', 'trac-deploy.js'), now, now);
  return { cli: path.join(root, 'bin', 'trac-deploy.js'), cacheDir: path.join(root, 'dist', 'bundle', '.v8-cache'), userCache: path.join(root, 'user-cache') };
}

/** The user's cache directory (where a cache goes when dist/ is not ours to write) is the test's own. */
let userCacheDir = '';

async function run(cli: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const r = await execa('node', [cli, ...args], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1', TRAC_DEPLOY_CACHE_DIR: userCacheDir } });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout) };
}

const cacheOf = async (dir: string, command: string): Promise<string[]> => (await fs.readdir(dir)).filter((name) => name.includes(`-${command}-${process.version}-`)).sort();

describe('the code cache of the bundle', () => {
  it('is kept per command, used as it is on the next run, and made anew when V8 rejects it', async () => {
    const { cli, cacheDir, userCache } = await copyOfTheBuild();
    userCacheDir = userCache;
    const env = await copyFixture('trac16-sqlite', await tempDir());
    const version = await run(cli, ['--version']);
    expect(version.code).toBe(0);
    expect((await cacheOf(cacheDir, 'other')).some((name) => name.startsWith('cli-'))).toBe(true);
    // An unknown command (a typo) is refused and shares 'other': no cache files of its own.
    const typo = await run(cli, ['inspekt', env]);
    expect(typo.code).toBe(2);
    expect(await cacheOf(cacheDir, 'inspekt')).toEqual([]);
    expect(await cacheOf(cacheDir, 'inspect')).toEqual([]);

    const first = await run(cli, ['inspect', env, '--no-preflight', '--json']);
    expect(first.code).toBe(0);
    const made = await cacheOf(cacheDir, 'inspect');
    expect(made.some((name) => name.startsWith('cli-'))).toBe(true);
    const stamps = await Promise.all(made.map(async (name) => (await fs.stat(path.join(cacheDir, name))).mtimeMs));

    // Accepted: not written again.
    const second = await run(cli, ['inspect', env, '--no-preflight', '--json']);
    expect(second.stdout).toBe(first.stdout);
    expect(await Promise.all(made.map(async (name) => (await fs.stat(path.join(cacheDir, name))).mtimeMs))).toEqual(stamps);

    // Damaged (or another V8's): rejected, the run still answers, and the cache is made anew.
    const cli0 = made.find((name) => name.startsWith('cli-'))!;
    await fs.writeFile(path.join(cacheDir, cli0), Buffer.alloc(4096, 7));
    const third = await run(cli, ['inspect', env, '--no-preflight', '--json']);
    expect(third.code).toBe(0);
    expect(third.stdout).toBe(first.stdout);
    const remade = await fs.readFile(path.join(cacheDir, cli0));
    expect(remade.equals(Buffer.alloc(4096, 7))).toBe(false);
    expect(remade.length).toBeGreaterThan(1024);
  });

  it('uses no cache from a directory others may write (the user\'s own cache directory instead)', async () => {
    const { cli, cacheDir, userCache } = await copyOfTheBuild();
    userCacheDir = userCache;
    await run(cli, ['--version']);
    const [name] = (await cacheOf(cacheDir, 'other')).filter((n) => n.startsWith('cli-'));
    await fs.chmod(cacheDir, 0o777);
    await fs.writeFile(path.join(cacheDir, name!), Buffer.alloc(4096, 7));
    const r = await run(cli, ['--version']);
    expect(r.code).toBe(0);
    // Neither read nor written there: the planted file is left as it was.
    expect((await fs.readFile(path.join(cacheDir, name!))).equals(Buffer.alloc(4096, 7))).toBe(true);
    expect((await fs.readdir(path.join(userCache, 'v8'))).some((n) => n.startsWith('cli-'))).toBe(true);
  });
});
