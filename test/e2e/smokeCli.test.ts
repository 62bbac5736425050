import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { CLI } from '../helpers/paths.js';
import { tempDir } from '../helpers/tempDir.js';

describe('trac-deploy smoke: bad input', () => {
  it('a missing directory: exit 2, one line naming it', async () => {
    const dir = path.join(await tempDir(), 'nope');
    const result = await runCli(['smoke', dir]);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr.split('\n')[0]).toBe(`trac-deploy: ${dir}: no such directory; pass the --out directory of trac-deploy generate`);
    expect(result.stdout).toBe('');
  });

  it('a directory without a configuration: exit 2 and the command to run', async () => {
    const dir = await tempDir();
    const result = await runCli(['smoke', dir, '--json']);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain('holds no configuration from trac-deploy generate');
    expect(result.stderr).toContain(`trac-deploy generate ENV --out ${dir}`);
  });

  it('a bad --timeout is a usage error', async () => {
    const result = await runCli(['smoke', await tempDir(), '--timeout', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('trac-deploy: --timeout 0 must be a positive number of seconds');
  });

  it('is listed in --help', async () => {
    const result = await runCli(['--help']);
    expect(result.stdout).toMatch(/smoke \[dir\]\s+serve the configuration in DIR/);
  });
});

describe('trac-deploy smoke: Ctrl-C', () => {
  it('stops Apache and removes its directory when interrupted mid-request', async () => {
    const tmp = await tempDir();
    const out = path.join(tmp, 'out');
    await fs.mkdirp(out);
    await fs.writeFile(path.join(out, 'hang.wsgi'), 'import time\n\ndef application(environ, start_response):\n    time.sleep(60)\n');
    await fs.writeFile(path.join(out, 'hang.conf'), `WSGIScriptAlias /hang ${out}/hang.wsgi\n<Directory ${out}>\n    Require all granted\n</Directory>\n`);
    const serverDirs = path.join(tmp, 'servers');
    await fs.mkdirp(serverDirs);
    await fs.chmod(serverDirs, 0o755);
    // Its temp dirs go to TMPDIR, so this test sees only its own server.
    const child = execa('node', [CLI, 'smoke', out, '--timeout', '60'], { reject: false, stdin: 'ignore', env: { TMPDIR: serverDirs, NO_COLOR: '1' } });
    const pid = await waitForServerPid(serverDirs);
    await waitForRequest(serverDirs);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode ?? result.signal).toBe(130);
    expect(await fs.readdir(serverDirs)).toEqual([]);
    expect(await gone(pid)).toBe(true);
  });
});

async function waitForServerPid(dir: string): Promise<number> {
  for (let i = 0; i < 400; i++) {
    for (const entry of await fs.readdir(dir)) {
      const text = await fs.readFile(path.join(dir, entry, 'httpd.pid'), 'utf8').catch(() => '');
      if (/^\d+/.test(text)) return Number.parseInt(text, 10);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the throwaway server did not start');
}

/** Until the access log or the mod_wsgi socket shows the server took the request (or 1 s). */
async function waitForRequest(dir: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const [entry] = await fs.readdir(dir);
    const log = entry ? await fs.readFile(path.join(dir, entry, 'access.log'), 'utf8').catch(() => '') : '';
    if (log.includes('__trac_deploy_probe__')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
}

/** The process is gone (or a zombie about to be reaped by init) within 2 s. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null || / Z /.test(stat)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
