import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanError, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { copyFixture } from '../helpers/tracEnv.js';

/** The key checks of --tls-key, through the built CLI: refusals are one clean line, exit 2, and never show the key. */
async function world(): Promise<{ dir: string; env: string; cert: string; key: string; keyBody: string[] }> {
  const dir = await tempDir();
  const env = await copyFixture('trac16-sqlite', dir);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=trac.test']);
  await fs.chmod(key, 0o600);
  const keyBody = (await fs.readFile(key, 'utf8')).split('\n').filter((l) => l && !l.startsWith('-----'));
  return { dir, env, cert, key, keyBody };
}

const site = (w: { dir: string; env: string; cert: string }, key: string, extra: string[] = []) =>
  runCli(['generate', w.env, '--out', path.join(w.dir, 'out'), '--server-name', 'trac.test', '--tls-cert', w.cert, '--tls-key', key, '--log-dir', w.dir, ...extra]);

describe('generate --tls-key', () => {
  it('a key other users can read is refused with advice, and its content is never printed', async () => {
    const w = await world();
    await fs.chmod(w.key, 0o644);
    const result = await site(w, w.key);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain(`--tls-key ${w.key} can be read by every user`);
    expect(result.stderr).toContain('chmod 600');
    for (const line of w.keyBody) expect(result.stdout + result.stderr).not.toContain(line);
    expect(await fs.pathExists(path.join(w.dir, 'out'))).toBe(false);
  });
  it('a key that does not belong to the certificate is refused', async () => {
    const w = await world();
    const other = path.join(w.dir, 'other.pem');
    await execa('openssl', ['genrsa', '-out', other, '2048']);
    await fs.chmod(other, 0o600);
    const result = await site(w, other);
    expect(result.code).toBe(2);
    expectCleanError(result);
    expect(result.stderr).toContain('does not belong to --tls-cert');
  });
  it('a matching private key is accepted, named in the .conf and not copied', async () => {
    const w = await world();
    const result = await site(w, w.key, ['--json']);
    expect(result.code, result.stderr).toBe(0);
    const conf = await fs.readFile(path.join(w.dir, 'out', 'trac16-sqlite.conf'), 'utf8');
    expect(conf).toContain(`SSLCertificateKeyFile "${w.key}"`);
    for (const f of await fs.readdir(path.join(w.dir, 'out'))) {
      const text = await fs.readFile(path.join(w.dir, 'out', f), 'utf8');
      for (const line of w.keyBody) expect(text).not.toContain(line);
    }
    for (const line of w.keyBody) expect(result.stdout + result.stderr).not.toContain(line);
  });
  it('site flags without --server-name, and proxies named by host name, are usage errors', async () => {
    const w = await world();
    for (const args of [['--hsts'], ['--tls-cert', w.cert, '--tls-key', w.key], ['--behind-proxy', 'proxy.example'], ['--configure-trac'], ['--request-timeout', '-3']]) {
      const result = await runCli(['generate', w.env, '--out', path.join(w.dir, 'out2'), ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expectCleanError(result);
    }
  });
});

describe('inspect and trac.ini URL settings', () => {
  async function envWith(settings: string): Promise<{ dir: string; env: string }> {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const ini = path.join(env, 'conf', 'trac.ini');
    const text = await fs.readFile(ini, 'utf8');
    await fs.writeFile(ini, text.replace(/^\[trac\]\n/m, `[trac]\n${settings}\n`));
    return { dir, env };
  }

  it('without --server-name: reports what trac.ini contradicts itself in, with the trac-admin command', async () => {
    const { env } = await envWith('base_url = https://trac.test/trac\nsecure_cookies = false');
    const result = await runCli(['inspect', env, '--no-preflight', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { environments: { problems: { code: string; message: string; advice?: string[] }[] }[] };
    const found = report.environments.flatMap((e) => e.problems).filter((f) => f.code === 'trac-ini-url-inconsistent');
    expect(found.map((f) => f.advice)).toEqual([[`trac-admin ${env} config set trac secure_cookies true`]]);
  });

  it('with the flags generate takes: the full comparison with the public URL generate would plan', async () => {
    const { env } = await envWith('base_url = https://trac.test/trac\nsecure_cookies = true');
    const matching = await runCli(['inspect', env, '--no-preflight', '--json', '--server-name', 'trac.test', '--behind-proxy', '10.0.0.1']);
    expect(matching.code, matching.stderr).toBe(0);
    const codes = (stdout: string) =>
      (JSON.parse(stdout) as { environments: { problems: { code: string; advice?: string[] }[] }[] }).environments.flatMap((e) => e.problems).filter((f) => f.code.startsWith('trac-ini-url'));
    // behind a proxy the redirect base is missing; base_url and secure_cookies match
    expect(codes(matching.stdout).map((f) => f.advice?.[0])).toEqual([`trac-admin ${env} config set trac use_base_url_for_redirect true`]);
    const other = await runCli(['inspect', env, '--no-preflight', '--server-name', 'trac.test', '--url-prefix', '/']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout + other.stderr).toContain(`trac-admin ${env} config set trac base_url http://trac.test`);
    expect(other.stdout + other.stderr).toContain(`trac-admin ${env} config set trac secure_cookies false`);
    const stray = await runCli(['inspect', env, '--no-preflight', '--behind-proxy', '10.0.0.1']);
    expect(stray.code).toBe(2);
    expectCleanError(stray);
    expect(stray.stderr).toContain('--behind-proxy describes the public URL, which needs --server-name');
  });
});

describe('generate: a snippet and a whole site in one --out', () => {
  it('warns that the snippet at / also answers on the site host, from whichever side was generated last', async () => {
    const dir = await tempDir();
    const env = await copyFixture('trac16-sqlite', dir);
    const out = path.join(dir, 'out');
    const internal = await runCli(['generate', env, '--out', out, '--name', 'internal', '--url-prefix', '/', '--no-preflight']);
    expect(internal.code, internal.stderr).toBe(0);
    expect(internal.stderr).not.toContain('also answers');
    const pub = await runCli(['generate', env, '--out', out, '--name', 'public', '--url-prefix', '/trac', '--server-name', 'trac.test', '--log-dir', dir, '--no-preflight']);
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stderr).toContain('/ (internal, a snippet of the main server) also answers at http://trac.test/');
    // Generated again, the snippet itself is told.
    const again = await runCli(['generate', env, '--out', out, '--name', 'internal', '--url-prefix', '/', '--no-preflight', '--force']);
    expect(again.stderr).toContain('also answers at http://trac.test/');
    // A site at / covers its whole host: nothing to say.
    const root = await runCli(['generate', env, '--out', out, '--name', 'public', '--url-prefix', '/', '--server-name', 'trac.test', '--log-dir', dir, '--no-preflight', '--force']);
    expect(root.code, root.stderr).toBe(0);
    expect(root.stderr).not.toContain('also answers');
  });
});
