import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { earlyPreflightRequest } from '../../src/cli/earlyPreflight.js';
import { generateOptionsFrom } from '../../src/cli/generateFlags.js';
import { inspectPath } from '../../src/inspect/inspectPath.js';
import { withPreflight } from '../../src/inspect/preflight.js';
import { abandonEarlyRuns, earlyRunner, takeOverRunner } from '../../src/python/earlyRuns.js';
import { runPreflight, type PreflightRunner } from '../../src/python/preflight.js';
import { copyFixture } from '../helpers/tracEnv.js';
import { tempDir } from '../helpers/tempDir.js';

/** A runner that records what it was asked to run and answers nothing (the preflight is then "skipped"). */
function recorder(): { run: PreflightRunner; calls: unknown[][] } {
  const calls: unknown[][] = [];
  return { calls, run: async (command, args, stdin, env) => (calls.push([command, args, stdin, env]), { stdout: '', stderr: '', exitCode: 1 }) };
}

describe('the preflight started before the CLI loads', () => {
  it('is exactly the run the command makes itself, for the plain forms of generate and inspect', async () => {
    const root = await tempDir();
    const env = await copyFixture('trac16-sqlite', root);
    const home = path.join(root, 'venv');
    await fs.outputFile(path.join(home, 'bin', 'python'), '', { mode: 0o755 });
    const cases: { argv: string[]; options: { pythonHome: string | null; siteDirs: string[]; eggCache: string | null } }[] = [
      { argv: ['inspect', env], options: { pythonHome: null, siteDirs: [], eggCache: null } },
      { argv: ['inspect', env, '--python-home', home, '--json'], options: { pythonHome: home, siteDirs: [], eggCache: null } },
      { argv: ['inspect', env, `--python-home=${home}`, '--egg-cache', '/var/cache/eggs'], options: { pythonHome: home, siteDirs: [], eggCache: '/var/cache/eggs' } },
      (() => {
        const o = generateOptionsFrom({ pythonHome: home, siteDir: ['/opt/a', '/opt/b'] });
        return { argv: ['generate', env, '--out', root, '--python-home', home, '--site-dir', '/opt/a', '--site-dir=/opt/b', '--force'], options: { pythonHome: o.pythonHome ?? null, siteDirs: o.siteDir, eggCache: o.eggCache ?? null } };
      })(),
    ];
    for (const { argv, options } of cases) {
      const request = earlyPreflightRequest(argv);
      expect(request, argv.join(' ')).not.toBeNull();
      const early = recorder();
      await runPreflight(request!, early.run);
      const own = recorder();
      await withPreflight(await inspectPath(env), { ...options, run: own.run });
      expect(early.calls.length, argv.join(' ')).toBe(1);
      expect(early.calls, argv.join(' ')).toEqual(own.calls);
    }
  });

  it('is not started when the arguments are not plain enough to tell', async () => {
    const root = await tempDir();
    const env = await copyFixture('trac16-sqlite', root);
    const parent = await copyFixture('parent', root);
    expect(earlyPreflightRequest(['inspect', parent])).toBeNull();
    expect(earlyPreflightRequest(['inspect', env, '--no-preflight'])).toBeNull();
    expect(earlyPreflightRequest(['generate', env, '--help'])).toBeNull();
    expect(earlyPreflightRequest(['generate', env, '--site-dir', '/a', '/b'])).toBeNull();
    expect(earlyPreflightRequest(['generate', env, '--pythonHome', '/v'])).toBeNull();
    expect(earlyPreflightRequest(['generate', '--out', root, env])).toBeNull();
    expect(earlyPreflightRequest(['smoke', env])).toBeNull();
    expect(earlyPreflightRequest(['inspect', path.join(root, 'missing')])).toBeNull();
  });
});

describe('early runs', () => {
  it('are taken over only by the very same program and input; others run anew', async () => {
    const started = earlyRunner('sh', ['-c', 'cat; echo early'], 'in ', { X: '1' });
    let fallbacks = 0;
    const fallback: PreflightRunner = async () => (fallbacks++, { stdout: 'fallback', stderr: '', exitCode: 0 });
    const run = takeOverRunner(fallback);
    expect((await run('sh', ['-c', 'cat; echo early'], 'other', { X: '1' })).stdout).toBe('fallback');
    expect(await run('sh', ['-c', 'cat; echo early'], 'in ', { X: '1' })).toBe(await started);
    expect((await started).stdout).toBe('in early\n');
    // Taken once: the same request again runs anew.
    expect((await run('sh', ['-c', 'cat; echo early'], 'in ', { X: '1' })).stdout).toBe('fallback');
    expect(fallbacks).toBe(2);
  });

  it('that nobody took are stopped', async () => {
    const started = earlyRunner('sleep', ['30'], '', {});
    abandonEarlyRuns();
    // Ended by the signal, not by sleep: no exit code.
    expect((await started).exitCode).toBeNull();
  });
});
