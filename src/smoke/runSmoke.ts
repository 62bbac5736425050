import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { findApache, moduleAvailable, type ApacheLayout } from '../apache/layout.js';
import { DEFAULT_MODULES } from '../apache/serverConfig.js';
import { ServerStartError, ThrowawayServer } from '../apache/throwawayServer.js';
import { messageOf } from '../errors.js';
import { diagnose, tracErrorLines, modWsgiPythonFrom, serverBannerFrom, type Finding, type PythonHomeFacts, type RequestEvidence } from './diagnose.js';
import { fetchPage } from './fetchPage.js';
import { writeHelloConfig } from './helloConfig.js';
import { judge, pagesFor, type PageCheck } from './pages.js';
import { withEnvironmentUses } from './environmentUses.js';
import { getFromSite, siteEndpoints, type SiteEndpoint } from './siteEndpoints.js';
import { findTargets, type SmokeTarget } from './targets.js';
import { shadowedMounts } from '../plan/mounts.js';
import { renderTemplate } from '../render/engine.js';

export interface SmokeOptions {
  dir: string;
  /** Only the configuration `<name>.conf`. */
  name?: string | undefined;
  hello: boolean;
  /** Per request, and for Apache to answer at start. */
  timeoutSeconds: number;
  /** Modules the throwaway server loads (default: serverConfig's list). */
  modules?: string[];
  layout?: ApacheLayout;
  /** Called as the run moves on, for a progress display. */
  onStep?: (step: string) => void;
}

export interface RequestResult {
  target: string;
  url: string;
  /** What the page proves: "front page", "repository r1", "attachment a.txt", ... */
  what: string;
  /** Not requested, and why (the data it needs does not exist); never counted as passed. */
  skipped?: string;
  status: number | null;
  ms: number;
  ok: boolean;
  title: string | null;
  problem: string | null;
  /** The Hello World page's lines (python, prefix, mod_wsgi, ...). */
  hello?: Record<string, string>;
}

export interface SmokeReport {
  ok: boolean;
  hello: boolean;
  dir: string;
  /** smoke --url: the live site checked (no throwaway server). */
  live?: string;
  targets: { name: string; conf: string; urlPrefix: string; script: string; manifest: boolean }[];
  server: { banner: string | null; port: number | null; startMs: number | null; stopMs: number | null };
  requests: RequestResult[];
  findings: Finding[];
  totalMs: number;
}

/**
 * The smoke test: a throwaway Apache on 127.0.0.1 with DIR's configuration included (or the
 * same configuration around Hello World), the mount point requested, the server stopped and
 * its directory removed whatever happens, and findings when a page was not right.
 */
export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const t0 = performance.now();
  const step = options.onStep ?? (() => {});
  const found = await findTargets(options.dir, options.name);
  // Hello World serves no environment; the real site is checked on every page it uses today.
  const targets = options.hello ? found : await withEnvironmentUses(found);
  const layout = options.layout ?? findApache();
  const asRoot = process.getuid?.() === 0;
  const pages = targets.flatMap((t) => pagesFor(t, options.hello));
  const timeoutMs = options.timeoutSeconds * 1000;
  // Whole sites (--server-name) are served on free ports of their own, as the plan renders them.
  const sites = await siteEndpoints(targets);
  const tlsModules = [...sites.values()].some((s) => s.scheme === 'https') ? ['ssl', 'socache_shmcb'] : [];
  const modules = options.modules ?? (tlsModules.length > 0 ? [...DEFAULT_MODULES, ...tlsModules] : undefined);

  let server: ThrowawayServer | null = null;
  let startError: string | null = null;
  let errorLog = '';
  let configText = '';
  let startMs: number | null = null;
  let stopMs: number | null = null;
  const evidence: RequestEvidence[] = [];
  const groupFindings: Finding[] = [];
  const requests: RequestResult[] = [];

  step(`starting Apache with ${targets.map((t) => `${t.name}.conf`).join(', ')}${options.hello ? ' (Hello World)' : ''}`);
  const tStart = performance.now();
  try {
    try {
      server = await ThrowawayServer.start({
        layout,
        includes: (root) => includesFor(targets, options.hello, root, sites),
        startTimeoutMs: timeoutMs,
        // mod_wsgi names the process group that loads each script at info level: the evidence
        // that each mount point runs where its plan says.
        ...((modules ?? DEFAULT_MODULES).includes('wsgi') && moduleAvailable(layout, 'wsgi') ? { logLevel: 'warn wsgi:info' } : {}),
        ...(modules ? { modules } : {}),
        ...(sites.size > 0 ? { extra: [...sites.values()].flatMap((s) => s.listen).join('\n') } : {}),
      });
      startMs = performance.now() - tStart;
    } catch (error) {
      if (!(error instanceof ServerStartError)) throw error;
      startError = `${error.message}\n${error.errorLog}`.trim();
    }
    if (server) {
      configText = await readIncludes(server.root, targets, options.hello, sites);
      // The first page of each site alone (it pays for Trac's start), then the rest together:
      // the daemon has threads for them, and the run takes the longest page, not their sum.
      const results = new Array<{ result: RequestResult; raw: RequestEvidence | null }>(pages.length);
      const firsts = new Set(targets.map((t) => pages.findIndex((p) => p.target === t.name && p.expect.kind !== 'skipped')));
      const fetchOne = async (page: PageCheck, index: number) => {
        if (page.expect.kind === 'skipped') {
          results[index] = { result: { target: page.target, url: page.path, what: page.what, skipped: page.expect.reason, status: null, ms: 0, ok: true, title: null, problem: null }, raw: null };
          return;
        }
        step(`GET ${page.path}`);
        results[index] = await request(server!, page, timeoutMs, sites.get(page.target));
      };
      for (const index of [...firsts].filter((i) => i >= 0)) await fetchOne(pages[index]!, index);
      await Promise.all(pages.map((page, index) => (firsts.has(index) ? null : fetchOne(page, index))));
      for (const { result, raw } of results) {
        requests.push(result);
        if (raw) evidence.push(raw);
      }
      errorLog = await server.errorLog();
      if (!options.hello) groupFindings.push(...processGroupFindings(targets, errorLog));
      groupFindings.push(...shadowFindings(targets));
    }
  } finally {
    if (server) {
      step('stopping Apache');
      const tStop = performance.now();
      await server.stop();
      stopMs = performance.now() - tStop;
    }
  }
  if (!server) configText = (await Promise.all(targets.map((t) => fs.readFile(t.conf, 'utf8').catch(() => '')))).join('\n');

  const ok = startError === null && requests.every((r) => r.ok) && groupFindings.length === 0;
  const diagnosed = ok || (startError === null && requests.every((r) => r.ok))
    ? []
    : diagnose({
        hello: options.hello,
        startError,
        requests: evidence,
        errorLog,
        configText,
        apacheUser: asRoot ? layout.user : os.userInfo().username,
        plans: targets.flatMap((t) => (t.plan ? [t.plan] : [])),
        pythonHomes: await pythonHomeFacts(targets),
        modWsgiPython: modWsgiPythonFrom(errorLog),
        modWsgiInstalled: moduleAvailable(layout, 'wsgi'),
        missingModules: missingModules(targets, layout, modules),
        timeoutSeconds: options.timeoutSeconds,
      });
  // Beside the diagnosis, each page Trac answered wrongly, grouped by Trac's reason.
  const named = (url: string) => diagnosed.some((f) => f.message.startsWith(`${url}:`));
  const findings = ok ? [] : [...groupFindings, ...diagnosed, ...pageFindings(requests.filter((r) => !named(r.url)), evidence, pages)];
  return {
    ok,
    hello: options.hello,
    dir: path.resolve(options.dir),
    targets: targets.map((t) => ({ name: t.name, conf: t.conf, urlPrefix: t.urlPrefix, script: t.script, manifest: t.plan !== null })),
    server: { banner: serverBannerFrom(errorLog), port: server?.port ?? null, startMs: round(startMs), stopMs: round(stopMs) },
    requests,
    findings,
    totalMs: round(performance.now() - t0) ?? 0,
  };
}

async function includesFor(targets: SmokeTarget[], hello: boolean, root: string, sites: Map<string, SiteEndpoint>): Promise<string[]> {
  const out: string[] = [];
  for (const target of targets) {
    const site = sites.get(target.name);
    // Scripts that share a directory share it in the Hello World copy too: their <Directory>
    // blocks then merge as the real ones do. A site's copy keeps its virtual hosts (ports moved).
    if (hello) out.push(await writeHelloConfig(site ? { ...target, plan: site.plan } : target, helloDir(targets, target, root)));
    else if (site) {
      // The same plan through the same template, only the virtual hosts' ports moved.
      const conf = siteConf(root, target);
      await fs.writeFile(conf, renderTemplate('apache/site.conf.hbs', site.plan));
      out.push(conf);
    } else out.push(target.conf);
  }
  return out;
}

function siteConf(root: string, target: SmokeTarget): string {
  return path.join(root, `site-${target.name}.conf`);
}

function helloDir(targets: SmokeTarget[], target: SmokeTarget, root: string): string {
  const first = targets.find((t) => path.dirname(t.script) === path.dirname(target.script)) ?? target;
  return path.join(root, `hello-${first.name}`);
}

async function readIncludes(root: string, targets: SmokeTarget[], hello: boolean, sites: Map<string, SiteEndpoint>): Promise<string> {
  const files = targets.map((t) => (hello ? path.join(helloDir(targets, t, root), `${t.name}.conf`) : sites.has(t.name) ? siteConf(root, t) : t.conf));
  return (await Promise.all(files.map((f) => fs.readFile(f, 'utf8').catch(() => '')))).join('\n');
}

async function request(server: ThrowawayServer, page: PageCheck, timeoutMs: number, site?: SiteEndpoint): Promise<{ result: RequestResult; raw: RequestEvidence }> {
  if (site) return requestSite(site, page, timeoutMs);
  const url = server.url(page.path);
  const t = performance.now();
  const fetched = await fetchPage(url, { redirect: 'manual', timeoutMs });
  const { status, length, headers, error } = fetched;
  // A redirect's evidence says where it went: the diagnosis reads the body.
  const body = status !== null && status >= 300 && status < 400 ? `redirect to ${headers.get('location') ?? '?'}\n${fetched.body}` : fetched.body;
  const ms = round(performance.now() - t) ?? 0;
  const verdict = judge(page, { status, body, length, headers });
  const problem = error ?? verdict.problem;
  const contentType = headers.get('content-type');
  const result: RequestResult = { target: page.target, url: page.path, what: page.what, status, ms, ok: error === null && verdict.ok, title: verdict.title, problem };
  if (page.expect.kind === 'hello' && verdict.ok) result.hello = helloLines(body);
  return { result, raw: { url: page.path, status, contentType, body, problem, error } };
}

/** One page of a whole site: to its virtual host's port, with its ServerName as Host header. */
async function requestSite(site: SiteEndpoint, page: PageCheck, timeoutMs: number): Promise<{ result: RequestResult; raw: RequestEvidence }> {
  const t = performance.now();
  let status: number | null = null;
  let body = '';
  let length = 0;
  let headers: { get(name: string): string | null } = new Headers();
  let error: string | null = null;
  try {
    const response = await getFromSite(site, page.path, timeoutMs);
    status = response.status;
    headers = response.headers;
    length = response.length;
    body = status >= 300 && status < 400 ? `redirect to ${response.location ?? '?'}\n${response.body}` : response.body;
  } catch (e) {
    error = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : `request failed: ${messageOf(e)}`;
  }
  const verdict = judge(page, { status, body, length, headers });
  const problem = error ?? verdict.problem;
  // Shown (and matched by the findings) with the site's name, as a visitor would type it.
  const shown = `${site.scheme}://${site.host}${page.path}`;
  const result: RequestResult = { target: page.target, url: shown, what: page.what, status, ms: round(performance.now() - t) ?? 0, ok: error === null && verdict.ok, title: verdict.title, problem };
  if (page.expect.kind === 'hello' && verdict.ok) result.hello = helloLines(body);
  return { result, raw: { url: shown, status, contentType: headers.get('content-type'), body, problem, error } };
}

/** Mount points Apache never reaches here because another one, read first, covers them. */
export function shadowFindings(targets: SmokeTarget[]): Finding[] {
  // Whole sites (--server-name) are virtual hosts of their own: only mounts of one host meet.
  const hosts = [...new Set(targets.map((t) => t.plan?.site?.serverName ?? null))];
  return hosts.flatMap((host) => shadowedMounts(targets.filter((t) => (t.plan?.site?.serverName ?? null) === host))).map(({ hidden, by }) => ({
    code: 'mount-shadowed',
    severity: 'error' as const,
    message: `${hidden.urlPrefix} (${hidden.name}.conf) is answered by ${by.urlPrefix} (${by.name}.conf), which Apache reads first and which covers it`,
    path: (hidden as SmokeTarget).conf,
    advice: [
      `Apache must read ${hidden.name}.conf before ${by.name}.conf: trac-deploy apply installs deeper mount points first; by hand, rename the files so ${hidden.name}.conf sorts first, or serve them from separate directories`,
    ],
    log: [],
  }));
}

/**
 * Every page Trac itself answered wrongly, each with its own cause (the diagnosis explains the
 * first): Trac's error page, a wrong title, a short download. Failures of the server or the
 * interpreter (Apache's 403, an ImportError, no answer) are the diagnosis's alone.
 */
export function pageFindings(requests: RequestResult[], evidence: RequestEvidence[], pages: PageCheck[]): Finding[] {
  const byCause = new Map<string, { urls: string[]; problem: string; lines: string[] }>();
  requests.forEach((r) => {
    if (r.ok || r.skipped || r.status === null) return;
    const raw = evidence.find((e) => e.url === r.url);
    // A whole site's pages are shown with its name (https://NAME:PORT/path).
    const pathOf = r.url.replace(/^https?:\/\/[^/]+/, '');
    const kind = pages.find((p) => p.path === pathOf && p.target === r.target)?.expect.kind;
    const fromTrac = raw !== undefined && (/\/chrome\/common\/css\/trac\.css|Trac Error|TracError/.test(raw.body) || (r.status === 200 && (kind === 'bytes' || kind === 'static' || kind === 'index')));
    if (!fromTrac) return;
    const lines = raw && (raw.status ?? 0) >= 500 ? tracErrorLines(raw.body) : [];
    const problem = `${r.problem ?? 'failed'}`;
    const cause = lines.length ? lines.join('\n') : `${r.url}\n${problem}`;
    const group = byCause.get(cause) ?? { urls: [], problem, lines };
    group.urls.push(`${r.url} (${r.what})`);
    byCause.set(cause, group);
  });
  return [...byCause.values()].map((g) => ({ code: 'page-failed', severity: 'error' as const, message: `${g.urls.join(', ')}: ${g.problem}`, advice: [], log: g.lines }));
}

/**
 * mod_wsgi logs, at info level, `mod_wsgi (pid=N, process='G', application='A'): Loading Python
 * script file '/path.wsgi'.` (process '' in embedded mode). Each script must have been loaded
 * in the group its plan names: <Directory> blocks of two sites for one directory merge, and
 * then one site runs in the other's daemon.
 */
export function processGroupFindings(targets: SmokeTarget[], errorLog: string): Finding[] {
  const loads = [...errorLog.matchAll(/process='([^']*)', application='[^']*'\): Loading (?:Python|WSGI) script file '([^']+)'/g)].map((m) => ({ group: m[1] ?? '', script: m[2] ?? '' }));
  const findings: Finding[] = [];
  for (const target of targets) {
    if (!target.plan) continue;
    const wanted = target.plan.daemon?.processGroup ?? '';
    const seen = [...new Set(loads.filter((l) => l.script === target.script).map((l) => l.group))];
    const wrong = seen.filter((g) => g !== wanted);
    if (wrong.length === 0) continue;
    const where = (g: string) => (g ? `daemon process group ${g}` : 'embedded mode (Apache\'s own processes)');
    findings.push({
      code: 'wrong-process-group',
      severity: 'error',
      message: `${target.urlPrefix} (${target.name}.conf) ran in ${wrong.map(where).join(' and ')}, not in ${where(wanted)} as its plan says`,
      path: target.conf,
      advice: [
        'two configurations give <Directory> blocks for the same directory and Apache merged them: re-run trac-deploy generate (it now names the group per script, in <Files>), or generate each site into its own --out directory',
      ],
      log: errorLog.split('\n').filter((line) => line.includes(target.script)).slice(0, 4),
    });
  }
  return findings;
}

function helloLines(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of body.split('\n').slice(1)) {
    const match = /^([\w-]+): (.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) out[match[1]] = match[2];
  }
  return out;
}

/** pyvenv.cfg and lib/pythonX.Y of every python-home in the plans. */
export async function pythonHomeFacts(targets: SmokeTarget[]): Promise<PythonHomeFacts[]> {
  const homes = [...new Set(targets.flatMap((t) => (t.pythonHome ? [t.pythonHome] : [])))];
  const facts: PythonHomeFacts[] = [];
  for (const home of homes) {
    const cfg = await fs.readFile(path.join(home, 'pyvenv.cfg'), 'utf8').catch(() => '');
    const value = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*(.+?)\\s*$`, 'm').exec(cfg)?.[1] ?? null;
    const libs = (await fs.readdir(path.join(home, 'lib')).catch(() => [] as string[])).flatMap((d) => /^python(\d+\.\d+)$/.exec(d)?.[1] ?? []).sort();
    const tracIn: string[] = [];
    for (const v of libs) {
      if (await fs.pathExists(path.join(home, 'lib', `python${v}`, 'site-packages', 'trac', '__init__.py'))) tracIn.push(v);
    }
    facts.push({ path: home, version: value('version') ?? value('version_info'), madeFrom: value('home'), libVersions: libs, tracIn });
  }
  return facts;
}

/**
 * The modules the plans say they need (plan.apacheModules) that the throwaway server cannot
 * load: not installed here, or left out of its module list. mod_wsgi has its own rule.
 */
export function missingModules(targets: SmokeTarget[], layout: ApacheLayout, loaded: string[] = DEFAULT_MODULES): string[] {
  const needed = new Set(targets.flatMap((t) => t.plan?.apacheModules ?? []));
  needed.delete('wsgi');
  return [...needed].filter((m) => !moduleAvailable(layout, m) || !loaded.includes(m)).sort();
}

function round(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms);
}
