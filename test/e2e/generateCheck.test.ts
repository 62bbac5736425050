import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

describe('generate --check', () => {
  it.skipIf(process.geteuid?.() !== 0)('as root, an --out another user owns: its files reported skipped (not compared), never up to date, never printed', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'deploy');
    expect((await runCli(['generate', env, '--out', out])).code).toBe(0);
    const conf = path.join(out, 'trac16-sqlite.conf');
    await fs.appendFile(conf, '# FAKE-SECRET-31a\n');
    await fs.chown(out, 33, 33);
    const check = await runCli(['generate', env, '--out', out, '--check']);
    expect(check.code, check.stderr).toBe(1);
    expect(check.stdout + check.stderr).not.toContain('FAKE-SECRET');
    expect(check.stdout).not.toContain('up to date');
    expect(check.stdout).toContain(`skipped: ${conf} (not compared: ${out} is owned by uid 33, not root`);
    expect(check.stderr).toContain('not compared');
    const json = JSON.parse((await runCli(['generate', env, '--out', out, '--check', '--json'])).stdout) as { files: { path: string; status: string }[] };
    expect(json.files.find((f) => f.path === conf)).toMatchObject({ status: 'skipped' });
  });

  it('exits 0 when the directory holds exactly what would be written, and writes nothing', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'deploy');
    const flags = ['--url-prefix', '/proj', '--strip-domain'];
    expect((await runCli(['generate', env, '--out', out, ...flags])).code).toBe(0);
    const before = await fs.readdir(out);
    const check = await runCli(['generate', env, '--out', out, ...flags, '--check']);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^up to date: /);
    expect(await fs.readdir(out)).toEqual(before);
  });

  it('exits 1 with a unified diff on stdout when a file differs or is missing', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'deploy');
    expect((await runCli(['generate', env, '--out', out])).code).toBe(0);
    const conf = path.join(out, 'trac16-sqlite.conf');
    const wsgi = path.join(out, 'trac16-sqlite.wsgi');
    const edited = (await fs.readFile(conf, 'utf8')).replace('processes=2', 'processes=9');
    await fs.writeFile(conf, edited);
    await fs.remove(wsgi);

    const check = await runCli(['generate', env, '--out', out, '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`--- ${conf}\ton disk`);
    expect(check.stdout).toContain(`+++ ${conf}\twould be written`);
    expect(check.stdout).toMatch(/^-.*processes=9/m);
    expect(check.stdout).toMatch(/^\+.*processes=2/m);
    expect(check.stdout).toContain(`--- ${wsgi}\t(missing)`);
    expect(check.stderr).toContain('drift: 2 files');
    // Nothing was repaired.
    expect(await fs.readFile(conf, 'utf8')).toBe(edited);
    expect(await fs.pathExists(wsgi)).toBe(false);

    // A different flag is drift too.
    expect((await runCli(['generate', env, '--out', out, '--force'])).code).toBe(0);
    const other = await runCli(['generate', env, '--out', out, '--check', '--url-prefix', '/elsewhere']);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/^\+WSGIScriptAlias "\/elsewhere"/m);
  });

  it('--check with --force is bad usage', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const result = await runCli(['generate', env, '--out', path.join(dir, 'o'), '--check', '--force']);
    expect(result.code).toBe(2);
    expectCleanError(result);
  });
});
