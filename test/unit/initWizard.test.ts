import fs from 'fs-extra';
import path from 'node:path';
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { runInit as runInitOutcome, type InitArgs, type InitDeps } from '../../src/commands/init.js';
import { present } from '../../src/report/present.js';
import { presented } from '../helpers/present.js';
import type { CliContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import type { PythonRunner } from '../../src/python/findPythons.js';
import { type Choice, type Prompter, WizardCancelled } from '../../src/wizard/prompter.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

/** A prompter that answers from a script keyed by flag, and records every question. */
function scripted(answers: Record<string, unknown>, options: { cancelAt?: string } = {}) {
  const asked: { flag: string; message: string; default: unknown; choices?: unknown[] }[] = [];
  const answer = (flag: string, fallback: unknown) => {
    if (flag === options.cancelAt) throw new WizardCancelled();
    return flag in answers ? answers[flag] : fallback;
  };
  const prompter: Prompter = {
    input: async (q) => {
      asked.push({ flag: q.flag, message: q.message, default: q.default });
      const value = String(answer(q.flag, q.default ?? ''));
      const verdict = q.validate?.(value) ?? true;
      if (verdict !== true) throw new Error(`scripted answer ${value} for ${q.flag} rejected: ${verdict}`);
      return value;
    },
    select: async <T>(q: { message: string; choices: Choice<T>[]; default?: T; flag: string }) => {
      asked.push({ flag: q.flag, message: q.message, default: q.default, choices: q.choices.map((c) => c.value) });
      return answer(q.flag, q.default) as T;
    },
    confirm: async (q) => {
      asked.push({ flag: q.flag, message: q.message, default: q.default });
      return Boolean(answer(q.flag, q.default));
    },
  };
  return { prompter, asked };
}

function capture(): CliContext & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), interactive: true, colors: pc.createColors(false) };
}

/** No interpreter anywhere imports trac, unless the fake says so for a path. */
const noPython: PythonRunner = async () => ({ exitCode: 1, stdout: '' });

/** init as the CLI runs it: each step shown as it goes, the last outcome presented, its exit code. */
function runInit(a: InitArgs, ctx: CliContext, deps: InitDeps = {}) {
  return presented(runInitOutcome(a, ctx, { show: (o) => present(o, ctx, false), ...deps }), ctx);
}

function args(over: Partial<InitArgs>): InitArgs {
  return { given: {}, yes: false, interactive: true, force: false, ...over };
}

describe('init wizard (scripted prompter)', () => {
  it('asks the open questions with detected defaults and writes what it shows', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const { prompter, asked } = scripted({ '--url-prefix': '/projects/x', '--yes': true, '--smoke': false });
    const ctx = capture();
    const code = await runInit(args({ path: env }), ctx, { prompter, runPython: noPython, searchRoots: [] });
    expect(code).toBe(EXIT.ok);
    expect(asked.map((q) => q.flag)).toEqual(['--url-prefix', '--name', '--mode', '--python-home', '--auth', '--strip-domain', '--out', '--yes', '--smoke']);
    expect(asked.find((q) => q.flag === '--name')?.default).toBe('trac16-sqlite');
    expect(asked.find((q) => q.flag === '--out')?.default).toBe(`${env}-deploy`);
    // SQLite only: the pooling question is not asked.
    expect(asked.some((q) => q.flag === '--pool')).toBe(false);
    const conf = await fs.readFile(path.join(`${env}-deploy`, 'trac16-sqlite.conf'), 'utf8');
    expect(conf).toContain('WSGIScriptAlias "/projects/x"');
    expect(ctx.out.join('\n')).toContain('new file');
  });

  it('asks nothing that a flag answered, and asks about pooling for PostgreSQL', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac14-postgres', dir);
    const { prompter, asked } = scripted({ '--pool': 'disable', '--yes': true, '--smoke': false });
    const out = path.join(dir, 'out');
    const code = await runInit(args({ path: env, out, given: { urlPrefix: '/t', mode: 'embedded', stripDomain: true, name: 'pg' } }), capture(), {
      prompter,
      runPython: noPython,
    });
    expect(code).toBe(EXIT.ok);
    expect(asked.map((q) => q.flag)).toEqual(['--python-home', '--pool', '--auth', '--yes', '--smoke']);
    expect(asked.find((q) => q.flag === '--pool')?.choices).toEqual(['auto', 'keep', 'disable']);
    const wsgi = await fs.readFile(path.join(out, 'pg.wsgi'), 'utf8');
    expect(wsgi).toContain('PostgreSQLConnection.poolable = False');
    expect(wsgi).toContain('_strip_domain(environ)');
  });

  it('asks for the password file only after a login method that needs one', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const users = path.join(dir, 'users.htpasswd');
    await fs.writeFile(users, 'alice:$apr1$abc$xyz\n');
    const { prompter, asked } = scripted({ '--auth': 'basic', '--auth-user-file': users, '--yes': true, '--smoke': false });
    const out = path.join(dir, 'out');
    const code = await runInit(args({ path: env, out, given: { urlPrefix: '/t', mode: 'daemon', stripDomain: false, name: 'a' } }), capture(), {
      prompter,
      runPython: noPython,
    });
    expect(code).toBe(EXIT.ok);
    expect(asked.map((q) => q.flag)).toEqual(['--python-home', '--auth', '--auth-user-file', '--yes', '--smoke']);
    const conf = await fs.readFile(path.join(out, 'a.conf'), 'utf8');
    expect(conf).toContain(`AuthUserFile ${JSON.stringify(users)}`);
  });

  it('offers the virtualenvs that import trac, the first as default', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    for (const venv of ['venv-a', 'venv-b']) {
      await fs.mkdirp(path.join(dir, venv, 'bin'));
      await fs.writeFile(path.join(dir, venv, 'pyvenv.cfg'), 'home = /usr/bin\n');
      await fs.writeFile(path.join(dir, venv, 'bin', 'python'), '#!/bin/sh\n', { mode: 0o755 });
    }
    const runPython: PythonRunner = async (file) => {
      const home = path.dirname(path.dirname(file));
      if (home === path.join(dir, 'venv-b')) {
        return { exitCode: 0, stdout: JSON.stringify({ python: '3.11.2', prefix: home, base_prefix: '/usr', base_executable: '/usr/bin/python3', trac: '1.6' }) };
      }
      if (home === path.join(dir, 'venv-a')) {
        return { exitCode: 0, stdout: JSON.stringify({ python: '3.11.2', prefix: home, base_prefix: '/usr', base_executable: '/usr/bin/python3', trac: null }) };
      }
      return { exitCode: 1, stdout: '' };
    };
    const { prompter, asked } = scripted({ '--yes': true, '--smoke': false });
    const out = path.join(dir, 'out');
    expect(await runInit(args({ path: env, out }), capture(), { prompter, runPython })).toBe(EXIT.ok);
    const q = asked.find((a) => a.flag === '--python-home');
    expect(q?.default).toBe(path.join(dir, 'venv-b'));
    // venv-a cannot import trac: it is not offered.
    expect(q?.choices).not.toContain(path.join(dir, 'venv-a'));
    expect(await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8')).toContain(`python-home="${path.join(dir, 'venv-b')}"`);
  });

  it('shows a diff for a changed file and replaces it only when the user says yes', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    await fs.mkdirp(out);
    const conf = path.join(out, 'trac16-sqlite.conf');
    await fs.writeFile(conf, '# hand edited\n');
    const given = { urlPrefix: '/trac', name: 'trac16-sqlite', mode: 'daemon' as const, stripDomain: false };
    const deps: InitDeps = { runPython: noPython };

    const refuse = scripted({ '--yes': false });
    const ctx1 = capture();
    expect(await runInit(args({ path: env, out, given }), ctx1, { ...deps, prompter: refuse.prompter })).toBe(EXIT.ok);
    expect(ctx1.out.join('\n')).toMatch(/^-# hand edited$/m);
    expect(refuse.asked.find((q) => q.flag === '--yes')?.default).toBe(false);
    expect(await fs.readFile(conf, 'utf8')).toBe('# hand edited\n');
    expect(await fs.pathExists(path.join(out, 'trac16-sqlite.wsgi'))).toBe(false);

    const accept = scripted({ '--yes': true, '--smoke': false });
    expect(await runInit(args({ path: env, out, given }), capture(), { ...deps, prompter: accept.prompter })).toBe(EXIT.ok);
    expect(await fs.readFile(conf, 'utf8')).toContain('WSGIScriptAlias');
  });

  it('--yes never replaces a changed file without --force', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    await fs.mkdirp(out);
    await fs.writeFile(path.join(out, 'trac16-sqlite.conf'), '# mine\n');
    await expect(runInit(args({ path: env, out, yes: true }), capture(), { runPython: noPython })).rejects.toThrow(/already exists with other content/);
    expect(await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8')).toBe('# mine\n');
  });

  it('Ctrl-C at any question: exit 130, one line, nothing written', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    for (const cancelAt of ['--url-prefix', '--python-home', '--out', '--yes']) {
      const { prompter, asked } = scripted({}, { cancelAt });
      const ctx = capture();
      expect(await runInit(args({ path: env }), ctx, { prompter, runPython: noPython })).toBe(EXIT.cancelled);
      expect(asked.at(-1)?.flag).toBe(cancelAt);
      expect(ctx.err).toEqual(['trac-deploy: init cancelled, nothing written']);
      expect(await fs.pathExists(`${env}-deploy`)).toBe(false);
    }
  });

  it('without a terminal: asks nothing, writes nothing, names every flag it needs', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    const err = await runInit(args({ path: env, out, interactive: false, given: { mode: 'daemon' } }), capture(), { runPython: noPython }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('--url-prefix --name --python-home --auth --strip-domain --yes');
    expect((err as Error).message).not.toContain('--mode');
    expect(await fs.pathExists(out)).toBe(false);
  });

  it('offers the environments it finds when no PATH is given', async () => {
    const dir = await tempDir();
    await copyFixture('parent', dir);
    const { prompter, asked } = scripted({ '--yes': true, '--smoke': false });
    const out = path.join(dir, 'out');
    expect(await runInit(args({ out }), capture(), { prompter, runPython: noPython, searchRoots: [path.join(dir, 'parent')] })).toBe(EXIT.ok);
    const q = asked.find((a) => a.flag === 'PATH');
    expect(q?.choices).toEqual([path.join(dir, 'parent'), path.join(dir, 'parent', 'alpha'), path.join(dir, 'parent', 'beta'), '\0other']);
    expect(await fs.readFile(path.join(out, 'parent.wsgi'), 'utf8')).toContain('TRAC_ENV_PARENT_DIR');
  });

  it('the smoke offer: no prints the next command; yes runs the smoke hook on the output directory', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    const ctx = capture();
    const ran: string[] = [];
    const runSmoke = async (d: string) => {
      ran.push(d);
      return { kind: 'init' as const, exitCode: EXIT.ok, next: null, message: null };
    };
    expect(await runInit(args({ path: env, out, yes: true }), ctx, { runPython: noPython, runSmoke })).toBe(EXIT.ok);
    expect(ran).toEqual([]);
    expect(ctx.out.join('\n')).toContain(`next: trac-deploy smoke ${out}`);
    expect(await runInit(args({ path: env, out, yes: true, smoke: true }), capture(), { runPython: noPython, runSmoke })).toBe(EXIT.ok);
    expect(ran).toEqual([out]);
  });
});
