import { decodeHTML } from 'entities';
import type { Finding as BaseFinding } from '../findings.js';
import path from 'node:path';
import type { DeploymentPlan } from '../plan/types.js';

/**
 * Turning what a failed smoke run saw (statuses, bodies, Apache's error log) into findings a
 * person can act on. Each rule is small: a pattern in the log or the answers, and the advice
 * that goes with it. The rules get facts, not the disk: runSmoke gathers those.
 */

export interface RequestEvidence {
  url: string;
  status: number | null;
  contentType: string | null;
  body: string;
  /** Why the page was not right (pages.ts), or null. */
  problem: string | null;
  /** A transport error: timeout, connection refused. */
  error: string | null;
}

/** What runSmoke learnt about a python-home (pyvenv.cfg and lib/pythonX.Y). */
export interface PythonHomeFacts {
  path: string;
  /** `version` of pyvenv.cfg: the Python the virtualenv was made from. */
  version: string | null;
  /** `home` of pyvenv.cfg: where that Python lives. */
  madeFrom: string | null;
  /** X.Y of every lib/pythonX.Y/site-packages in it. */
  libVersions: string[];
  /** X.Y of the site-packages that hold trac/. */
  tracIn: string[];
}

export interface Evidence {
  hello: boolean;
  /** Apache exited or did not answer at start: the message. */
  startError: string | null;
  requests: RequestEvidence[];
  errorLog: string;
  /** The configuration text that was included (all targets). */
  configText: string;
  /** Who the application runs as. */
  apacheUser: string;
  plans: DeploymentPlan[];
  pythonHomes: PythonHomeFacts[];
  /** X.Y from the banner "mod_wsgi/4.9.4 Python/3.11", when Apache started. */
  modWsgiPython: string | null;
  /** Whether mod_wsgi.so is in the modules directory. */
  modWsgiInstalled: boolean;
  /** Modules the plans name (plan.apacheModules) that this Apache does not have or load. */
  missingModules: string[];
  /** Seconds a request may take. */
  timeoutSeconds: number;
}

/** A smoke diagnosis: the one Finding type, always an error, always with advice and log lines. */
export type Finding = BaseFinding & { advice: string[]; log: string[] };

export interface Rule {
  code: string;
  diagnose: (e: Evidence) => Finding | null;
}

/** "[Wed ...] [wsgi:error] [pid 1:tid 2] [remote 127.0.0.1:3] text" -> "[wsgi:error] text". */
export function logMessage(line: string): string {
  const match = /^\[[^\]]*\] \[([^\]]+)\] (?:\[pid [^\]]*\] )?(?:\[(?:client|remote) [^\]]*\] )?(.*)$/.exec(line);
  const text = match ? `[${match[1]}] ${match[2]}` : line;
  return text.replace(/mod_wsgi \(pid=\d+\): /, 'mod_wsgi: ');
}

/** Error-log lines matching a pattern, shortened and without repeats (mod_wsgi logs twice). */
export function logLines(log: string, pattern: RegExp, limit = 12): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of log.split('\n')) {
    if (!raw.trim() || !pattern.test(raw)) continue;
    const line = logMessage(raw).trimEnd();
    if (seen.has(line)) continue;
    seen.add(line);
    out.push(line);
  }
  return out.length > limit ? out.slice(-limit) : out;
}

const WSGI_ERRORS = /\[wsgi:(error|crit|alert|emerg)\]/;
const ANY_ERRORS = /:(error|crit|alert|emerg)\]|AH00526|Syntax error|Invalid command/;

function answered(e: Evidence, status: number): RequestEvidence | undefined {
  return e.requests.find((r) => r.status === status);
}

function finding(code: string, message: string, advice: string[], log: string[]): Finding {
  return { code, severity: 'error', message, advice, log };
}

const modWsgiMissing: Rule = {
  code: 'mod-wsgi-missing',
  diagnose: (e) => {
    const text = `${e.startError ?? ''}\n${e.errorLog}`;
    const match = /Invalid command '(WSGI\w+)'/.exec(text);
    if (!match) return null;
    return finding(
      'mod-wsgi-missing',
      `mod_wsgi is not loaded: Apache does not know ${match[1]}`,
      e.modWsgiInstalled
        ? ['mod_wsgi is installed but not enabled: a2enmod wsgi (Debian), or LoadModule wsgi_module in conf.modules.d (RHEL)']
        : ['install it for the Python that runs Trac: apt-get install libapache2-mod-wsgi-py3 && a2enmod wsgi (Debian), dnf install python3-mod_wsgi (RHEL)'],
      logLines(text, /Invalid command|Syntax error/),
    );
  },
};

/** Debian packages of the modules that do not come with apache2 itself. */
const MODULE_PACKAGES: Readonly<Record<string, string>> = {
  wsgi: 'libapache2-mod-wsgi-py3',
  auth_gssapi: 'libapache2-mod-auth-gssapi',
  authnz_sspi: 'none on Linux: mod_authnz_sspi is a Windows module',
};

const moduleMissing: Rule = {
  code: 'module-missing',
  diagnose: (e) => {
    if (e.missingModules.length === 0) return null;
    const names = e.missingModules.map((m) => `mod_${m}`).join(', ');
    const text = `${e.startError ?? ''}\n${e.errorLog}`;
    return finding(
      'module-missing',
      `the configuration needs ${names}, which this Apache does not have`,
      e.missingModules.map((m) => `mod_${m}: ${MODULE_PACKAGES[m] ? `apt-get install ${MODULE_PACKAGES[m]}` : 'part of apache2'}, then a2enmod ${m} (RHEL: the httpd package or its mod_* subpackage)`),
      logLines(text, /Invalid command|Syntax error|Cannot load|Unknown Auth[nz] provider/),
    );
  },
};

const TWO_TWO_RULES = /^[ \t]*(Order[ \t]+\w|Allow[ \t]+from|Deny[ \t]+from|Satisfy[ \t])/im;

const accessRules22: Rule = {
  code: 'apache-22-access',
  diagnose: (e) => {
    const denied = answered(e, 403);
    if (!denied) return null;
    const log = logLines(e.errorLog, /AH01630|AH01797|client denied/);
    if (TWO_TWO_RULES.test(e.configText)) {
      return finding(
        'apache-22-access',
        `${denied.url} answered 403: the configuration grants access with Apache 2.2 rules (Order/Allow), which Apache 2.4 does not apply`,
        ['regenerate with --apache-syntax 2.4 (or both, for a config shared with 2.2 servers): Require all granted', 'mod_access_compat does not help: 2.4\'s "Require all denied" for / still wins'],
        log,
      );
    }
    return finding(
      'access-denied',
      `${denied.url} answered 403: Apache refused access to the script`,
      ['the <Directory> (or <Files>) of the .wsgi script needs "Require all granted"; a <Location> or <Directory> elsewhere may deny it'],
      log,
    );
  },
};

const IMPORT_TRAC = /(ModuleNotFoundError|ImportError): No module named '?trac\b/;

const tracNotImportable: Rule = {
  code: 'trac-import-error',
  diagnose: (e) => {
    if (!IMPORT_TRAC.test(e.errorLog)) return null;
    const advice: string[] = [];
    const embedded = e.modWsgiPython;
    for (const home of e.pythonHomes) {
      const made = home.version ? `Python ${home.version}${home.madeFrom ? ` (${home.madeFrom})` : ''}` : 'an unknown Python';
      const minor = home.version?.split('.').slice(0, 2).join('.') ?? home.libVersions[0] ?? null;
      if (embedded && minor && minor !== embedded) {
        advice.push(
          `the virtualenv ${home.path} was made from ${made}, but mod_wsgi embeds Python ${embedded}: its lib/python${minor}/site-packages is never searched`,
          `recreate it with the Python mod_wsgi was built for: /usr/bin/python3 -m venv ${home.path} && ${path.join(home.path, 'bin', 'pip')} install Trac`,
        );
      } else if (home.tracIn.length === 0) {
        advice.push(`Trac is not installed in the virtualenv ${home.path}: ${path.join(home.path, 'bin', 'pip')} install Trac`);
      } else {
        advice.push(`Trac is in ${home.path}, made from ${made}; check that the Apache user ${e.apacheUser} can read it`);
      }
    }
    const siteDirs = e.plans.flatMap((p) => p.python.siteDirs);
    if (e.pythonHomes.length === 0 && siteDirs.length > 0) {
      advice.push(`none of the --site-dir directories (${siteDirs.join(', ')}) holds trac/ for Python ${embedded ?? '3'}: point --site-dir at the site-packages Trac is installed in`);
    }
    if (e.pythonHomes.length === 0 && siteDirs.length === 0) {
      advice.push(`mod_wsgi's Python ${embedded ?? ''} has no Trac of its own: generate with --python-home VENV (a virtualenv made with /usr/bin/python3) or --site-dir DIR`.replace('  ', ' '));
    }
    return finding('trac-import-error', "mod_wsgi's Python cannot import trac", advice, logLines(e.errorLog, WSGI_ERRORS));
  },
};

const PERMISSION = /PermissionError: \[Errno 13\] Permission denied: '([^']+)'|Permission denied: (?:\[client [^\]]*\] )?(AH\d+: )?.*?(\/[^\s',:]+)/;

const permissionDenied: Rule = {
  code: 'permission-denied',
  diagnose: (e) => {
    const egg = /Can't extract file\(s\) to egg cache/.test(e.errorLog) || e.requests.some((r) => /Can't extract file\(s\) to egg cache/.test(r.body));
    const sources = [e.errorLog, ...e.requests.filter((r) => (r.status ?? 0) >= 500).map((r) => r.body)];
    let where: string | null = null;
    let lines: string[] = [];
    for (const text of sources) {
      const match = PERMISSION.exec(text);
      if (match) {
        where = match[1] ?? match[3] ?? null;
        lines = logLines(text, /Permission denied|PermissionError|TracError|egg cache/);
        break;
      }
    }
    if (!where && !egg) return null;
    const user = e.apacheUser;
    if (egg) {
      const caches = [...new Set(e.plans.map((p) => p.python.eggCache))];
      return finding(
        'egg-cache-not-writable',
        `the Python egg cache is not writable by ${user}`,
        [`mkdir -p ${caches[0] ?? 'EGG_CACHE'} && chown ${user}: ${caches[0] ?? 'EGG_CACHE'}, or generate with --egg-cache DIR (a directory ${user} can write)`],
        lines,
      );
    }
    const env = e.plans.flatMap((p) => p.source.environments).find((env) => where && (where === env.path || where.startsWith(env.path + '/')));
    return finding(
      'permission-denied',
      `the Apache user ${user} cannot use ${where}`,
      env
        ? [`give the environment to the Apache user: chown -R ${user}: ${env.path} (it must read conf/ and write db/, log/, files/)`]
        : [`make ${where} readable (and writable where Trac writes) by ${user}`],
      lines,
    );
  },
};

const strBody: Rule = {
  code: 'str-response',
  diagnose: (e) => {
    if (!/sequence of byte string values expected|TypeError: .*expected (a )?bytes/.test(e.errorLog)) return null;
    return finding(
      'str-response',
      'the WSGI application returns str where Python 3 needs bytes',
      ["return [body.encode('utf-8')] and send ('Content-Length', str(len(body))): Python 2 era Hello World scripts answer 500 under Python 3"],
      logLines(e.errorLog, WSGI_ERRORS),
    );
  },
};

const embeddedDisabled: Rule = {
  code: 'embedded-disabled',
  diagnose: (e) => {
    if (!/Embedded mode of mod_wsgi disabled by runtime configuration/.test(e.errorLog)) return null;
    return finding(
      'embedded-disabled',
      'an embedded-mode application was refused: "WSGIRestrictEmbedded On" is set for the whole server',
      ['regenerate with --mode daemon (recommended), or remove WSGIRestrictEmbedded On if this server must run embedded-mode applications'],
      logLines(e.errorLog, /Embedded mode of mod_wsgi disabled/),
    );
  },
};

const startFailed: Rule = {
  code: 'apache-start-failed',
  diagnose: (e) =>
    e.startError ? startFailure(`${e.startError}\n${e.errorLog}`, e.startError.split('\n')[0] ?? '') : null,
};

/**
 * Apache's syntax error spans two lines: "AH00526: Syntax error on line 12 of FILE:" and then
 * the reason. Both are kept, and a duplicate definition (a copied directory served beside its
 * original, two sites with one name) is named as such.
 */
function startFailure(text: string, first: string): Finding {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /Syntax error on line \d+ of/.test(l));
  const reason = at >= 0 ? (lines[at + 1] ?? '').trim() : '';
  const where = at >= 0 ? (/Syntax error on line \d+ of .*$/.exec(lines[at] ?? '')?.[0] ?? '') : '';
  const message = at >= 0 ? `Apache did not start: ${where.replace(/:$/, '')}: ${reason}` : `Apache did not start: ${first}`;
  const duplicate = /duplicates previous|already (defined|used)/i.test(reason);
  const advice = duplicate
    ? ['two of the configurations served here define the same name (a copied output directory, or two sites generated with one --name): serve one of them, or generate the other with another --name']
    : ['fix the configuration lines named below; apache2ctl -t shows the same'];
  const log = logLines(text, ANY_ERRORS);
  if (reason && !log.includes(reason)) log.push(reason);
  return finding('apache-start-failed', message, advice, log);
}

const noAnswer: Rule = {
  code: 'no-answer',
  diagnose: (e) => {
    const silent = e.requests.find((r) => r.error);
    if (!silent) return null;
    return finding(
      'no-answer',
      `${silent.url}: ${silent.error}`,
      [
        `the application did not answer within ${e.timeoutSeconds} s: a hang in a C extension (Subversion bindings need WSGIApplicationGroup %{GLOBAL}), a database that does not answer, or a lock`,
      ],
      logLines(e.errorLog, ANY_ERRORS),
    );
  },
};

const pythonError: Rule = {
  code: 'python-error',
  diagnose: (e) => {
    const lines = logLines(e.errorLog, WSGI_ERRORS);
    const last = [...lines].reverse().find((l) => /\b\w*(Error|Exception)\b[^'"]*:/.test(l) && !/mod_wsgi \(pid/.test(l));
    if (!last) return null;
    return finding('python-error', `the application raised ${last.replace(/^\[[^\]]*\]\s*/, '')}`, ['read the traceback below; fix the script or the code it imports'], lines);
  },
};

/** The message of Trac's error page, without its markup. */
export function tracErrorLines(body: string): string[] {
  const text = body
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, '')
    .replace(/<[^>]+>/g, '\n');
  const decoded = decodeHTML(text);
  const lines = decoded.split('\n').map((l) => l.trim()).filter(Boolean);
  const at = lines.findIndex((l) => /Error|error:|Exception|needs to be upgraded|Unsupported/.test(l) && !/^(Trac Error|Oops…|Oops\.\.\.)$/.test(l));
  return at < 0 ? [] : lines.slice(at, at + 3);
}

const tracError: Rule = {
  code: 'trac-error',
  diagnose: (e) => {
    const failed = e.requests.find((r) => (r.status ?? 0) >= 500 && /Trac Error|TracError/.test(r.body));
    if (!failed) return null;
    const lines = tracErrorLines(failed.body);
    return finding('trac-error', `${failed.url}: Trac answered ${failed.status}: ${lines[0] ?? 'an error page'}`, ['the page Trac sent is below; its log (log_type in trac.ini) may say more'], lines);
  },
};

const wrongPage: Rule = {
  code: 'wrong-page',
  diagnose: (e) => {
    const wrong = e.requests.find((r) => r.problem && r.status !== null && r.status < 400);
    if (!wrong) return null;
    return finding(
      'wrong-page',
      `${wrong.url}: ${wrong.problem}`,
      e.hello
        ? ['another configuration may hold the same mount point; look for a second WSGIScriptAlias or Alias for it']
        : ['another application or configuration answered at this mount point, or the environment\'s [project] name differs from what generate saw: re-run generate'],
      [],
    );
  },
};

const httpError: Rule = {
  code: 'http-error',
  diagnose: (e) => {
    const bad = e.requests.find((r) => r.problem && r.status !== null);
    if (!bad) return null;
    return finding('http-error', `${bad.url}: ${bad.problem}`, ["Apache's error log lines are below"], logLines(e.errorLog, ANY_ERRORS));
  },
};

/** Specific rules first; the general ones speak only when no specific rule did. */
export const SPECIFIC_RULES: readonly Rule[] = [modWsgiMissing, moduleMissing, accessRules22, tracNotImportable, permissionDenied, strBody, embeddedDisabled];
export const SPECIFIC_CODES: ReadonlySet<string> = new Set(SPECIFIC_RULES.map((r) => r.code));
export const GENERAL_RULES: readonly Rule[] = [startFailed, noAnswer, pythonError, tracError, wrongPage, httpError];

export function diagnose(e: Evidence): Finding[] {
  const specific = SPECIFIC_RULES.map((r) => r.diagnose(e)).filter((f): f is Finding => f !== null);
  if (specific.length > 0) return specific;
  const general = GENERAL_RULES.map((r) => r.diagnose(e)).find((f): f is Finding => f !== null);
  if (general) return [general];
  const failed = e.startError !== null || e.requests.some((r) => r.problem || r.error);
  return failed ? [finding('unexplained', 'the smoke test failed for a reason trac-deploy does not recognise', ["Apache's error log lines are below"], logLines(e.errorLog, ANY_ERRORS))] : [];
}

/** "... mod_wsgi/4.9.4 Python/3.11 configured" -> "3.11". */
export function modWsgiPythonFrom(log: string): string | null {
  return /mod_wsgi\/[\d.]+ Python\/(\d+\.\d+)/.exec(log)?.[1] ?? null;
}

/** The server banner: "Apache/2.4.71 (Debian) mod_wsgi/4.9.4 Python/3.11". */
export function serverBannerFrom(log: string): string | null {
  return /AH00489: (.*?) configured/.exec(log)?.[1] ?? null;
}
