import { execa } from 'execa';
import fs from 'fs-extra';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODULES } from '../../src/apache/serverConfig.js';
import { runSmoke } from '../../src/smoke/runSmoke.js';
import { runCli } from '../helpers/cli.js';
import { SYSTEM_PYTHON, VENV } from '../helpers/paths.js';
import { otherMinorVenv } from '../helpers/python.js';
import { generate, sharedDir, smokeJson } from '../helpers/smokeBed.js';
import { chownToApache, initEnv } from '../helpers/tracEnv.js';

// Each diagnosis provoked for real: a real Apache, a real environment, a real broken setup.
let root: string;
let env: string;

beforeAll(async () => {
  root = await sharedDir('trac-deploy-diagnose-');
  env = await initEnv(path.join(root, 'env'), 'Diagnosed');
  await chownToApache(env);
});

afterAll(async () => {
  if (root) await fs.remove(root);
});

describe('smoke says why', () => {
  it('403 from Apache 2.2 access rules on 2.4, for the real site and for Hello World alike', async () => {
    const out = path.join(root, 'out-22');
    await generate(env, out, '--python-home', VENV, '--apache-syntax', '2.2');
    for (const flags of [[], ['--hello']]) {
      const { result, report } = await smokeJson(out, ...flags);
      expect(result.code).toBe(1);
      expect(report.requests[0]?.status).toBe(403);
      expect(report.findings.map((f) => f.code)).toEqual(['apache-22-access']);
      // Hello World sits in the server's temp dir, with the same access rules.
      expect(report.findings[0]?.log.join('\n')).toMatch(/AH01630: client denied by server configuration: \/\S+\/env\.wsgi$/);
    }
    // People read the same on stderr.
    const human = await runCli(['smoke', out]);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/^trac-deploy: smoke test failed: \/trac answered 403: .*Apache 2\.2 rules/);
    expect(human.stderr).toContain('--apache-syntax 2.4');
    expect(human.stderr).toContain('AH01630: client denied by server configuration');
  });

  it('ImportError of trac: a virtualenv without Trac (Hello World still works there)', async () => {
    const venv = path.join(root, 'venv-without-trac');
    await execa(SYSTEM_PYTHON, ['-m', 'venv', '--without-pip', venv]);
    const out = path.join(root, 'out-bare');
    await generate(env, out, '--python-home', venv);
    const hello = await smokeJson(out, '--hello');
    expect(hello.result.code, hello.result.stderr).toBe(0);
    const { result, report } = await smokeJson(out);
    expect(result.code).toBe(1);
    expect(report.findings.map((f) => f.code)).toEqual(['trac-import-error']);
    expect(report.findings[0]?.advice[0]).toBe(`Trac is not installed in the virtualenv ${venv}: ${venv}/bin/pip install Trac`);
    expect(report.findings[0]?.log).toContain("[wsgi:error] ModuleNotFoundError: No module named 'trac'");
  });

  it('ImportError of trac: a virtualenv made from a different Python than mod_wsgi embeds', async () => {
    // Made here, whatever Pythons the machine has: see otherMinorVenv.
    const { venv, minor, sitePackages } = await otherMinorVenv(path.join(root, 'venv-other-python'));
    // Trac is importable from that venv's site-packages (through a .pth), so only the mismatch can fail.
    const tracSitePackages = path.join(VENV, 'lib', (await fs.readdir(path.join(VENV, 'lib')))[0] as string, 'site-packages');
    await fs.writeFile(path.join(sitePackages, 'trac-elsewhere.pth'), tracSitePackages + '\n');
    await execa(SYSTEM_PYTHON, ['-c', 'import site, sys; site.addsitedir(sys.argv[1]); import trac', sitePackages]);
    const out = path.join(root, 'out-other-python');
    await generate(env, out, '--python-home', venv);
    const { result, report } = await smokeJson(out);
    expect(result.code).toBe(1);
    expect(report.findings.map((f) => f.code)).toEqual(['trac-import-error']);
    expect(report.findings[0]?.log).toContain("[wsgi:error] ModuleNotFoundError: No module named 'trac'");
    expect(report.findings[0]?.advice[0]).toMatch(
      new RegExp(`^the virtualenv ${venv} was made from Python ${minor.replace('.', '\\.')}\\.0 \\(.*\\), but mod_wsgi embeds Python 3\\.\\d+: its lib/python${minor.replace('.', '\\.')}/site-packages is never searched$`),
    );
    expect(report.findings[0]?.advice[1]).toContain(`/usr/bin/python3 -m venv ${venv}`);
  });

  it('permission denied for the Apache user on the environment', async () => {
    const locked = path.join(root, 'locked');
    await fs.copy(env, locked);
    await execa('chown', ['-R', 'root:root', locked]);
    await fs.chmod(locked, 0o700);
    const out = path.join(root, 'out-locked');
    await generate(locked, out, '--python-home', VENV);
    const { result, report } = await smokeJson(out);
    expect(result.code).toBe(1);
    // The cause first; then the pages Trac answered with its error page, grouped by its reason.
    expect(report.findings.map((f) => f.code)).toEqual(['permission-denied', 'page-failed']);
    expect(report.findings[0]?.message).toBe(`the Apache user www-data cannot use ${locked}/VERSION`);
    expect(report.findings[0]?.advice[0]).toContain(`chown -R www-data: ${locked}`);
    expect(report.findings[0]?.log).toContain(`PermissionError: [Errno 13] Permission denied: '${locked}/VERSION'`);
  });

  it('a WSGI application that returns str', async () => {
    const out = path.join(root, 'out-str');
    await generate(env, out, '--python-home', VENV);
    await fs.writeFile(
      path.join(out, 'env.wsgi'),
      "def application(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return ['Hello World']\n",
    );
    const { result, report } = await smokeJson(out);
    expect(result.code).toBe(1);
    expect(report.requests[0]?.status).toBe(500);
    expect(report.findings.map((f) => f.code)).toEqual(['str-response']);
    expect(report.findings[0]?.log).toContain('[wsgi:error] TypeError: sequence of byte string values expected, value of type str found');
  });

  it('a missing mod_wsgi', async () => {
    const out = path.join(root, 'out-no-wsgi');
    await generate(env, out, '--python-home', VENV);
    const report = await runSmoke({ dir: out, hello: true, timeoutSeconds: 30, modules: DEFAULT_MODULES.filter((m) => m !== 'wsgi') });
    expect(report.ok).toBe(false);
    expect(report.requests).toEqual([]);
    expect(report.findings.map((f) => f.code)).toEqual(['mod-wsgi-missing']);
    expect(report.findings[0]?.message).toBe('mod_wsgi is not loaded: Apache does not know WSGIDaemonProcess');
    expect(report.findings[0]?.log.join('\n')).toContain("Invalid command 'WSGIDaemonProcess'");
  });

  it('a login module the configuration needs is not loaded', async () => {
    const out = path.join(root, 'out-no-ldap');
    await generate(env, out, '--python-home', VENV, '--auth', 'ldap', '--auth-ldap-url', 'ldap://127.0.0.1/dc=example,dc=com?uid');
    const without = DEFAULT_MODULES.filter((m) => m !== 'authnz_ldap' && m !== 'ldap');
    const report = await runSmoke({ dir: out, hello: false, timeoutSeconds: 30, modules: without });
    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => f.code)).toEqual(['module-missing']);
    expect(report.findings[0]?.message).toContain('mod_authnz_ldap');
    expect(report.findings[0]?.log.join('\n')).toMatch(/Invalid command|Unknown Authn provider: ldap/);
  });

  it('an embedded-mode site on a server where another site restricts embedded mode', async () => {
    const out = path.join(root, 'out-restricted');
    await generate(env, out, '--mode', 'embedded', '--python-home', VENV);
    // Another site's configuration in the same server, setting the server-wide switch.
    const other = path.join(root, 'other-site');
    await fs.mkdirp(other);
    await fs.writeFile(path.join(other, 'other.wsgi'), "def application(environ, start_response):\n    start_response('200 OK', [('Content-Length', '2')])\n    return [b'ok']\n");
    await fs.writeFile(
      path.join(out, 'other.conf'),
      [
        'WSGIRestrictEmbedded On',
        'WSGIDaemonProcess other processes=1 threads=1',
        `WSGIScriptAlias /other "${path.join(other, 'other.wsgi')}" process-group=other application-group=%{GLOBAL}`,
        `<Directory "${other}">`,
        '    Require all granted',
        '</Directory>',
        '',
      ].join('\n'),
    );
    const report = await runSmoke({ dir: out, hello: false, timeoutSeconds: 30 });
    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => f.code)).toEqual(['embedded-disabled']);
  });

  it('an application that does not answer: timeout, and the server is still stopped', async () => {
    const out = path.join(root, 'out-hang');
    await fs.mkdirp(out);
    await fs.writeFile(path.join(out, 'hang.wsgi'), 'import time\n\ndef application(environ, start_response):\n    time.sleep(60)\n');
    await fs.writeFile(
      path.join(out, 'hang.conf'),
      `WSGIScriptAlias /hang ${out}/hang.wsgi\n<Directory ${out}>\n    Require all granted\n</Directory>\n`,
    );
    const { result, report } = await smokeJson(out, '--timeout', '2');
    expect(result.code).toBe(1);
    expect(report.requests[0]).toMatchObject({ url: '/hang', status: null, ok: false, problem: 'no answer within 2 s' });
    expect(report.findings.map((f) => f.code)).toEqual(['no-answer']);
    expect(await apacheProcessesUsing(out)).toEqual([]);
  });
});

/** Apache processes whose configuration mentions dir (none may be left). */
async function apacheProcessesUsing(dir: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  const roots = String(stdout).split('\n').filter((l) => /apache2|httpd/.test(l) && l.includes('trac-deploy-httpd-'));
  const found: string[] = [];
  for (const line of roots) {
    const conf = /-f (\S+)/.exec(line)?.[1];
    if (conf && (await fs.readFile(conf, 'utf8').catch(() => '')).includes(dir)) found.push(line);
  }
  return found;
}
