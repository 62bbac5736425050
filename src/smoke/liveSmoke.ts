import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { usageError } from '../errors.js';
import { fetchPage } from './fetchPage.js';
import type { Finding } from './diagnose.js';
import { judge, pagesFor, type PageCheck } from './pages.js';
import type { RequestResult, SmokeReport } from './runSmoke.js';
import { findTargets, type SmokeTarget } from './targets.js';

export interface LiveSmokeOptions {
  /** Where the site is reached: scheme, host, optional port, and the mount point. */
  url: string;
  /** The --out directory of generate: its plans say which pages to check (each environment of a parent). */
  dir?: string | undefined;
  name?: string | undefined;
  timeoutSeconds: number;
}

/**
 * `smoke --url URL`: the same page checks as the throwaway-server smoke test (pages.ts), sent
 * to a live site through its real name and TLS, for after a change and from CI or monitoring.
 * With DIR the plans choose the pages (a parent directory's index and each project) and the
 * URL gives the origin; without it the URL itself must be a Trac page. Redirects are followed
 * as a browser would (http -> https), and certificates are verified.
 */
export async function runLiveSmoke(options: LiveSmokeOptions): Promise<SmokeReport> {
  const t0 = performance.now();
  const base = parseUrl(options.url);
  const targets: SmokeTarget[] = options.dir
    ? await findTargets(options.dir, options.name)
    : [{ name: base.host, conf: '', urlPrefix: base.pathname.replace(/\/+$/, '') || '/', script: '', plan: null, pythonHome: null }];
  const pages = targets.flatMap((t) => pagesFor(t, false));
  const requests: RequestResult[] = [];
  for (const page of pages) requests.push(await request(base, page, options.timeoutSeconds * 1000));
  const findings: Finding[] = requests
    .filter((r) => !r.ok)
    .map((r) => ({
      code: 'live-page-wrong',
      severity: 'error' as const,
      message: `${r.url}: ${r.problem ?? 'not right'}`,
      advice: ['Look at the site\'s ErrorLog (generate --server-name writes <log-dir>/<name>-error.log) and at trac.log of the environment'],
      log: [],
    }));
  return {
    ok: requests.every((r) => r.ok),
    hello: false,
    dir: options.dir ? path.resolve(options.dir) : '',
    live: base.origin + (base.pathname.replace(/\/+$/, '') || ''),
    targets: targets.map((t) => ({ name: t.name, conf: t.conf, urlPrefix: t.urlPrefix, script: t.script, manifest: t.plan !== null })),
    server: { banner: null, port: null, startMs: null, stopMs: null },
    requests,
    findings,
    totalMs: Math.round(performance.now() - t0),
  };
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--url ${JSON.stringify(text)} is not a URL; give the address of the site, e.g. https://trac.example.org/trac`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url ${text}: only http and https URLs can be checked`);
  if (url.username || url.password) throw usageError('--url must not carry a user name or password');
  return url;
}

/** With DIR the page paths are the plan's (its url-prefix); the URL gives scheme, host and port. */
async function request(base: URL, page: PageCheck, timeoutMs: number): Promise<RequestResult> {
  const url = new URL(page.path, base.origin).toString();
  if (page.expect.kind === 'skipped') {
    return { target: page.target, url, what: page.what, skipped: page.expect.reason, status: null, ms: 0, ok: true, title: null, problem: null };
  }
  const t = performance.now();
  const { status, body, length, headers, finalUrl, error } = await fetchPage(url, { redirect: 'follow', timeoutMs });
  const verdict = judge(page, { status, body, length, headers });
  const problem = error ?? (verdict.problem && finalUrl !== url ? `${verdict.problem} (after redirects, at ${finalUrl})` : verdict.problem);
  return { target: page.target, url, what: page.what, status, ms: Math.round(performance.now() - t), ok: error === null && verdict.ok, title: verdict.title, problem };
}
