import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

/**
 * What the built CLI loads before a command runs (bench/deployCli.bench.mjs times it; these
 * hold the structure that makes it cheap, without timing anything):
 * - string-width (yargs, cliui, wrap-ansi) makes an Intl.Segmenter and /v emoji regexes when its
 *   module runs, ~20 ms of ICU: the bundle loads it on its first call (scripts/bundle.mjs), which
 *   only help text makes;
 * - deploy's early Python question (htdocsQuestion, answerCache) is loaded by deploy alone.
 * The CLI runs in a Node whose Intl.Segmenter counts its instances and that reports, at exit,
 * the bundle files it loaded.
 */
async function startUp(args: string[]): Promise<{ code: number; stdout: string; segmenters: number; chunks: string[]; modules: string[]; openFiles: string[]; builtins: string[] }> {
  const probe = `
    let made = 0;
    const Segmenter = Intl.Segmenter;
    Intl.Segmenter = class extends Segmenter { constructor(...a) { super(...a); made++; } };
    process.on('exit', () => {
      const chunks = Object.keys(require.cache).filter((f) => f.includes('/dist/bundle/')).map((f) => f.replace(/.*\\/dist\\/bundle\\//, ''));
      const modules = Object.keys(require.cache).filter((f) => f.includes('/node_modules/')).map((f) => f.replace(/.*\\/node_modules\\//, ''));
      const fs = require('node:fs');
      const openFiles = fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } });
      const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
      process.stderr.write('\\nPROBE ' + JSON.stringify({ segmenters: made, chunks, modules, openFiles, builtins }) + '\\n');
    });
    process.argv = [process.argv[0], ${JSON.stringify(CLI)}, ...${JSON.stringify(args)}];
    require(${JSON.stringify(CLI)});
  `;
  const r = await execa('node', ['-e', probe], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1' } });
  const line = String(r.stderr).split('\n').find((l) => l.startsWith('PROBE '));
  if (!line) throw new Error(`no probe line; stderr:\n${r.stderr}`);
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), ...(JSON.parse(line.slice('PROBE '.length)) as { segmenters: number; chunks: string[]; modules: string[]; openFiles: string[]; builtins: string[] }) };
}

describe('start-up of the built CLI', () => {
  it('makes no Intl.Segmenter and loads none of deploy\'s question for --version', async () => {
    const r = await startUp(['--version']);
    expect(r.code).toBe(0);
    expect(r.chunks.some((c) => c.startsWith('cli-'))).toBe(true);
    expect(r.segmenters).toBe(0);
    expect(r.chunks.filter((c) => /^(htdocsQuestion|answerCache|earlyDeploy)-/.test(c))).toEqual([]);
  });

  it('still measures text for --help (string-width loads on its first call), wrapped as before', async () => {
    const r = await startUp(['generate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--url-prefix');
    expect(r.stdout).toContain('Deployment:');
    // yargs lays the flags out in columns: a description starts after padding on the flag's line.
    expect(r.stdout).toMatch(/^ +--url-prefix {2,}URL path the site is mounted at {2,}\[string\]/m);
  });

  it('reads the database of one SQLite environment with SQLite alone, its addon loaded directly', async () => {
    const env = await copyFixture('trac16-sqlite', await tempDir());
    const r = await startUp(['inspect', env, '--no-preflight', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { environments: { databaseVersion: unknown }[] }).environments[0]!.databaseVersion).toBe(45);
    expect(r.modules.some((m) => m.startsWith('better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
    // better-sqlite3's nativeBinding option: not the `bindings` package's search for the addon.
    expect(r.modules.filter((m) => m.startsWith('bindings/'))).toEqual([]);
    // The file reader (src/inspect/sqliteFile/) answers only for a schema SQLite accepted before in
    // the same run: for the only database of a run it is not used (its /proc/locks stays closed).
    expect(r.openFiles).not.toContain('/proc/locks');
    // Loaded only when used: worker threads for a large directory, node:assert to throw (scripts/bundle.mjs).
    expect(r.builtins).not.toContain('worker_threads');
    expect(r.builtins).not.toContain('assert');
  });

  it('loads deploy\'s early question for deploy', async () => {
    const r = await startUp(['deploy', '/nonexistent-environment', '/nonexistent-target']);
    expect(r.code).toBe(2);
    expect(r.chunks.some((c) => c.startsWith('earlyDeploy-'))).toBe(true);
  });
});
