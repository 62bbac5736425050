import { execa } from 'execa';
import fs from 'fs-extra';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThrowawayServer } from '../../src/apache/throwawayServer.js';
import { runCli } from '../helpers/cli.js';
import { basicAuthorization, digestAuthorization, loggedInAs, tracAuthCookie } from '../helpers/httpAuth.js';
import { VENV } from '../helpers/paths.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * Logins through a real Apache and real Trac 1.6: one server carries several generated sites
 * (each its own --url-prefix and daemon process group), so Trac starts once per site.
 * The user is CORP\alice, as a Windows domain login delivers it.
 */
const USER = 'CORP\\alice';
const PASSWORD = 's3cret pass';
const REALM = 'Trac';

let root: string;
let server: ThrowawayServer | undefined;
const generated: Record<string, { code: number; stderr: string; plan: { apacheModules: string[] } }> = {};

async function generate(site: string, source: string, extra: string[]): Promise<string> {
  const out = path.join(root, `out-${site}`);
  const result = await runCli(['generate', source, '--out', out, '--name', site, '--url-prefix', `/${site}`, '--python-home', VENV, '--processes', '1', '--threads', '2', '--json', ...extra]);
  generated[site] = { code: result.code, stderr: result.stderr, plan: result.code === 0 ? JSON.parse(result.stdout).plan : { apacheModules: [] } };
  if (result.code !== 0) throw new Error(`generate ${site} failed: ${result.stderr}`);
  return path.join(out, `${site}.conf`);
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-auth-'));
  await fs.chmod(root, 0o755);
  const env = await initEnv(path.join(root, 'env'), 'Auth Project');
  const parent = path.join(root, 'parent');
  await initEnv(path.join(parent, 'proj'), 'Parent Project');
  const htpasswd = path.join(root, 'htpasswd');
  await execa('htpasswd', ['-c', '-b', '-B', htpasswd, USER, PASSWORD]);
  // htdigest only reads passwords from a terminal; its line format is user:realm:MD5(user:realm:password).
  const htdigest = path.join(root, 'htdigest');
  await fs.writeFile(htdigest, `${USER}:${REALM}:${createHash('md5').update(`${USER}:${REALM}:${PASSWORD}`).digest('hex')}\n`);
  const groups = path.join(root, 'groups');
  await fs.writeFile(groups, `CORP\\Trac Users: ${USER}\nadmins: CORP\\bob\n`);
  const siteDir = path.join(root, 'site-dir');
  await fs.mkdirp(siteDir);
  await chownToApache(root);

  const includes = [
    await generate('plain', env, ['--auth', 'basic', '--auth-user-file', htpasswd]),
    await generate('strip', env, ['--auth', 'basic', '--auth-user-file', htpasswd, '--strip-domain']),
    await generate('digest', env, ['--auth', 'digest', '--auth-user-file', htdigest, '--auth-realm', REALM, '--strip-domain']),
    await generate('whole', env, ['--auth', 'basic', '--auth-user-file', htpasswd, '--auth-scope', 'site', '--strip-domain']),
    await generate('multi', parent, ['--auth', 'basic', '--auth-user-file', htpasswd, '--strip-domain', '--pool', 'disable', '--site-dir', siteDir]),
    await generate('group', env, ['--auth', 'basic', '--auth-user-file', htpasswd, '--auth-group-file', groups, '--auth-require-group', 'CORP\\Trac Users', '--strip-domain']),
    await generate('nogroup', env, ['--auth', 'basic', '--auth-user-file', htpasswd, '--auth-group-file', groups, '--auth-require-group', 'admins']),
    await generate('sspi', env, ['--auth', 'sspi', '--strip-domain']),
    await generate('sspisite', env, ['--auth', 'sspi', '--auth-scope', 'site', '--strip-domain']),
  ];
  server = await ThrowawayServer.start({ includes });
});

afterAll(async () => {
  await server?.stop();
  if (root) await fs.remove(root);
});

function srv(): ThrowawayServer {
  if (!server) throw new Error('server did not start');
  return server;
}

async function get(urlPath: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(srv().url(urlPath), { headers, redirect: 'manual' });
}

/** Log in at loginPath with the given Authorization, then read the wiki with Trac's cookie. */
async function loginThenWiki(loginPath: string, wikiPath: string, authorization: string): Promise<{ login: Response; wikiUser: string | null }> {
  const login = await get(loginPath, { Authorization: authorization });
  await login.arrayBuffer();
  const cookie = tracAuthCookie(login);
  if (!cookie) return { login, wikiUser: null };
  const wiki = await get(wikiPath, { Cookie: cookie });
  const html = await wiki.text();
  expect(wiki.status, html.slice(0, 500)).toBe(200);
  return { login, wikiUser: loggedInAs(html) };
}

async function debugLog(): Promise<string> {
  return (await srv().errorLog()).split('\n').slice(-30).join('\n');
}

describe('Basic login through Apache, one environment', () => {
  it('names the modules it needs', () => {
    expect(generated.strip?.plan.apacheModules).toEqual(expect.arrayContaining(['wsgi', 'auth_basic', 'authn_file', 'authn_core', 'authz_user']));
  });

  it('anonymous visitors still read the wiki', async () => {
    const response = await get('/strip/wiki/WikiStart');
    const html = await response.text();
    expect(response.status, await debugLog()).toBe(200);
    expect(loggedInAs(html)).toBeNull();
    expect(html).toContain('/strip/login');
  });

  it('with --strip-domain Trac shows "logged in as alice"', async () => {
    const { login, wikiUser } = await loginThenWiki('/strip/login', '/strip/wiki/WikiStart', basicAuthorization(USER, PASSWORD));
    expect(login.status, await debugLog()).toBe(302);
    expect(wikiUser).toBe('alice');
  });

  it('without it Trac shows the name as Apache delivered it, CORP\\alice', async () => {
    const { login, wikiUser } = await loginThenWiki('/plain/login', '/plain/wiki/WikiStart', basicAuthorization(USER, PASSWORD));
    expect(login.status, await debugLog()).toBe(302);
    expect(wikiUser).toBe('CORP\\alice');
  });

  it('a wrong password gets 401 and no cookie', async () => {
    const response = await get('/strip/login', { Authorization: basicAuthorization(USER, 'wrong') });
    await response.arrayBuffer();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Basic realm="${REALM}"`);
    expect(tracAuthCookie(response)).toBeNull();
  });

  it('no credentials at /login gets 401', async () => {
    const response = await get('/strip/login');
    await response.arrayBuffer();
    expect(response.status).toBe(401);
  });
});

describe('--auth-require-group with a group file', () => {
  it('a member of "CORP\\Trac Users" logs in (the backslash survives Apache\'s Require parsing)', async () => {
    const { login, wikiUser } = await loginThenWiki('/group/login', '/group/wiki/WikiStart', basicAuthorization(USER, PASSWORD));
    expect(login.status, await debugLog()).toBe(302);
    expect(wikiUser).toBe('alice');
  });

  it('a user outside the required group gets 401 with the right password', async () => {
    const response = await get('/nogroup/login', { Authorization: basicAuthorization(USER, PASSWORD) });
    await response.arrayBuffer();
    expect(response.status).toBe(401);
    expect(tracAuthCookie(response)).toBeNull();
  });
});

describe('Digest login through Apache', () => {
  async function challenge(): Promise<string> {
    const response = await get('/digest/login');
    await response.arrayBuffer();
    expect(response.status).toBe(401);
    return response.headers.get('www-authenticate') ?? '';
  }

  it('names mod_auth_digest', () => {
    expect(generated.digest?.plan.apacheModules).toEqual(expect.arrayContaining(['auth_digest', 'authn_file']));
  });

  it('answers with a Digest challenge, and the right answer logs in as alice', async () => {
    const header = await challenge();
    expect(header).toMatch(/^Digest realm="Trac"/);
    const authorization = digestAuthorization(header, { user: USER, password: PASSWORD, method: 'GET', uri: '/digest/login' });
    const { login, wikiUser } = await loginThenWiki('/digest/login', '/digest/wiki/WikiStart', authorization);
    expect(login.status, await debugLog()).toBe(302);
    expect(wikiUser).toBe('alice');
  });

  it('a wrong password gets 401', async () => {
    const authorization = digestAuthorization(await challenge(), { user: USER, password: 'wrong', method: 'GET', uri: '/digest/login' });
    const response = await get('/digest/login', { Authorization: authorization });
    await response.arrayBuffer();
    expect(response.status).toBe(401);
  });

  it('anonymous visitors still read the wiki', async () => {
    const response = await get('/digest/wiki/WikiStart');
    await response.arrayBuffer();
    expect(response.status).toBe(200);
  });
});

describe('--auth-scope site', () => {
  it('refuses anonymous requests', async () => {
    const response = await get('/whole/wiki/WikiStart');
    await response.arrayBuffer();
    expect(response.status).toBe(401);
  });

  it('every request carries the user: the wiki shows alice without visiting /login', async () => {
    const response = await get('/whole/wiki/WikiStart', { Authorization: basicAuthorization(USER, PASSWORD) });
    const html = await response.text();
    expect(response.status, await debugLog()).toBe(200);
    expect(loggedInAs(html)).toBe('alice');
  });
});

describe('a parent directory: <LocationMatch> protects every project\'s /login', () => {
  it('the project index and the wiki stay open', async () => {
    const index = await get('/multi/');
    expect(index.status, await debugLog()).toBe(200);
    expect(await index.text()).toContain('Parent Project');
    const wiki = await get('/multi/proj/wiki/WikiStart');
    await wiki.arrayBuffer();
    expect(wiki.status).toBe(200);
  });

  it('/<project>/login asks for a password and logs in as alice', async () => {
    const anonymous = await get('/multi/proj/login');
    await anonymous.arrayBuffer();
    expect(anonymous.status).toBe(401);
    const wrong = await get('/multi/proj/login', { Authorization: basicAuthorization(USER, 'nope') });
    await wrong.arrayBuffer();
    expect(wrong.status).toBe(401);
    const { login, wikiUser } = await loginThenWiki('/multi/proj/login', '/multi/proj/wiki/WikiStart', basicAuthorization(USER, PASSWORD));
    expect(login.status, await debugLog()).toBe(302);
    expect(wikiUser).toBe('alice');
  });
});

describe('--auth sspi on a server without mod_authnz_sspi fails closed', () => {
  it('login scope: /login is denied, the wiki stays open', async () => {
    const login = await get('/sspi/login');
    await login.arrayBuffer();
    expect(login.status).toBe(403);
    const wiki = await get('/sspi/wiki/WikiStart');
    await wiki.arrayBuffer();
    expect(wiki.status).toBe(200);
  });

  it('site scope: everything is denied rather than served without a login', async () => {
    const wiki = await get('/sspisite/wiki/WikiStart');
    await wiki.arrayBuffer();
    expect(wiki.status).toBe(403);
  });
});
