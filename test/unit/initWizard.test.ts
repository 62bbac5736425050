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

/**
 * A prompter that answers from a script keyed by flag, and records every question. An array is
 * a sequence of answers: like inquirer, an answer the question's check rejects is recorded and
 * the question asked again with the next one. `out` (the context's stdout) lets a question
 * record how much had been shown before it.
 */
function scripted(answers: Record<string, unknown>, options: { cancelAt?: string; out?: string[] } = {}) {
  const asked: { flag: string; message: string; default: unknown; choices?: unknown[]; shownBefore: number }[] = [];
  const rejected: { flag: string; value: string; reason: string }[] = [];
  const answer = (flag: string, fallback: unknown) => {
    if (flag === options.cancelAt) throw new WizardCancelled();
    const scriptedAnswer = answers[flag];
    if (Array.isArray(scriptedAnswer)) return scriptedAnswer.length > 0 ? scriptedAnswer.shift() : fallback;
    return flag in answers ? scriptedAnswer : fallback;
  };
  const shownBefore = () => options.out?.length ?? 0;
  const prompter: Prompter = {
    input: async (q) => {
      asked.push({ flag: q.flag, message: q.message, default: q.default, shownBefore: shownBefore() });
      for (let tries = 0; tries < 5; tries++) {
        const value = String(answer(q.flag, q.default ?? ''));
        const verdict = q.validate?.(value) ?? true;
        if (verdict === true) return value;
        rejected.push({ flag: q.flag, value, reason: verdict });
      }
      throw new Error(`scripted answers for ${q.flag} all rejected: ${JSON.stringify(rejected)}`);
    },
    select: async <T>(q: { message: string; choices: Choice<T>[]; default?: T; flag: string }) => {
      asked.push({ flag: q.flag, message: q.message, default: q.default, choices: q.choices.map((c) => c.value), shownBefore: shownBefore() });
      return answer(q.flag, q.default) as T;
    },
    confirm: async (q) => {
      asked.push({ flag: q.flag, message: q.message, default: q.default, shownBefore: shownBefore() });
      return Boolean(answer(q.flag, q.default));
    },
  };
  return { prompter, asked, rejected };
}

/** Virtualenv look-alikes in dir, each answering the probe with its Trac version (null: none). */
async function fakeVenvs(dir: string, venvs: Record<string, string | null>): Promise<PythonRunner> {
  for (const venv of Object.keys(venvs)) {
    await fs.mkdirp(path.join(dir, venv, 'bin'));
    await fs.writeFile(path.join(dir, venv, 'pyvenv.cfg'), 'home = /usr/bin\n');
    await fs.writeFile(path.join(dir, venv, 'bin', 'python'), '#!/bin/sh\n', { mode: 0o755 });
  }
  return async (file) => {
    const home = path.dirname(path.dirname(file));
    const name = path.relative(dir, home);
    if (!(name in venvs)) return { exitCode: 1, stdout: '' };
    return { exitCode: 0, stdout: JSON.stringify({ python: '3.11.2', prefix: home, base_prefix: '/usr', base_executable: '/usr/bin/python3', trac: venvs[name] }) };
  };
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
  // venvRoots: []: this machine's /opt, /srv, /usr/local are not the test's business.
  return presented(runInitOutcome(a, ctx, { show: (o) => present(o, ctx, false), venvRoots: [], ...deps }), ctx);
}

function args(over: Partial<InitArgs>): InitArgs {
  return { given: {}, yes: false, interactive: true, force: false, ...over };
}

describe('init wizard (scripted prompter)', () => {
  it('asks the open questions with detected defaults and writes what it shows', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    const { prompter, asked } = scripted({ '--url-prefix': '/projects/x', '--out': out, '--yes': true, '--smoke': false });
    const ctx = capture();
    const code = await runInit(args({ path: env }), ctx, { prompter, runPython: noPython, searchRoots: [] });
    expect(code).toBe(EXIT.ok);
    expect(asked.map((q) => q.flag)).toEqual(['--url-prefix', '--name', '--mode', '--python-home', '--auth', '--strip-domain', '--out', '--yes', '--smoke']);
    expect(asked.find((q) => q.flag === '--name')?.default).toBe('trac16-sqlite');
    // Debian's place for what a site serves, one directory per site: outside every environment.
    expect(asked.find((q) => q.flag === '--out')?.default).toBe('/srv/trac-deploy/trac16-sqlite');
    // SQLite only: the pooling question is not asked.
    expect(asked.some((q) => q.flag === '--pool')).toBe(false);
    const conf = await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8');
    expect(conf).toContain('WSGIScriptAlias "/projects/x"');
    const shown = ctx.out.join('\n');
    expect(shown).toContain('new file');
    // The .wsgi and .conf in full; the plan as a summary, not its JSON.
    expect(shown).toContain('WSGIScriptAlias "/projects/x"');
    expect(shown).toContain('mounted at /projects/x, daemon mode');
    expect(shown).not.toContain('"kind": "trac-deploy-plan"');
    // The smoke offer defaults to running it.
    expect(asked.find((q) => q.flag === '--smoke')?.default).toBe(true);
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
    const runPython = await fakeVenvs(dir, { 'venv-a': null, 'venv-b': '1.6' });
    const { prompter, asked } = scripted({ '--yes': true, '--smoke': false });
    const out = path.join(dir, 'out');
    expect(await runInit(args({ path: env, out }), capture(), { prompter, runPython })).toBe(EXIT.ok);
    const q = asked.find((a) => a.flag === '--python-home');
    expect(q?.default).toBe(path.join(dir, 'venv-b'));
    // venv-a cannot import trac: it is not offered.
    expect(q?.choices).not.toContain(path.join(dir, 'venv-a'));
    expect(await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8')).toContain(`python-home="${path.join(dir, 'venv-b')}"`);
  });

  it('a given --python-home that cannot import trac: --yes refuses with the command that makes one, a terminal asks again', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const runPython = await fakeVenvs(dir, { 'venv-a': null, 'venv-b': '1.6' });
    const given = { pythonHome: path.join(dir, 'venv-a') };
    const out = path.join(dir, 'out');
    await expect(runInit(args({ path: env, out, yes: true, given }), capture(), { runPython })).rejects.toThrow(`--python-home ${path.join(dir, 'venv-a')}: its Python 3.11.2 cannot import trac`);
    expect(await fs.pathExists(out)).toBe(false);
    const { prompter, asked } = scripted({ '--yes': true, '--smoke': false, '--out': out });
    expect(await runInit(args({ path: env, given }), capture(), { prompter, runPython })).toBe(EXIT.ok);
    const q = asked.find((a) => a.flag === '--python-home');
    expect(q?.message).toContain('cannot import trac');
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
    const runPython = await fakeVenvs(dir, { venv: '1.6' });
    await expect(runInit(args({ path: env, out, yes: true, given: { pythonHome: path.join(dir, 'venv') } }), capture(), { runPython })).rejects.toThrow(/already exists with other content/);
    expect(await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8')).toBe('# mine\n');
  });

  it('Ctrl-C at any question: exit 130, one line, nothing written', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    for (const cancelAt of ['--url-prefix', '--python-home', '--out', '--yes']) {
      const { prompter, asked } = scripted({ '--out': out }, { cancelAt });
      const ctx = capture();
      expect(await runInit(args({ path: env }), ctx, { prompter, runPython: noPython })).toBe(EXIT.cancelled);
      expect(asked.at(-1)?.flag).toBe(cancelAt);
      expect(ctx.err).toEqual(['trac-deploy: init cancelled, nothing written']);
      expect(await fs.pathExists(out)).toBe(false);
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
    const venvWithTrac = await fakeVenvs(dir, { venv: '1.6' });
    const out = path.join(dir, 'out');
    const ctx = capture();
    const ran: string[] = [];
    const runSmoke = async (d: string) => {
      ran.push(d);
      return { kind: 'init' as const, exitCode: EXIT.ok, next: null, message: null };
    };
    const given = { pythonHome: path.join(dir, 'venv') };
    expect(await runInit(args({ path: env, out, yes: true, given, smoke: false }), ctx, { runPython: venvWithTrac, runSmoke })).toBe(EXIT.ok);
    expect(ran).toEqual([]);
    expect(ctx.out.join('\n')).toContain(`next: trac-deploy smoke ${out}`);
    // --yes takes the offer's default: run it.
    expect(await runInit(args({ path: env, out, yes: true, given }), capture(), { runPython: venvWithTrac, runSmoke })).toBe(EXIT.ok);
    expect(ran).toEqual([out]);
  });

  it('a password file that is not there is asked again with the reason, and no answer is lost', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const users = path.join(dir, 'users.htpasswd');
    await fs.writeFile(users, 'alice:$apr1$abc$xyz\n');
    const missing = path.join(dir, 'nope.htpasswd');
    const out = path.join(dir, 'out');
    const { prompter, asked, rejected } = scripted({
      '--url-prefix': '/kept',
      '--auth': 'basic',
      '--auth-user-file': [missing, dir, users],
      '--out': out,
      '--yes': true,
      '--smoke': false,
    });
    expect(await runInit(args({ path: env }), capture(), { prompter, runPython: noPython })).toBe(EXIT.ok);
    expect(rejected.map((r) => r.value)).toEqual([missing, dir]);
    expect(rejected[0]?.reason).toContain(`--auth-user-file ${missing}: no such file`);
    expect(rejected[0]?.reason).toContain('htpasswd -c');
    expect(rejected[1]?.reason).toContain('not a regular file');
    // Asked once: the re-asking happens at the question, the rest goes on.
    expect(asked.filter((q) => q.flag === '--auth-user-file')).toHaveLength(1);
    const conf = await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8');
    expect(conf).toContain('WSGIScriptAlias "/kept"');
    expect(conf).toContain(`AuthUserFile ${JSON.stringify(users)}`);
  });

  it('a file flag naming no file: asked at its question (interactive), exit 2 before anything else with --yes', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const venvWithTrac = await fakeVenvs(dir, { venv: '1.6' });
    const keytab = path.join(dir, 'http.keytab');
    await fs.writeFile(keytab, 'binary', { mode: 0o600 });
    const missing = path.join(dir, 'missing.keytab');
    const out = path.join(dir, 'out');
    const given = { auth: 'kerberos' as const, authKeytab: missing, urlPrefix: '/k', pythonHome: path.join(dir, 'venv') };
    const { prompter, asked } = scripted({ '--auth-keytab': keytab, '--out': out, '--yes': true, '--smoke': false });
    expect(await runInit(args({ path: env, given }), capture(), { prompter, runPython: venvWithTrac })).toBe(EXIT.ok);
    const q = asked.find((a) => a.flag === '--auth-keytab');
    expect(q?.message).toContain(`--auth-keytab ${missing}: no such file`);
    expect(q?.default).toBe(missing);
    expect(await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8')).toContain(keytab);

    const yes = await runInit(args({ path: env, out: path.join(dir, 'out2'), given, yes: true }), capture(), { runPython: venvWithTrac }).catch((e: Error) => e);
    expect(yes).toBeInstanceOf(Error);
    expect((yes as Error).message).toContain(`--auth-keytab ${missing}: no such file`);
    expect(await fs.pathExists(path.join(dir, 'out2'))).toBe(false);
  });

  it('LDAP: the bind DN and its password file are asked, the file checked', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const venvWithTrac = await fakeVenvs(dir, { venv: '1.6' });
    const secret = path.join(dir, 'bind.pw');
    await fs.writeFile(secret, 'hunter2', { mode: 0o600 });
    const out = path.join(dir, 'out');
    const { prompter, asked, rejected } = scripted({
      '--auth': 'ldap',
      '--auth-ldap-url': 'ldap://dc.example.com/dc=example,dc=com?uid?sub',
      '--auth-ldap-bind-dn': 'cn=trac,dc=example,dc=com',
      '--auth-ldap-bind-password-file': [path.join(dir, 'nope'), secret],
      '--out': out,
      '--yes': true,
      '--smoke': false,
    });
    expect(await runInit(args({ path: env, given: { pythonHome: path.join(dir, 'venv') } }), capture(), { prompter, runPython: venvWithTrac })).toBe(EXIT.ok);
    expect(asked.map((q) => q.flag)).toContain('--auth-ldap-bind-password-file');
    expect(rejected).toHaveLength(1);
    const conf = await fs.readFile(path.join(out, 'trac16-sqlite.conf'), 'utf8');
    expect(conf).toContain(secret);
    expect(conf).not.toContain('hunter2');
  });

  it('--yes without any Python that imports trac: exit 2 naming the command that makes one, nothing written', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    const err = await runInit(args({ path: env, out, yes: true }), capture(), { runPython: noPython }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const text = `${(err as Error).message}\n${String((err as { advice?: unknown }).advice ?? '')}`;
    expect(text).toContain('no Python that can import trac');
    expect(text).toContain(`/usr/bin/python3 -m venv ${path.join(dir, 'trac-venv')}`);
    expect(text).toContain("pip install 'Trac==1.6.*'");
    expect(await fs.pathExists(out)).toBe(false);
  });

  it('shows what inspection found at the question it concerns', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac14-postgres', dir);
    const venvWithTrac = await fakeVenvs(dir, { venv: '1.6' });
    const ctx = capture();
    const { prompter, asked } = scripted({ '--out': path.join(dir, 'out'), '--yes': false }, { out: ctx.out });
    expect(await runInit(args({ path: env, given: { pythonHome: path.join(dir, 'venv') } }), ctx, { prompter, runPython: venvWithTrac })).toBe(EXIT.ok);
    // The login-form plugin finding appears right before the login question, not before the first.
    const authAt = asked.find((q) => q.flag === '--auth')?.shownBefore ?? -1;
    const firstAt = asked[0]?.shownBefore ?? -1;
    const loginLine = ctx.out.findIndex((l) => l.includes('LoginModule'));
    expect(loginLine).toBeGreaterThanOrEqual(firstAt);
    expect(loginLine).toBeLessThan(authAt);
    const poolAt = asked.find((q) => q.flag === '--pool')?.shownBefore ?? -1;
    expect(loginLine).toBeGreaterThanOrEqual(poolAt);
  });
});
