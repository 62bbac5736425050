import Database from 'better-sqlite3';
import { execa } from 'execa';
import fs from 'fs-extra';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withThrowawayServer } from '../../src/apache/throwawayServer.js';
import { runCli } from '../helpers/cli.js';
import { TRAC_ADMIN, VENV } from '../helpers/paths.js';
import { generate, sharedDir, smokeJson } from '../helpers/smokeBed.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

/**
 * The verdict tells the truth: each case the issue reproduced (Debian's Subversion bindings, an
 * X-Sendfile download, trac.ini states Trac refuses, two sites in one directory, a copied
 * directory, / before /git, a parent dir with a broken and an outdated environment) is
 * provoked for real; smoke's exit code is compared with what an HTTP client gets from the same
 * configuration in Apache.
 */
let root: string;
let svnEnv: string;
let sendEnv: string;
const ATTACHMENT = 'x'.repeat(5000) + '\n';

/**
 * GET the paths, as a plain HTTP client (node:http, which counts the bytes that arrive even when
 * fewer than Content-Length announced), from an Apache serving these confs.
 */
async function client(confs: string[], paths: string[]): Promise<{ status: number; bytes: number; body: string }[]> {
  return withThrowawayServer({ includes: confs }, async (server) => {
    const out = [];
    for (const p of paths) out.push(await get(server.url(p)));
    return out;
  });
}

function get(url: string): Promise<{ status: number; bytes: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: 120_000 }, (response) => {
      const chunks: Buffer[] = [];
      const done = () => {
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, bytes: body.length, body: body.toString('utf8') });
      };
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', done);
      response.on('aborted', done);
      response.on('error', done);
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer`)));
    request.on('error', reject);
  });
}

async function setIni(env: string, section: string, key: string, value: string): Promise<void> {
  await execa(TRAC_ADMIN, [env, 'config', 'set', section, key, value]);
}

async function addAttachment(env: string): Promise<void> {
  const file = path.join(root, 'notes.txt');
  await fs.writeFile(file, ATTACHMENT);
  await execa(TRAC_ADMIN, [env, 'attachment', 'add', 'wiki:WikiStart', file]);
}

beforeAll(async () => {
  root = await sharedDir('trac-deploy-verdict-');
  // An svn repository with one commit, configured in trac.ini with the connector enabled.
  const repo = path.join(root, 'repo');
  await execa('svnadmin', ['create', repo]);
  await execa('svn', ['mkdir', '-q', '-m', 'trunk', `file://${repo}/trunk`]);
  svnEnv = await initEnv(path.join(root, 'svn-env'), 'Svn Project');
  await setIni(svnEnv, 'components', 'tracopt.versioncontrol.svn.*', 'enabled');
  await setIni(svnEnv, 'repositories', 'main.dir', repo);
  await setIni(svnEnv, 'repositories', 'main.type', 'svn');
  await addAttachment(svnEnv);
  sendEnv = await initEnv(path.join(root, 'send-env'), 'Sendfile Project');
  await setIni(sendEnv, 'trac', 'use_xsendfile', 'true');
  await addAttachment(sendEnv);
  await chownToApache(root);
}, 300_000);

afterAll(async () => {
  if (root) await fs.remove(root);
});

describe('Subversion: Debian bindings made importable, and /browser proven', () => {
  it('generate adds only svn and libsvn; smoke and a client both get the repository', async () => {
    const out = path.join(root, 'out-svn');
    const gen = await runCli(['generate', svnEnv, '--out', out, '--python-home', VENV]);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stderr).toContain("the script makes the svn and libsvn packages of /usr/lib/python3/dist-packages (Debian's python3-subversion) importable");
    const script = await fs.readFile(path.join(out, 'svn-env.wsgi'), 'utf8');
    expect(script).toContain("if name not in ('svn', 'libsvn')");
    expect(script).not.toContain("addsitedir('/usr/lib/python3/dist-packages')");

    const { result, report } = await smokeJson(out);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const urls = report.requests.map((r) => r.url);
    expect(urls).toEqual(['/trac', '/trac/wiki/WikiStart', '/trac/timeline', '/trac/browser/main', '/trac/raw-attachment/wiki/WikiStart/notes.txt']);
    const [browser, raw] = await client([path.join(out, 'svn-env.conf')], ['/trac/browser/main', '/trac/raw-attachment/wiki/WikiStart/notes.txt']);
    expect(browser?.status).toBe(200);
    expect(raw?.bytes).toBe(ATTACHMENT.length);
  }, 300_000);

  it('without the bindings block /browser fails: smoke exits 1 naming it, as a client gets 500', async () => {
    const out = path.join(root, 'out-svn-broken');
    await generate(svnEnv, out, '--python-home', VENV);
    const wsgi = path.join(out, 'svn-env.wsgi');
    const text = await fs.readFile(wsgi, 'utf8');
    await fs.writeFile(wsgi, text.replace('    sys.meta_path.append(_SvnBindings)', '    pass'));
    const { result, report } = await smokeJson(out, '--name', 'svn-env');
    const [browser] = await client([path.join(out, 'svn-env.conf')], ['/trac/browser/main']);
    expect(browser?.status).toBe(500);
    expect(result.code).toBe(1);
    const failed = report.findings.find((f) => f.message.startsWith('/trac/browser/main'));
    expect(`${failed?.message}\n${failed?.log.join('\n')}`).toMatch(/No module named 'svn'/);
  }, 300_000);
});

describe('[trac] use_xsendfile', () => {
  it('generate configures mod_xsendfile: all bytes arrive, for smoke and for a client', async () => {
    const out = path.join(root, 'out-send');
    await generate(sendEnv, out, '--python-home', VENV);
    const conf = await fs.readFile(path.join(out, 'send-env.conf'), 'utf8');
    expect(conf).toContain('XSendFile On');
    expect(conf).toContain(`XSendFilePath "${path.join(sendEnv, 'files')}"`);
    const { result, report } = await smokeJson(out);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(report.requests.find((r) => r.url.includes('raw-attachment'))).toMatchObject({ ok: true, status: 200 });
    const [raw] = await client([path.join(out, 'send-env.conf')], ['/trac/raw-attachment/wiki/WikiStart/notes.txt']);
    expect(raw?.bytes).toBe(ATTACHMENT.length);
  }, 300_000);

  it('without XSendFile the download is empty: smoke exits 1 and says so, a client gets 0 bytes', async () => {
    const out = path.join(root, 'out-send-broken');
    await generate(sendEnv, out, '--python-home', VENV);
    const file = path.join(out, 'send-env.conf');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace(/^\s*XSendFile.*$/gm, ''));
    const [raw] = await client([file], ['/trac/raw-attachment/wiki/WikiStart/notes.txt']);
    expect(raw?.bytes).toBe(0);
    const { result, report } = await smokeJson(out);
    expect(result.code).toBe(1);
    expect(report.requests.find((r) => r.url.includes('raw-attachment'))?.problem).toBe(
      `200 but 0 of ${ATTACHMENT.length} bytes (Trac sent an X-Sendfile header that nothing handled)`,
    );
  }, 300_000);
});

describe('trac.ini states Trac refuses, found by asking Trac', () => {
  it('inspect names each; generate refuses with the remedy; smoke of a parent dir reports every failure', async () => {
    const parent = path.join(root, 'projects');
    await initEnv(path.join(parent, 'good'), 'Good');
    const dup = await initEnv(path.join(parent, 'dup'), 'Dup');
    await fs.appendFile(path.join(dup, 'conf', 'trac.ini'), '\n[trac]\nbase_url =\n');
    const inherit = await initEnv(path.join(parent, 'inherit'), 'Inherit');
    const shared = path.join(root, 'shared.ini');
    await fs.writeFile(shared, '[project]\nfooter = shared\n');
    await setIni(inherit, 'inherit', 'file', shared);
    const logged = await initEnv(path.join(parent, 'logged'), 'Logged');
    await setIni(logged, 'logging', 'log_type', 'file');
    const plugin = await initEnv(path.join(parent, 'plugin'), 'Plugin');
    await fs.writeFile(path.join(plugin, 'plugins', 'broken_plugin.py'), 'import no_such_module_for_trac\n');
    const old = await initEnv(path.join(parent, 'old'), 'Old');
    // A Trac 1.2 database (version 41): Trac 1.6 asks for trac-admin upgrade.
    const db = new Database(path.join(old, 'db', 'trac.db'));
    db.prepare("UPDATE system SET value='41' WHERE name='database_version'").run();
    db.close();
    await chownToApache(parent);
    // The Apache user may not read the inherited file, nor write the log directory.
    await fs.chown(shared, 0, 0);
    await fs.chmod(shared, 0o600);
    await fs.remove(path.join(logged, 'log', 'trac.log'));
    await fs.chown(path.join(logged, 'log'), 0, 0);
    await fs.chmod(path.join(logged, 'log'), 0o755);

    const inspect = await runCli(['inspect', parent, '--python-home', VENV, '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    const doc = JSON.parse(inspect.stdout) as { preflight: { status: string; user: string }; environments: { name: string; problems: { code: string; message: string }[] }[] };
    expect(doc.preflight).toMatchObject({ status: 'ran', user: 'www-data' });
    const codes = Object.fromEntries(doc.environments.map((e) => [e.name, e.problems.map((p) => p.code)]));
    expect(codes['good']).toEqual([]);
    expect(codes['dup']).toContain('trac-cannot-open');
    expect(codes['inherit']).toContain('trac-cannot-read');
    expect(codes['logged']).toContain('log-file-unwritable');
    expect(codes['plugin']).toContain('plugin-not-loaded');
    expect(codes['old']).toContain('needs-upgrade');
    const messages = doc.environments.flatMap((e) => e.problems.map((p) => p.message)).join('\n');
    expect(messages).toContain('DuplicateSectionError');
    expect(messages).toContain(`Error reading '${shared}', make sure it is readable`);
    expect(messages).toMatch(/a plugin does not load: Skipping "broken_plugin": (ModuleNotFoundError: )?No module named 'no_such_module_for_trac'/);

    const refused = await runCli(['generate', parent, '--out', path.join(root, 'out-refused'), '--python-home', VENV]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Trac would not serve this site');
    expect(refused.stderr).toContain('-> merge the two sections of that name in trac.ini into one');
    expect(refused.stderr).toContain(`-> trac-admin ${old} upgrade`);
    expect(await fs.pathExists(path.join(root, 'out-refused'))).toBe(false);

    // Written anyway: smoke says what a client gets, for every environment.
    const out = path.join(root, 'out-parent');
    await generate(parent, out, '--python-home', VENV, '--no-preflight');
    const { result, report } = await smokeJson(out);
    expect(result.code).toBe(1);
    const pages = ['/trac/good', '/trac/dup', '/trac/inherit', '/trac/logged', '/trac/old'];
    const answers = await client([path.join(out, 'projects.conf')], pages);
    const byUrl = new Map(report.requests.map((r) => [r.url, r]));
    pages.forEach((page, index) => {
      const fromClient = answers[index]!.status === 200;
      expect(byUrl.get(page)?.ok, page).toBe(fromClient);
    });
    expect(answers.map((a) => a.status)).toEqual([200, 500, 500, 500, 500]);
    // Every failed environment is named, each with Trac's reason: the first by the diagnosis, the others by their own findings.
    const said = report.findings.map((f) => `${f.message}\n${f.log.join('\n')}`).join('\n');
    for (const name of ["dup", "inherit", "logged", "old"]) expect(said).toMatch(new RegExp(`/trac/${name}[ :]`));
    expect(said).toContain('DuplicateSectionError');
    expect(said).toContain('needs to be upgraded');
    expect(report.requests.find((r) => r.url === '/trac')?.problem).toContain('as environments Trac cannot open');
  }, 600_000);
});

describe('sites apart', () => {
  it('a daemon and an embedded site in one --out each run in their own group', async () => {
    const out = path.join(root, 'out-two');
    const other = await initEnv(path.join(root, 'other-env'), 'Other');
    await chownToApache(other);
    await generate(svnEnv, out, '--python-home', VENV, '--name', 'one', '--url-prefix', '/one');  // with the preflight: the svn bindings remedy, which smoke's /browser check needs
    await generate(other, out, '--python-home', VENV, '--name', 'two', '--url-prefix', '/two', '--mode', 'embedded', '--no-preflight');
    const hello = await smokeJson(out, '--hello');
    expect(hello.result.code, hello.result.stdout).toBe(0);
    expect(hello.report.requests.map((r) => r.hello?.['process-group'])).toEqual(['one', '(embedded)']);
    const { result, report } = await smokeJson(out);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(report.findings).toEqual([]);
  }, 300_000);

  it('a copied directory: Apache refuses the duplicate daemon group, and smoke gives its whole message', async () => {
    const a = path.join(root, 'out-copy-a');
    await generate(svnEnv, a, '--python-home', VENV, '--no-preflight');
    const b = path.join(root, 'out-copy-b');
    await fs.copy(a, b);
    const { result, report } = await smokeJson(b);
    expect(result.code).toBe(1);
    const start = report.findings.find((f) => f.code === 'apache-start-failed');
    expect(start?.message).toMatch(/Syntax error on line \d+ of .*svn-env\.conf: Name duplicates previous WSGI daemon definition\./);
    expect(start?.advice.join(' ')).toContain('a copied output directory');
  }, 300_000);

  it('/ named before /git: generate warns for the directory as it is, a client of it gets the root site; smoke serves it as apply installs it, and both answer', async () => {
    const out = path.join(root, 'out-shadow');
    const git = await initEnv(path.join(root, 'git-env'), 'Git Site');
    await chownToApache(git);
    await generate(svnEnv, out, '--python-home', VENV, '--name', 'a-root', '--url-prefix', '/'); // the preflight: svn bindings for /browser
    const gen = await runCli(['generate', git, '--out', out, '--python-home', VENV, '--name', 'b-git', '--url-prefix', '/git', '--no-preflight']);
    expect(gen.code).toBe(0);
    expect(gen.stderr).toContain('/git (b-git.conf) will be answered by / (a-root.conf)');
    const { result, report } = await smokeJson(out);
    const [page] = await client([path.join(out, 'a-root.conf'), path.join(out, 'b-git.conf')], ['/git']);
    expect(page?.body).not.toContain('Git Site');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(report.findings.filter((f) => f.code === 'mount-shadowed')).toEqual([]);
    // /git is read first (98-b-git.conf before 99-a-root.conf): each mount answers as itself.
    const gitPages = report.requests.filter((r) => r.url.startsWith('/git/'));
    expect(gitPages.length).toBeGreaterThan(0);
    expect(gitPages.every((r) => r.ok)).toBe(true);
    expect(gitPages.find((r) => r.title !== null)?.title).toContain('Git Site');
  }, 300_000);
});
