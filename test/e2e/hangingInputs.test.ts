import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

/**
 * Inputs that used to hang inspect: each is read only if it is a regular file, bounded, once.
 * No timing assertions: a hang would exceed the test timeout, which is the failure.
 */
describe('inspect never blocks on what it reads', () => {
  it('a FIFO as VERSION, trac.ini, an [inherit] file or .tracignore; /dev/urandom inherited', async () => {
    const dir = await tempDir();
    const fifo = path.join(dir, 'fifo');
    await execa('mkfifo', [fifo]);

    const envVersion = await copyFixture('trac16-sqlite', path.join(dir, 'a'));
    await fs.rm(path.join(envVersion, 'VERSION'));
    await fs.symlink(fifo, path.join(envVersion, 'VERSION'));
    const version = await runCli(['inspect', envVersion]);
    expect(version.code).toBe(2);
    expectCleanError(version);
    expect(version.stderr).toContain('a FIFO, not a regular file');

    const envIni = await copyFixture('trac16-sqlite', path.join(dir, 'b'));
    await fs.rm(path.join(envIni, 'conf', 'trac.ini'));
    await fs.symlink(fifo, path.join(envIni, 'conf', 'trac.ini'));
    const ini = await runCli(['inspect', envIni]);
    expect(ini.code).toBe(2);
    expect(ini.stderr).toContain('a FIFO, not a regular file');

    const envInherit = await copyFixture('trac16-sqlite', path.join(dir, 'c'));
    await fs.appendFile(path.join(envInherit, 'conf', 'trac.ini'), `\n[inherit]\nfile = ${fifo}, /dev/urandom\n`);
    const inherit = await runCli(['inspect', envInherit, '--json']);
    expect(inherit.code, inherit.stderr).toBe(0);
    const messages = (JSON.parse(inherit.stdout) as { environments: { problems: { message: string }[] }[] }).environments[0]?.problems.map((p) => p.message) ?? [];
    expect(messages.some((m) => m.includes(fifo) && m.includes('a FIFO'))).toBe(true);
    expect(messages.some((m) => m.includes('/dev/urandom') && m.includes('a device'))).toBe(true);

    const parent = path.join(dir, 'parent');
    await copyFixture('trac16-sqlite', parent);
    await fs.symlink(fifo, path.join(parent, '.tracignore'));
    const ignored = await runCli(['inspect', parent]);
    expect(ignored.code, ignored.stderr).toBe(0);
  }, 60000);

  it('an [inherit] fan-out (8 files each inheriting all 8 of the next level, 7 levels) reads each file once', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const levels = 7;
    const width = 8;
    const name = (level: number, i: number) => path.join(dir, 'shared', `l${level}-${i}.ini`);
    for (let level = 0; level < levels; level++) {
      for (let i = 0; i < width; i++) {
        const next = level + 1 < levels ? `[inherit]\nfile = ${Array.from({ length: width }, (_, j) => name(level + 1, j)).join(', ')}\n` : '';
        await fs.outputFile(name(level, i), `${next}[fan]\nl${level}_${i} = yes\n`);
      }
    }
    await fs.appendFile(path.join(env, 'conf', 'trac.ini'), `\n[inherit]\nfile = ${Array.from({ length: width }, (_, j) => name(0, j)).join(', ')}\n`);
    const result = await runCli(['inspect', env, '--json']);
    expect(result.code, result.stderr).toBe(0);
  }, 60000);
});
