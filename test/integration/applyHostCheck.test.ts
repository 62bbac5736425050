import { execa } from 'execa';
import fs from 'fs-extra';
import getPort from 'get-port';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../helpers/browserLoad.js';
import { runCli } from '../helpers/cli.js';
import { makeDebianTree, type DebianTree } from '../helpers/debianTree.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * apply's checks after the reload ask a whole site as that site: a Debian-like tree whose first
 * (default) virtual host answers 404 for /trac/ on the same port, so a check that sent no Host
 * (or the address as Host) would see the default host and fail the apply. Then the same site
 * with TLS: https with the site's name as Host and TLS server name on its https port, and the
 * redirect to https on its http port.
 */
let root: string;
let tree: DebianTree | undefined;
let env: string;
let httpsPort = 0;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-host-'));
  await fs.chmod(root, 0o755);
  env = await initEnv(path.join(root, 'env'), 'Host Check');
  await chownToApache(env);
  tree = await makeDebianTree(root);
  httpsPort = await getPort({ host: '127.0.0.1', exclude: [tree.port] });
  await fs.appendFile(path.join(tree.root, 'ports.conf'), `Listen 127.0.0.1:${httpsPort} https\n`);
  for (const m of ['ssl', 'socache_shmcb']) {
    await fs.writeFile(path.join(tree.root, 'mods-enabled', `${m}.load`), `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so\n`);
  }
  // The default virtual host of both ports (read first): it has no /trac.
  const vhost = (port: number, tls: string) =>
    `<VirtualHost *:${port}>\n    ServerName default.test\n    DocumentRoot ${tree?.root}/www\n${tls}</VirtualHost>\n`;
  const cert = path.join(root, 'cert.pem');
  const key = path.join(root, 'key.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=live.test', '-addext', 'subjectAltName=DNS:live.test']);
  await fs.writeFile(
    path.join(tree.root, 'sites-available', '000-default.conf'),
    vhost(tree.port, '') + vhost(httpsPort, `    SSLEngine on\n    SSLCertificateFile ${cert}\n    SSLCertificateKeyFile ${key}\n`) + `<Directory ${tree.root}/www>\n    Require all granted\n</Directory>\n`,
  );
  await fs.symlink('../sites-available/000-default.conf', path.join(tree.root, 'sites-enabled', '000-default.conf'));
  await tree.start();
}, 120_000);

afterAll(async () => {
  await tree?.stop();
  if (root) await fs.remove(root);
});

async function generateAndApply(out: string, extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = tree;
  if (!t) throw new Error('no tree');
  const generated = await runCli(['generate', env, '--out', out, '--name', 'live', '--python-home', VENV, '--server-name', 'live.test', '--http-port', String(t.port), '--log-dir', path.join(t.root, 'log'), '--processes', '1', '--threads', '2', '--force', ...extra]);
  expect(generated.code, generated.stderr).toBe(0);
  return runCli(['apply', out, '--apache-root', t.root]);
}

describe('apply checks a name-based virtual host as itself', () => {
  it('http: the mount is asked with Host live.test, which the default host would have failed', async () => {
    const t = tree;
    if (!t) throw new Error('no tree');
    const applied = await generateAndApply(path.join(root, 'plain'), []);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(new RegExp(`^verified: mounted: http://127\\.0\\.0\\.1:${t.port}/trac/ \\(Host: live\\.test\\): HTTP 200$`, 'm'));
    // What a check without the site's name sees: the default host, which has no /trac.
    expect(await get(t.port, '/trac/')).toBe(404);
    expect(await get(t.port, '/trac/', 'live.test')).toBe(200);
    // Only the site's port was asked for the site: the https port belongs to the default host.
    expect(applied.stdout).not.toMatch(new RegExp(`mounted: \\S+:${httpsPort}/trac/`));
  }, 240_000);

  it('TLS: https on the https port with the name as Host and server name; the http port redirects', async () => {
    const t = tree;
    if (!t) throw new Error('no tree');
    const cert = path.join(root, 'site-cert.pem');
    const key = path.join(root, 'site-key.pem');
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=live.test', '-addext', 'subjectAltName=DNS:live.test']);
    const applied = await generateAndApply(path.join(root, 'tls'), ['--tls-cert', cert, '--tls-key', key, '--https-port', String(httpsPort)]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(new RegExp(`^verified: mounted: https://127\\.0\\.0\\.1:${httpsPort}/trac/ \\(Host: live\\.test\\): HTTP 200$`, 'm'));
    expect(applied.stdout).toMatch(new RegExp(`^verified: mounted: http://127\\.0\\.0\\.1:${t.port}/trac/ \\(Host: live\\.test\\): HTTP 301 -> https://live\\.test:${httpsPort}/trac/$`, 'm'));
    // The key is in no output.
    expect(applied.stdout + applied.stderr).not.toContain((await fs.readFile(key, 'utf8')).split('\n')[1] ?? 'x');
  }, 240_000);

  it('a site on a port Apache does not listen on is not called mounted: apply fails and restores', async () => {
    const t = tree;
    if (!t) throw new Error('no tree');
    const unused = await getPort({ host: '127.0.0.1', exclude: [t.port, httpsPort] });
    const before = await fs.readFile(path.join(t.root, 'sites-available', 'live.conf'), 'utf8');
    const generated = await runCli(['generate', env, '--out', path.join(root, 'elsewhere'), '--name', 'live', '--python-home', VENV, '--server-name', 'live.test', '--http-port', String(unused), '--log-dir', path.join(t.root, 'log'), '--processes', '1', '--threads', '2', '--force']);
    expect(generated.code, generated.stderr).toBe(0);
    const applied = await runCli(['apply', path.join(root, 'elsewhere'), '--apache-root', t.root]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(1);
    expect(applied.stderr).toContain(`port ${unused}, where Apache`);
    expect(applied.stderr).toContain(`Listen ${unused}`);
    expect(await fs.readFile(path.join(t.root, 'sites-available', 'live.conf'), 'utf8')).toBe(before);
  }, 240_000);
});
