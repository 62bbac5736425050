import { execa } from 'execa';
import fs from 'fs-extra';
import getPort from 'get-port';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configTest } from '../../src/apache/configTest.js';
import { DEFAULT_MODULES } from '../../src/apache/serverConfig.js';
import { ThrowawayServer } from '../../src/apache/throwawayServer.js';
import { runCli } from '../helpers/cli.js';
import { basicAuthorization } from '../helpers/httpAuth.js';
import { VENV } from '../helpers/paths.js';
import { rawRequest, tracAuthSetCookie, type RawRequest } from '../helpers/rawHttp.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * A production site through a real Apache with mod_ssl and Trac 1.6 on 127.0.0.1: the https
 * host and the redirecting http host on free ports, a certificate made here by openssl in
 * certbot's layout (live/ links into a 0700 archive/), and a second site behind a "proxy"
 * whose X-Forwarded-Proto is trusted from 127.0.0.1 only (127.0.0.2 plays the stranger).
 */
const MODULES = [...DEFAULT_MODULES, 'ssl', 'socache_shmcb'];
const NAME = 'trac.test';
const USER = 'alice';
const PASSWORD = 'pass word';

let root: string;
let server: ThrowawayServer | undefined;
let ca = '';
let keyPem = '';
let cert = '';
let key = '';
const ports = { http: 0, https: 0, proxied: 0 };
const outputs: string[] = [];
let configureOutput = '';

async function generate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runCli(['generate', ...args]);
  outputs.push(result.stdout, result.stderr);
  return result;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-prod-'));
  await fs.chmod(root, 0o755);
  const env = await initEnv(path.join(root, 'env'), 'TLS Project');
  const proxiedEnv = await initEnv(path.join(root, 'proxied'), 'Proxied Project');
  // certbot's layout: live/NAME/*.pem are relative links into archive/NAME/, archive/ is 0700
  // (older certbot releases wrote privkey 0644 there: protected by the directory).
  const archive = path.join(root, 'letsencrypt', 'archive', NAME);
  const live = path.join(root, 'letsencrypt', 'live', NAME);
  await fs.mkdirp(archive);
  await fs.mkdirp(live);
  await fs.chmod(path.dirname(archive), 0o700);
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(archive, 'privkey1.pem'), '-out', path.join(archive, 'fullchain1.pem'), '-days', '2', '-subj', `/CN=${NAME}`, '-addext', `subjectAltName=DNS:${NAME},IP:127.0.0.1`]);
  await fs.chmod(path.join(archive, 'privkey1.pem'), 0o644);
  await fs.symlink(`../../archive/${NAME}/fullchain1.pem`, path.join(live, 'fullchain.pem'));
  await fs.symlink(`../../archive/${NAME}/privkey1.pem`, path.join(live, 'privkey.pem'));
  cert = path.join(live, 'fullchain.pem');
  key = path.join(live, 'privkey.pem');
  ca = await fs.readFile(cert, 'utf8');
  keyPem = await fs.readFile(key, 'utf8');
  const htpasswd = path.join(root, 'htpasswd');
  await execa('htpasswd', ['-c', '-b', '-B', htpasswd, USER, PASSWORD]);
  await fs.mkdirp(path.join(root, 'logs'));
  await chownToApache(path.join(root, 'env'));
  await chownToApache(path.join(root, 'proxied'));
  await chownToApache(path.join(root, 'logs'));
  ports.http = await getPort({ host: '127.0.0.1' });
  ports.https = await getPort({ host: '127.0.0.1', exclude: [ports.http] });
  ports.proxied = await getPort({ host: '127.0.0.1', exclude: [ports.http, ports.https] });

  const common = ['--python-home', VENV, '--processes', '1', '--threads', '2', '--log-dir', path.join(root, 'logs')];
  const tls = await generate([env, '--out', path.join(root, 'out-tls'), '--name', 'tls', ...common, '--server-name', NAME, '--tls-cert', cert, '--tls-key', key, '--hsts', '--http-port', String(ports.http), '--https-port', String(ports.https), '--auth', 'basic', '--auth-user-file', htpasswd, '--configure-trac']);
  configureOutput = tls.stdout + tls.stderr;
  expect(tls.code, tls.stderr).toBe(0);
  const proxied = await generate([proxiedEnv, '--out', path.join(root, 'out-proxy'), '--name', 'proxied', ...common, '--server-name', 'proxied.test', '--http-port', String(ports.proxied), '--behind-proxy', '127.0.0.1']);
  expect(proxied.code, proxied.stderr).toBe(0);
  server = await ThrowawayServer.start({
    modules: MODULES,
    extra: [`Listen 127.0.0.1:${ports.http}`, `Listen 127.0.0.1:${ports.https} https`, `Listen 127.0.0.1:${ports.proxied}`].join('\n'),
    includes: [path.join(root, 'out-tls', 'tls.conf'), path.join(root, 'out-proxy', 'proxied.conf')],
  });
}, 240_000);

afterAll(async () => {
  await server?.stop();
  if (root) await fs.remove(root);
});

const httpsGet = (p: string, extra: Partial<RawRequest> = {}) =>
  rawRequest({ port: ports.https, path: p, host: `${NAME}:${ports.https}`, tls: { ca, servername: NAME }, ...extra });

async function log(): Promise<string> {
  return (await server?.errorLog())?.split('\n').slice(-20).join('\n') ?? '';
}

describe('https site with certbot-layout files', () => {
  it('https answers Trac with the project title, with HSTS', async () => {
    const response = await httpsGet('/trac/wiki/WikiStart');
    expect(response.status, await log()).toBe(200);
    expect(response.body).toMatch(/<title>[^<]*TLS Project/);
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('http answers a permanent redirect to the same path on https', async () => {
    const response = await rawRequest({ port: ports.http, path: '/trac/timeline?daysback=3', host: `${NAME}:${ports.http}` });
    expect(response.status).toBe(301);
    expect(response.headers.location).toBe(`https://${NAME}:${ports.https}/trac/timeline?daysback=3`);
  });

  it('--configure-trac set base_url and secure_cookies through trac-admin, after a backup', async () => {
    const ini = await fs.readFile(path.join(root, 'env', 'conf', 'trac.ini'), 'utf8');
    expect(ini).toContain(`base_url = https://${NAME}:${ports.https}/trac`);
    expect(ini).toMatch(/^secure_cookies = (true|enabled)$/m);
    const backups = (await fs.readdir(path.join(root, 'env', 'conf'))).filter((f) => /^trac\.ini\.trac-deploy-.*\.bak$/.test(f));
    expect(backups).toHaveLength(1);
    const backup = await fs.stat(path.join(root, 'env', 'conf', backups[0] ?? ''));
    const now = await fs.stat(path.join(root, 'env', 'conf', 'trac.ini'));
    expect([backup.uid, backup.gid, backup.mode]).toEqual([now.uid, now.gid, now.mode]);
    expect(now.uid).toBe(33);
    expect(configureOutput).toContain('backed up to');
  });

  it('a Basic login through /login redirects to https, Trac links are https, and the cookie is Secure', async () => {
    const login = await httpsGet('/trac/login', { headers: { Authorization: basicAuthorization(USER, PASSWORD) } });
    expect(login.status, await log()).toBe(302);
    expect(login.headers.location).toMatch(new RegExp(`^https://${NAME.replace('.', '\\.')}:${ports.https}/trac`));
    const cookie = tracAuthSetCookie(login);
    expect(cookie).not.toBeNull();
    expect(cookie?.split(';').map((p) => p.trim().toLowerCase())).toContain('secure');
    const feed = await httpsGet('/trac/timeline?format=rss', { headers: { Cookie: cookie?.split(';')[0] ?? '' } });
    expect(feed.status).toBe(200);
    const links = [...feed.body.matchAll(/<link>([^<]+)<\/link>/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link).toMatch(/^https:\/\//);
  });

  it('the key file is in no output and not copied', async () => {
    const body = keyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
    expect(body.length).toBeGreaterThan(5);
    const texts = [...outputs];
    for (const dir of ['out-tls', 'out-proxy']) {
      for (const f of await fs.readdir(path.join(root, dir))) texts.push(await fs.readFile(path.join(root, dir, f), 'utf8'));
    }
    for (const text of texts) for (const line of body) expect(text.includes(line)).toBe(false);
  });
});

describe('smoke --url: the same page checks against the live site, certificate verified', () => {
  const withCa = () => ({ env: { NODE_EXTRA_CA_CERTS: cert } });
  it('passes on the https site, with the pages chosen by the plan in DIR', async () => {
    const result = await runCli(['smoke', path.join(root, 'out-tls'), '--url', `https://127.0.0.1:${ports.https}/`, '--json'], withCa());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; requests: { url: string; title: string }[] };
    // Every page the plan's environment uses (main's page list), the front page first.
    expect(report.requests[0]?.url).toBe(`https://127.0.0.1:${ports.https}/trac`);
    expect(report.requests.map((r) => r.url)).toContain(`https://127.0.0.1:${ports.https}/trac/timeline`);
    expect(report.requests.every((r) => r.url.startsWith(`https://127.0.0.1:${ports.https}/trac`))).toBe(true);
    expect(report.requests[0]?.title).toContain('TLS Project');
  });
  it('passes with the URL alone', async () => {
    const result = await runCli(['smoke', '--url', `https://127.0.0.1:${ports.https}/trac`], withCa());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('Trac answered on the live site.');
  });
  it('fails (exit 1) on a page that is not Trac, and on a certificate it cannot verify', async () => {
    const missing = await runCli(['smoke', '--url', `https://127.0.0.1:${ports.https}/nothing-here`], withCa());
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toMatch(/HTTP 404/);
    const untrusted = await runCli(['smoke', '--url', `https://127.0.0.1:${ports.https}/trac`]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout + untrusted.stderr).toMatch(/certificate/i);
  });
  it('refuses a URL that is not one (exit 2)', async () => {
    const result = await runCli(['smoke', '--url', 'not a url']);
    expect(result.code).toBe(2);
  });
});

describe('smoke DIR of a whole site: the virtual hosts moved to free ports of a throwaway server', () => {
  it('the https site passes, requested with its ServerName', async () => {
    const result = await runCli(['smoke', path.join(root, 'out-tls'), '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { requests: { url: string; title: string }[] };
    expect(report.requests[0]?.url).toMatch(/^https:\/\/trac\.test:\d+\/trac$/);
    expect(report.requests[0]?.title).toContain('TLS Project');
  });
  it('the http site passes, and so does --hello', async () => {
    for (const extra of [[], ['--hello']]) {
      const result = await runCli(['smoke', path.join(root, 'out-proxy'), ...extra]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    }
  });
});

/** Two GETs of one path through one keep-alive agent: the answers and whether the second reused the connection. */
async function twoOnOneConnection(port: number, urlPath: string, host: string): Promise<{ statuses: number[]; connection: string[]; reused: boolean }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: number[] = [];
  const connection: string[] = [];
  let reused = false;
  try {
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, headers: { Host: host }, timeout: 60000 }, (res) => {
          statuses.push(res.statusCode ?? 0);
          if (i === 1) reused = req.reusedSocket;
          connection.push(String(res.headers.connection ?? ''));
          res.resume();
          res.on('end', resolve);
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`no answer from 127.0.0.1:${port}${urlPath}`)));
        req.on('error', reject);
      });
    }
  } finally {
    agent.destroy();
  }
  return { statuses, connection, reused };
}

describe('keep-alive: the site keeps connections open, whatever the server-wide default', () => {
  it('the throwaway server itself says KeepAlive Off: its own port closes after one answer', async () => {
    const main = await twoOnOneConnection(server?.port ?? 0, '/__no_such_page__', '127.0.0.1');
    expect(main.connection[0]).toBe('close');
    expect(main.reused).toBe(false);
  });
  it("the site's virtual host serves two static files on one connection", async () => {
    const site = await twoOnOneConnection(ports.proxied, '/trac/chrome/common/css/trac.css', 'proxied.test');
    expect(site.statuses, await log()).toEqual([200, 200]);
    expect(site.connection[0]).not.toBe('close');
    expect(site.reused).toBe(true);
  });
});

describe('behind a proxy: X-Forwarded-Proto only from the trusted address', () => {
  const feedLinks = async (localAddress: string) => {
    const response = await rawRequest({ port: ports.proxied, path: '/trac/timeline?format=rss', host: 'proxied.test', localAddress, headers: { 'X-Forwarded-Proto': 'https' } });
    expect(response.status, await log()).toBe(200);
    return [...response.body.matchAll(/<link>([^<]+)<\/link>/g)].map((m) => m[1] ?? '');
  };
  it('from 127.0.0.1 (trusted) Trac builds https links', async () => {
    const links = await feedLinks('127.0.0.1');
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link).toMatch(/^https:\/\/proxied\.test\//);
  });
  it('from 127.0.0.2 (not trusted) the header is ignored: http links', async () => {
    const links = await feedLinks('127.0.0.2');
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link).toMatch(/^http:\/\/proxied\.test\//);
  });
  it('generate names the trac.ini mismatches with exact trac-admin commands', () => {
    const text = outputs.join('\n');
    expect(text).toContain(`trac-admin ${path.join(root, 'proxied')} config set trac base_url https://proxied.test/trac`);
    expect(text).toContain(`trac-admin ${path.join(root, 'proxied')} config set trac use_base_url_for_redirect true`);
  });
});

describe('apachectl -t accepts every variant', () => {
  it.each([
    ['site without TLS', ['--server-name', NAME]],
    ['TLS with a chain file, no HSTS', ['--server-name', NAME, '--server-alias', 'www.trac.test', '--tls-chain', '@CERT@']],
    ['TLS with HSTS on default ports, behind a proxy range', ['--server-name', NAME, '--hsts', '--behind-proxy', '10.0.0.0/8']],
    ['a snippet behind a proxy', ['--behind-proxy', '127.0.0.1', '--request-timeout', '5', '--maximum-requests', '100']],
  ])('%s', async (label, extra) => {
    const out = path.join(root, `variant-${label.replace(/\W+/g, '-')}`);
    const tlsArgs = extra.includes('--tls-chain') || label.startsWith('TLS') ? ['--tls-cert', cert, '--tls-key', key] : [];
    const result = await generate([path.join(root, 'env'), '--out', out, '--name', 'v', '--python-home', VENV, ...(extra.includes('--server-name') ? ['--log-dir', path.join(root, 'logs')] : []), ...tlsArgs, ...extra.map((a) => (a === '@CERT@' ? cert : a))]);
    expect(result.code, result.stderr).toBe(0);
    const test = await configTest([path.join(out, 'v.conf')], { modules: MODULES });
    expect(test.ok, test.output).toBe(true);
  });
});
