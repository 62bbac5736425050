import { decodeHTML } from 'entities';
import type { AuthMethod } from '../plan/options.js';
import type { SmokeTarget } from './targets.js';

/** What a page must look like to count as right. */
export type Expectation =
  /** Hello World, in this daemon process group ('' for embedded mode; null when not known). */
  | { kind: 'hello'; group?: string | null }
  /** A Trac page; with the project's name in <title> when it is known. */
  | { kind: 'trac'; project: string | null }
  /** Trac's project index listing each environment (by directory name). */
  | { kind: 'index'; environments: string[] }
  /** An attachment's raw download: exactly this many bytes. */
  | { kind: 'bytes'; size: number }
  /** A static file Apache serves itself (it announces the plan's cache lifetime; Trac does not). */
  | { kind: 'static'; maxAge: number }
  /** The login challenge Apache answers with (401 and this WWW-Authenticate scheme). */
  | { kind: 'challenge'; scheme: string }
  /** Not requested: the data it needs does not exist, or was not found out. */
  | { kind: 'skipped'; reason: string };

export interface PageCheck {
  target: string;
  path: string;
  /** What the page proves, in words: "front page", "repository r1", ... */
  what: string;
  expect: Expectation;
}

export interface PageVerdict {
  ok: boolean;
  /** What was wrong, in words, when not ok. */
  problem: string | null;
  /** The page's <title>, unescaped, when it has one. */
  title: string | null;
}

/** URL path under the mount point: "/trac" + "alpha" -> "/trac/alpha"; "/" + "" -> "/". */
export function joinUrl(prefix: string, rest = ''): string {
  const base = prefix === '/' ? '' : prefix;
  if (!rest) return base || '/';
  return `${base}/${rest.split('/').map(encodeURIComponent).join('/')}`;
}

/** A plan's environment as smoke needs it (the plan's `source.environments` entries). */
type PlannedEnvironment = NonNullable<SmokeTarget['plan']>['source']['environments'][number];

/**
 * The pages to request, derived from the plan: for each environment its front page and title,
 * the wiki, the timeline, each repository's browser, one attachment's download; a static file
 * when Apache serves them; /login when Apache asks for a login. Pages whose data does not
 * exist are listed as skipped, never requested and never counted as passed.
 */
export function pagesFor(target: SmokeTarget, hello: boolean): PageCheck[] {
  const at = (path: string, what: string, expect: Expectation): PageCheck => ({ target: target.name, path, what, expect });
  if (hello) return [at(joinUrl(target.urlPrefix), 'Hello World', { kind: 'hello', group: target.plan ? (target.plan.daemon?.processGroup ?? '') : null })];
  const plan = target.plan;
  const source = plan?.source;
  if (!plan || !source) return [at(joinUrl(target.urlPrefix), 'front page', { kind: 'trac', project: null })];
  const checks: PageCheck[] = [];
  const parent = source.kind === 'parent';
  if (plan.auth.method !== 'none' && plan.auth.scope === 'site') {
    // Every page asks for a login and smoke has no credentials: the challenge is what it can prove.
    const scheme = SCHEMES[plan.auth.method];
    const reason = 'the whole site asks for a login (--auth-scope site) and smoke has no credentials';
    return [
      at(joinUrl(target.urlPrefix), 'login challenge', { kind: 'challenge', scheme }),
      ...source.environments.map((env) => at(parent ? joinUrl(target.urlPrefix, env.name) : joinUrl(target.urlPrefix), parent ? `${env.name}: Trac's pages` : "Trac's pages", { kind: 'skipped', reason })),
    ];
  }
  if (parent) checks.push(at(joinUrl(target.urlPrefix), 'project index', { kind: 'index', environments: source.environments.map((e) => e.name) }));
  for (const env of source.environments) {
    const base = parent ? joinUrl(target.urlPrefix, env.name) : joinUrl(target.urlPrefix);
    const page = (rest: string) => (base === '/' ? `/${rest}` : `${base}/${rest}`);
    const label = (what: string) => (parent ? `${env.name}: ${what}` : what);
    checks.push(at(base, label('front page'), { kind: 'trac', project: env.projectName }));
    checks.push(at(page('wiki/WikiStart'), label('wiki'), { kind: 'trac', project: null }));
    checks.push(at(page('timeline'), label('timeline'), { kind: 'trac', project: null }));
    checks.push(...usedPages(env, page, label, at));
  }
  const common = plan.staticAliases.find((a) => a.key === 'common');
  if (common) {
    const first = source.environments[0];
    const url = common.urlRegex && first ? joinUrl(target.urlPrefix, `${first.name}/chrome/common/css/trac.css`) : `${common.url}/css/trac.css`;
    checks.push(at(url, 'static file served by Apache', { kind: 'static', maxAge: plan.staticMaxAge }));
  } else if (plan.staticAliases.length > 0) {
    checks.push(at(plan.staticAliases[0]!.url, 'static file served by Apache', { kind: 'skipped', reason: 'no chrome/common alias to take a known file from' }));
  }
  if (plan.auth.method !== 'none' && plan.auth.location) {
    const scheme = SCHEMES[plan.auth.method];
    const login = plan.auth.location.match ? (source.environments[0] ? page0(target.urlPrefix, source.environments[0].name, parent) : null) : plan.auth.location.path;
    if (login) checks.push(at(login, 'login challenge', { kind: 'challenge', scheme }));
  }
  return checks;
}

/** The WWW-Authenticate scheme each login method answers with. */
const SCHEMES: Record<AuthMethod, string> = { basic: 'Basic', digest: 'Digest', ldap: 'Basic', kerberos: 'Negotiate', sspi: 'NTLM', none: '' };

function page0(prefix: string, name: string, parent: boolean): string {
  const base = parent ? joinUrl(prefix, name) : joinUrl(prefix);
  return base === '/' ? '/login' : `${base}/login`;
}

/** Repositories and an attachment, as the preflight found them when smoke started. */
function usedPages(
  env: PlannedEnvironment,
  page: (rest: string) => string,
  label: (what: string) => string,
  at: (path: string, what: string, expect: Expectation) => PageCheck,
): PageCheck[] {
  const uses = env.uses;
  if (!uses) {
    const reason = 'Trac could not be asked (preflight skipped), so its repositories and attachments are unknown';
    return [at(page('browser'), label('repositories'), { kind: 'skipped', reason }), at(page('raw-attachment'), label('attachment download'), { kind: 'skipped', reason })];
  }
  const checks: PageCheck[] = [];
  const repos = uses.repositories;
  if (repos.length === 0) checks.push(at(page('browser'), label('repositories'), { kind: 'skipped', reason: 'no repository is configured' }));
  for (const repo of repos) {
    const rest = repo ? `browser/${repo.split('/').map(encodeURIComponent).join('/')}` : 'browser';
    checks.push(at(page(rest), label(`repository ${repo || '(default)'}`), { kind: 'trac', project: null }));
  }
  const a = uses.attachment;
  if (!a) {
    checks.push(at(page('raw-attachment'), label('attachment download'), { kind: 'skipped', reason: 'the environment has no attachment' }));
  } else {
    const rest = ['raw-attachment', a.realm, ...a.id.split('/'), a.filename].map(encodeURIComponent).join('/');
    checks.push(at(page(rest), label(`attachment ${a.filename}${uses.xsendfile ? ' (through mod_xsendfile)' : ''}`), { kind: 'bytes', size: a.size }));
  }
  return checks;
}

/** What came back, as judge needs it. */
export interface Answer {
  status: number | null;
  body: string;
  /** Bytes of the body as received. */
  length: number;
  headers: { get(name: string): string | null };
}

export function judge(check: PageCheck, answer: Answer): PageVerdict {
  const { status, body } = answer;
  const contentType = answer.headers.get('content-type');
  const title = /html/i.test(contentType ?? '') ? titleOf(body) : null;
  const fail = (problem: string): PageVerdict => ({ ok: false, problem, title });
  if (status === null) return fail('no answer');
  const expect = check.expect;
  if (expect.kind === 'skipped') return { ok: true, problem: null, title: null };
  if (expect.kind === 'challenge') {
    const header = answer.headers.get('www-authenticate') ?? '';
    if (status !== 401) return fail(`HTTP ${status}, not the 401 login challenge Apache should answer with`);
    return header.toLowerCase().startsWith(expect.scheme.toLowerCase()) ? { ok: true, problem: null, title } : fail(`401 but WWW-Authenticate is ${JSON.stringify(header)}, not ${expect.scheme}`);
  }
  if (status !== 200) return fail(`HTTP ${status}${title ? ` (${title})` : ''}`);
  switch (expect.kind) {
    case 'bytes':
      if (answer.length === expect.size) return { ok: true, problem: null, title };
      return fail(
        `200 but ${answer.length} of ${expect.size} bytes${answer.length === 0 && answer.headers.get('x-sendfile') !== null ? ' (Trac sent an X-Sendfile header that nothing handled)' : ''}`,
      );
    case 'static': {
      const cache = answer.headers.get('cache-control') ?? '';
      const expires = answer.headers.get('expires');
      if (new RegExp(`max-age=${expect.maxAge}\\b`).test(cache) || expires !== null) return { ok: true, problem: null, title };
      return fail('200 but served by Trac, not by Apache\'s static alias (no cache lifetime announced)');
    }
    case 'hello': {
      if (!body.startsWith('Hello World')) return fail(`200 but not the Hello World page: ${JSON.stringify(body.slice(0, 80))}`);
      const ran = /^process-group: (.*)$/m.exec(body)?.[1];
      const wanted = expect.group === '' ? '(embedded)' : expect.group;
      if (wanted && ran !== undefined && ran !== wanted) return fail(`200 but it ran in process group ${ran}, not ${wanted} as the plan says`);
      return { ok: true, problem: null, title };
    }
    case 'trac': {
      if (!/html/i.test(contentType ?? '') || !/\/chrome\/common\/css\/trac\.css/.test(body)) {
        return fail(`200 but not a Trac page${title ? ` (title ${JSON.stringify(title)})` : ''}`);
      }
      if (expect.project && !(title ?? '').includes(expect.project)) {
        return fail(`200 but the title is ${JSON.stringify(title)}, not project ${JSON.stringify(expect.project)}`);
      }
      return { ok: true, problem: null, title };
    }
    case 'index': {
      const base = check.path.replace(/\/$/, '');
      const missing = expect.environments.filter((name) => !body.includes(`href="${base}/${encodeURIComponent(name)}"`));
      // Trac lists an environment it cannot open by name, with its error and without a link.
      const asErrors = missing.filter((name) => body.includes(escapeHtml(name)));
      const absent = missing.filter((name) => !asErrors.includes(name));
      const parts = [
        ...(asErrors.length ? [`lists ${asErrors.join(', ')} as ${asErrors.length === 1 ? 'an environment' : 'environments'} Trac cannot open`] : []),
        ...(absent.length ? [`does not list ${absent.join(', ')}`] : []),
      ];
      if (parts.length > 0) return fail(`200 but the project index ${parts.join(' and ')}`);
      return { ok: true, problem: null, title };
    }
  }
}

export function titleOf(html: string): string | null {
  const match = /<title>([\s\S]*?)<\/title>/i.exec(html);
  return match?.[1] ? decodeHTML(match[1].replace(/\s+/g, ' ').trim()) : null;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

