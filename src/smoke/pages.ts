import type { SmokeTarget } from './targets.js';

/** What a page must look like to count as right. */
export type Expectation =
  | { kind: 'hello' }
  /** A Trac page; with the project's name in <title> when it is known. */
  | { kind: 'trac'; project: string | null }
  /** Trac's project index listing each environment (by directory name). */
  | { kind: 'index'; environments: string[] };

export interface PageCheck {
  target: string;
  path: string;
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

/** The pages to request: the mount point (hello), Trac's page, or the index and a page of each. */
export function pagesFor(target: SmokeTarget, hello: boolean): PageCheck[] {
  const at = (path: string, expect: Expectation): PageCheck => ({ target: target.name, path, expect });
  if (hello) return [at(joinUrl(target.urlPrefix), { kind: 'hello' })];
  const source = target.plan?.source;
  if (!source) return [at(joinUrl(target.urlPrefix), { kind: 'trac', project: null })];
  if (source.kind === 'environment') {
    return [at(joinUrl(target.urlPrefix), { kind: 'trac', project: source.environments[0]?.projectName ?? null })];
  }
  return [
    at(joinUrl(target.urlPrefix), { kind: 'index', environments: source.environments.map((e) => e.name) }),
    ...source.environments.map((e) => at(joinUrl(target.urlPrefix, e.name), { kind: 'trac', project: e.projectName })),
  ];
}

export function judge(check: PageCheck, status: number | null, body: string, contentType: string | null): PageVerdict {
  const title = titleOf(body);
  const fail = (problem: string): PageVerdict => ({ ok: false, problem, title });
  if (status === null) return fail('no answer');
  if (status !== 200) return fail(`HTTP ${status}${title ? ` (${title})` : ''}`);
  const expect = check.expect;
  switch (expect.kind) {
    case 'hello':
      return body.startsWith('Hello World') ? { ok: true, problem: null, title } : fail(`200 but not the Hello World page: ${JSON.stringify(body.slice(0, 80))}`);
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
      if (missing.length > 0) return fail(`200 but the project index does not list ${missing.join(', ')}`);
      return { ok: true, problem: null, title };
    }
  }
}

export function titleOf(html: string): string | null {
  const match = /<title>([\s\S]*?)<\/title>/i.exec(html);
  return match?.[1] ? unescapeHtml(match[1].replace(/\s+/g, ' ').trim()) : null;
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0*39;|&#x0*27;/gi, "'")
    .replace(/&amp;/g, '&');
}
