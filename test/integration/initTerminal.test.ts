import fs from 'fs-extra';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, VENV } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';
import { TmuxSession } from '../helpers/tmux.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/** The wizard under a real terminal (tmux): keystrokes in, files out. */
describe('trac-deploy init in a terminal', () => {
  const sessions: TmuxSession[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.kill();
  });

  async function start(dir: string, args: string[]): Promise<{ tmux: TmuxSession; rcFile: string }> {
    const rcFile = path.join(dir, 'rc');
    const line = ['node', CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const tmux = await TmuxSession.start(['sh', '-c', `${line}; echo $? > '${rcFile}'`], { cwd: dir, env: { NO_COLOR: '1' } });
    sessions.push(tmux);
    return { tmux, rcFile };
  }

  async function exitCode(rcFile: string): Promise<number> {
    for (let i = 0; i < 300 && !(await fs.pathExists(rcFile)); i++) await new Promise((r) => setTimeout(r, 100));
    return Number((await fs.readFile(rcFile, 'utf8')).trim());
  }

  it('asks, re-asks a password file that is not there, shows the files, writes them on confirmation, smoke-tests by default', async () => {
    const dir = await tempDir();
    const env = await initEnv(path.join(dir, 'proj'), 'Terminal Project');
    await chownToApache(env);
    const users = path.join(dir, 'users.htpasswd');
    await fs.writeFile(users, 'alice:$apr1$abc$xyz\n');
    const missing = path.join(dir, 'nope.htpasswd');
    await fs.symlink(VENV, path.join(dir, 'venv'));
    const out = path.join(dir, 'deploy');
    const { tmux, rcFile } = await start(dir, ['init', env]);

    await tmux.waitFor('URL path to mount Trac at');
    await tmux.type('/wiki');
    await tmux.keys(['Enter']);
    await tmux.waitFor('Name for the files and process group');
    await tmux.keys(['Enter']);
    await tmux.waitFor('mod_wsgi mode');
    await tmux.keys(['Enter']);
    const venvQuestion = await tmux.waitFor('Virtualenv Trac is installed in');
    expect(venvQuestion).toContain(`${path.join(dir, 'venv')} (Python 3.`);
    await tmux.keys(['Enter']);
    await tmux.waitFor('Login method');
    await tmux.keys(['Down', 'Enter']);
    await tmux.waitFor('Password file');
    await tmux.type(missing);
    await tmux.keys(['Enter']);
    // Asked again at once, with the reason; the answers so far stay.
    await tmux.waitFor(`--auth-user-file ${missing}: no such file`);
    await tmux.keys(Array.from({ length: missing.length }, () => 'BSpace'));
    await tmux.type(users);
    await tmux.keys(['Enter']);
    await tmux.waitFor('Strip DOMAIN');
    await tmux.type('y');
    await tmux.keys(['Enter']);
    await tmux.waitFor('Directory to write');
    await tmux.type(out);
    await tmux.keys(['Enter']);
    const preview = await tmux.waitFor('Write 3 files to');
    expect(preview).toContain(`new file: ${path.join(out, 'proj.conf')}`);
    // The plan as a summary, not its JSON.
    expect(preview).toContain('mounted at /wiki, daemon mode');
    expect(preview).not.toContain('"kind": "trac-deploy-plan"');
    // Nothing is written before the answer.
    expect(await fs.pathExists(out)).toBe(false);
    await tmux.type('y');
    await tmux.keys(['Enter']);
    const offer = await tmux.waitFor('Run the smoke test now');
    expect(offer).toContain('(Y/n)');
    await tmux.keys(['Enter']);

    expect(await exitCode(rcFile)).toBe(0);
    expect(await tmux.screen()).toMatch(/smoke: /);
    const conf = await fs.readFile(path.join(out, 'proj.conf'), 'utf8');
    expect(conf).toContain('WSGIScriptAlias "/wiki"');
    expect(conf).toContain(`python-home="${path.join(dir, 'venv')}"`);
    expect(conf).toContain(`AuthUserFile ${JSON.stringify(users)}`);
    expect(await fs.readFile(path.join(out, 'proj.wsgi'), 'utf8')).toContain('_strip_domain(environ)');
  });

  it('Ctrl-C at a question cancels cleanly: one line, exit 130, nothing written', async () => {
    const dir = await tempDir();
    const env = await initEnv(path.join(dir, 'proj'));
    const { tmux, rcFile } = await start(dir, ['init', env, '--out', path.join(dir, 'deploy')]);
    await tmux.waitFor('URL path to mount Trac at');
    await tmux.keys(['Enter']);
    await tmux.waitFor('Name for the files');
    await tmux.keys(['C-c']);
    expect(await exitCode(rcFile)).toBe(130);
    const screen = await tmux.screen();
    expect(screen).toContain('trac-deploy: init cancelled, nothing written');
    expect(screen).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(await fs.pathExists(path.join(dir, 'deploy'))).toBe(false);
  });

  it('a changed file is shown as a diff and kept when the answer is no', async () => {
    const dir = await tempDir();
    const env = await initEnv(path.join(dir, 'proj'));
    const out = path.join(dir, 'deploy');
    await fs.mkdirp(out);
    await fs.writeFile(path.join(out, 'proj.conf'), '# kept by hand\n');
    const { tmux, rcFile } = await start(dir, ['init', env, '--out', out, '--url-prefix', '/t', '--name', 'proj', '--mode', 'daemon', '--python-home', VENV, '--no-strip-domain', '--auth', 'none']);
    const screen = await tmux.waitFor('Replace 1 existing file shown above and write 2 new?');
    expect(screen).toContain('-# kept by hand');
    await tmux.keys(['Enter']);
    expect(await exitCode(rcFile)).toBe(0);
    expect(await fs.readFile(path.join(out, 'proj.conf'), 'utf8')).toBe('# kept by hand\n');
    expect(await fs.pathExists(path.join(out, 'proj.wsgi'))).toBe(false);
  });
});
