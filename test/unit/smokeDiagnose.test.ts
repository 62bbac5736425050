import { describe, expect, it } from 'vitest';
import { diagnose, tracErrorLines, logLines, logMessage, modWsgiPythonFrom, serverBannerFrom, type Evidence, type RequestEvidence } from '../../src/smoke/diagnose.js';
import { samplePlan } from '../helpers/samplePlan.js';

// Lines captured from Apache 2.4.71 + mod_wsgi 4.9.4 (Debian 12) during real smoke runs.
const BANNER = '[Wed Nov 25 12:08:51.230033 2026] [mpm_event:notice] [pid 8587:tid 8587] AH00489: Apache/2.4.71 (Debian) mod_wsgi/4.9.4 Python/3.11 configured -- resuming normal operations';
const IMPORT_ERROR = [
  BANNER,
  "[Wed Nov 25 12:08:51.328192 2026] [wsgi:error] [pid 8589:tid 8589] mod_wsgi (pid=8589): Failed to exec Python script file '/srv/deploy/project.wsgi'.",
  "[Wed Nov 25 12:08:51.328223 2026] [wsgi:error] [pid 8589:tid 8589] mod_wsgi (pid=8589): Exception occurred processing WSGI script '/srv/deploy/project.wsgi'.",
  '[Wed Nov 25 12:08:51.375275 2026] [wsgi:error] [pid 8589:tid 8589] Traceback (most recent call last):',
  '[Wed Nov 25 12:08:51.376927 2026] [wsgi:error] [pid 8589:tid 8589]   File "/srv/deploy/project.wsgi", line 11, in <module>',
  '[Wed Nov 25 12:08:51.376938 2026] [wsgi:error] [pid 8589:tid 8589]     import trac.web.main',
  "[Wed Nov 25 12:08:51.376947 2026] [wsgi:error] [pid 8589:tid 8589] ModuleNotFoundError: No module named 'trac'",
  "[Wed Nov 25 12:08:51.377624 2026] [wsgi:error] [pid 8588:tid 8621] [remote 127.0.0.1:60274] mod_wsgi (pid=8588): Failed to exec Python script file '/srv/deploy/project.wsgi'.",
  "[Wed Nov 25 12:08:51.377726 2026] [wsgi:error] [pid 8588:tid 8621] [remote 127.0.0.1:60274] ModuleNotFoundError: No module named 'trac'",
].join('\n');
const DENIED_22 = `${BANNER}\n[Wed Nov 25 12:10:36.462260 2026] [authz_core:error] [pid 12990:tid 12993] [client 127.0.0.1:34042] AH01630: client denied by server configuration: /srv/deploy/project.wsgi`;
const NO_MOD_WSGI = "AH00526: Syntax error on line 6 of /srv/deploy/project.conf:\nInvalid command 'WSGIRestrictEmbedded', perhaps misspelled or defined by a module not included in the server configuration";
const STR_APP = [
  BANNER,
  "[Wed Nov 25 12:14:52.751826 2026] [wsgi:error] [pid 27049:tid 27080] [remote 127.0.0.1:37474] mod_wsgi (pid=27049): Exception occurred processing WSGI script '/srv/deploy/project.wsgi'.",
  '[Wed Nov 25 12:14:52.756094 2026] [wsgi:error] [pid 27049:tid 27080] [remote 127.0.0.1:37474] TypeError: sequence of byte string values expected, value of type str found',
].join('\n');
const TRAC_PERMISSION_PAGE = "Trac Error\n\nTracError: No Trac environment found at /srv/trac/project\nPermissionError: [Errno 13] Permission denied: '/srv/trac/project/VERSION'\n";
// pkg_resources' own message, from ResourceManager.extraction_error() run as www-data.
const EGG_CACHE_PAGE = "pkg_resources.ExtractionError: Can't extract file(s) to egg cache\n\nThe following error occurred while trying to extract file(s)\nto the Python egg cache:\n\n  [Errno 13] Permission denied: '/srv/trac/project/.egg-cache'\n";

function request(over: Partial<RequestEvidence> = {}): RequestEvidence {
  return { url: '/trac', status: 500, contentType: 'text/html', body: '', problem: 'HTTP 500', error: null, ...over };
}

function evidence(over: Partial<Evidence> = {}): Evidence {
  return {
    hello: false,
    startError: null,
    requests: [request()],
    errorLog: BANNER,
    configText: 'Require all granted',
    apacheUser: 'www-data',
    plans: [samplePlan()],
    pythonHomes: [{ path: '/srv/venv', version: '3.11.2', madeFrom: '/usr/bin', libVersions: ['3.11'], tracIn: ['3.11'] }],
    modWsgiPython: '3.11',
    modWsgiInstalled: true,
    missingModules: [],
    timeoutSeconds: 60,
    ...over,
  };
}

const codes = (e: Evidence) => diagnose(e).map((f) => f.code);

describe('error log lines', () => {
  it('drops the timestamp, pid and client, keeps the module and the indentation', () => {
    expect(logMessage('[Wed Nov 25 12:08:51.376927 2026] [wsgi:error] [pid 8589:tid 8589]   File "/x.wsgi", line 11')).toBe('[wsgi:error]   File "/x.wsgi", line 11');
    expect(logMessage("[Wed Nov 25 12:08:51 2026] [wsgi:error] [pid 1:tid 2] [remote 127.0.0.1:6] mod_wsgi (pid=1): Failed to exec")).toBe('[wsgi:error] mod_wsgi: Failed to exec');
  });
  it('shows a traceback logged by two processes once', () => {
    const lines = logLines(IMPORT_ERROR, /\[wsgi:error\]/);
    expect(lines.filter((l) => l.includes('ModuleNotFoundError'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('Failed to exec'))).toHaveLength(1);
  });
  it('reads the server banner and the Python mod_wsgi embeds', () => {
    expect(modWsgiPythonFrom(BANNER)).toBe('3.11');
    expect(serverBannerFrom(BANNER)).toBe('Apache/2.4.71 (Debian) mod_wsgi/4.9.4 Python/3.11');
    expect(modWsgiPythonFrom('nothing')).toBeNull();
  });
});

describe('Trac error page', () => {
  it('reads the message with every character reference decoded, numeric ones included', () => {
    const page = '<html><body><h1>Oops&#8230;</h1><div class="message"><p>Unsupported version control system &#34;svn&#34;: No module named &#x27;svn&#x27;</p></div></body></html>';
    expect(tracErrorLines(page)[0]).toBe('Unsupported version control system "svn": No module named \'svn\'');
  });
});

describe('diagnoses', () => {
  it('a 403 with Order/Allow in the configuration is the 2.2 syntax', () => {
    const [f] = diagnose(evidence({ requests: [request({ status: 403, problem: 'HTTP 403' })], errorLog: DENIED_22, configText: '<Files "x.wsgi">\n    Order allow,deny\n    Allow from all\n</Files>' }));
    expect(f?.code).toBe('apache-22-access');
    expect(f?.advice.join(' ')).toContain('--apache-syntax 2.4');
    expect(f?.log).toEqual(['[authz_core:error] AH01630: client denied by server configuration: /srv/deploy/project.wsgi']);
  });
  it('a 403 without 2.2 rules is access denied, not the 2.2 syntax', () => {
    expect(codes(evidence({ requests: [request({ status: 403, problem: 'HTTP 403' })], errorLog: DENIED_22 }))).toEqual(['access-denied']);
  });
  it('trac not importable, Trac missing from the virtualenv', () => {
    const [f] = diagnose(evidence({ errorLog: IMPORT_ERROR, pythonHomes: [{ path: '/srv/venv', version: '3.11.2', madeFrom: '/usr/bin', libVersions: ['3.11'], tracIn: [] }] }));
    expect(f?.code).toBe('trac-import-error');
    expect(f?.advice[0]).toContain('Trac is not installed in the virtualenv /srv/venv');
    expect(f?.log).toContain("[wsgi:error] ModuleNotFoundError: No module named 'trac'");
  });
  it('trac not importable, virtualenv made from another Python', () => {
    const [f] = diagnose(evidence({ errorLog: IMPORT_ERROR, pythonHomes: [{ path: '/srv/venv', version: '3.12.1', madeFrom: '/opt/py/bin', libVersions: ['3.12'], tracIn: ['3.12'] }] }));
    expect(f?.advice[0]).toContain('made from Python 3.12.1 (/opt/py/bin), but mod_wsgi embeds Python 3.11');
    expect(f?.advice[1]).toContain('/usr/bin/python3 -m venv /srv/venv');
  });
  it('trac not importable without python-home or site dirs', () => {
    const plan = samplePlan();
    plan.python = { ...plan.python, home: null, siteDirs: [] };
    const [f] = diagnose(evidence({ errorLog: IMPORT_ERROR, pythonHomes: [], plans: [plan] }));
    expect(f?.advice[0]).toContain('--python-home VENV');
  });
  it('permission denied on the environment, from the page Trac sent', () => {
    const [f] = diagnose(evidence({ requests: [request({ contentType: 'text/plain', body: TRAC_PERMISSION_PAGE })] }));
    expect(f?.code).toBe('permission-denied');
    expect(f?.message).toBe('the Apache user www-data cannot use /srv/trac/project/VERSION');
    expect(f?.advice[0]).toBe('give the environment to the Apache user: chown -R www-data: /srv/trac/project (it must read conf/ and write db/, log/, files/)');
  });
  it('egg cache not writable', () => {
    const [f] = diagnose(evidence({ requests: [request({ body: EGG_CACHE_PAGE })] }));
    expect(f?.code).toBe('egg-cache-not-writable');
    expect(f?.advice[0]).toContain('/srv/trac/project/.egg-cache');
  });
  it('an application that returns str', () => {
    expect(codes(evidence({ errorLog: STR_APP }))).toEqual(['str-response']);
  });
  it('mod_wsgi not loaded, installed or not', () => {
    const loaded = diagnose(evidence({ startError: `Apache exited at start (code 1)\n${NO_MOD_WSGI}`, requests: [], errorLog: '' }));
    expect(loaded.map((f) => f.code)).toEqual(['mod-wsgi-missing']);
    expect(loaded[0]?.advice[0]).toContain('a2enmod wsgi');
    const missing = diagnose(evidence({ startError: NO_MOD_WSGI, requests: [], errorLog: '', modWsgiInstalled: false }));
    expect(missing[0]?.advice[0]).toContain('apt-get install libapache2-mod-wsgi-py3');
  });
  it('general findings only when no specific rule speaks', () => {
    expect(codes(evidence({ startError: 'Apache exited at start (code 1)\nAH00526: Syntax error on line 3', requests: [], errorLog: '' }))).toEqual(['apache-start-failed']);
    expect(codes(evidence({ requests: [request({ status: null, problem: 'no answer within 2 s', error: 'no answer within 2 s' })] }))).toEqual(['no-answer']);
    expect(codes(evidence({ requests: [request({ status: 200, problem: '200 but not a Trac page' })] }))).toEqual(['wrong-page']);
  });
  it('nothing to say when every page was right', () => {
    expect(diagnose(evidence({ requests: [request({ status: 200, problem: null })] }))).toEqual([]);
  });
});

describe('modules the plan names', () => {
  it('a module the configuration needs but Apache lacks is named with its package', () => {
    const found = diagnose(
      evidence({
        startError: "Apache exited at start (code 1)\nAH00526: Syntax error on line 40 of /x/site.conf:\nInvalid command 'AuthLDAPURL', perhaps misspelled or defined by a module not included in the server configuration",
        requests: [],
        errorLog: '',
        missingModules: ['authnz_ldap', 'ldap'],
      }),
    );
    expect(found.map((f) => f.code)).toEqual(['module-missing']);
    expect(found[0]?.message).toBe('the configuration needs mod_authnz_ldap, mod_ldap, which this Apache does not have');
    expect(found[0]?.advice.join('\n')).toContain('a2enmod authnz_ldap');
    expect(found[0]?.log.join('\n')).toContain("Invalid command 'AuthLDAPURL'");
  });

  it('says nothing when every module is there', () => {
    expect(codes(evidence({ missingModules: [] }))).not.toContain('module-missing');
  });
});

describe('embedded mode switched off server-wide', () => {
  it('names WSGIRestrictEmbedded and the way out', () => {
    const log = `${BANNER}\n[Wed Nov 25 13:00:00.000000 2026] [wsgi:error] [pid 10:tid 11] [client 127.0.0.1:5000] Embedded mode of mod_wsgi disabled by runtime configuration: /srv/deploy/a.wsgi`;
    const found = diagnose(evidence({ errorLog: log, requests: [request({ status: 500 })] }));
    expect(found.map((f) => f.code)).toEqual(['embedded-disabled']);
    expect(found[0]?.advice.join(' ')).toContain('--mode daemon');
    expect(found[0]?.log).toEqual(['[wsgi:error] Embedded mode of mod_wsgi disabled by runtime configuration: /srv/deploy/a.wsgi']);
  });
});

