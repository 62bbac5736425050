import fs from 'fs-extra';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { findApache, moduleAvailable, type ApacheLayout } from '../apache/layout.js';
import { DEFAULT_MODULES } from '../apache/serverConfig.js';
import { ServerStartError, ThrowawayServer } from '../apache/throwawayServer.js';
import { messageOf } from '../errors.js';
import { diagnose, modWsgiPythonFrom, serverBannerFrom, type Finding, type PythonHomeFacts, type RequestEvidence } from './diagnose.js';
import { writeHelloConfig } from './helloConfig.js';
import { judge, pagesFor, type PageCheck } from './pages.js';
import { getFromSite, siteEndpoints, type SiteEndpoint } from './siteEndpoints.js';
import { findTargets, type SmokeTarget } from './targets.js';
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
  const targets = await findTargets(options.dir, options.name);
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
  const requests: RequestResult[] = [];

  step(`starting Apache with ${targets.map((t) => `${t.name}.conf`).join(', ')}${options.hello ? ' (Hello World)' : ''}`);
  const tStart = performance.now();
  try {
    try {
      server = await ThrowawayServer.start({
        layout,
        includes: (root) => includesFor(targets, options.hello, root, sites),
        startTimeoutMs: timeoutMs,
        ...(modules ? { modules } : {}),
        ...(sites.size > 0 ? { extra: [...sites.values()].flatMap((s) => s.listen).join('\n') } : {}),
      });
      startMs = performance.now() - tStart;
    } catch (error) {
      if (!(error instanceof ServerStartError)) throw error;
      startError = `${error.message}\n${error.errorLog}`.trim();
    }
    if (server) {
      configText = await readIncludes(server.root, targets, options.hello);
      for (const page of pages) {
        step(`GET ${page.path}`);
        const { result, raw } = await request(server, page, timeoutMs, sites.get(page.target));
        requests.push(result);
        evidence.push(raw);
      }
      errorLog = await server.errorLog();
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

  const ok = startError === null && requests.every((r) => r.ok);
  const findings = ok
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
    if (hello) out.push(await writeHelloConfig(site ? { ...target, plan: site.plan } : target, path.join(root, `hello-${target.name}`)));
    else if (site) {
      // The same plan through the same template, only the virtual hosts' ports moved.
      const conf = path.join(root, `site-${target.name}.conf`);
      await fs.writeFile(conf, renderTemplate('apache/site.conf.hbs', site.plan));
      out.push(conf);
    } else out.push(target.conf);
  }
  return out;
}

async function readIncludes(root: string, targets: SmokeTarget[], hello: boolean): Promise<string> {
  const files = hello ? targets.map((t) => path.join(root, `hello-${t.name}`, `${t.name}.conf`)) : targets.map((t) => t.conf);
  return (await Promise.all(files.map((f) => fs.readFile(f, 'utf8').catch(() => '')))).join('\n');
}

async function request(server: ThrowawayServer, page: PageCheck, timeoutMs: number, site?: SiteEndpoint): Promise<{ result: RequestResult; raw: RequestEvidence }> {
  if (site) return requestSite(site, page, timeoutMs);
  const url = server.url(page.path);
  const t = performance.now();
  let status: number | null = null;
  let body = '';
  let contentType: string | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    contentType = response.headers.get('content-type');
    body = await response.text();
    if (status >= 300 && status < 400) body = `redirect to ${response.headers.get('location') ?? '?'}\n${body}`;
  } catch (e) {
    error = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : `request failed: ${messageOf((e as Error & { cause?: unknown }).cause ?? e)}`;
  }
  const ms = round(performance.now() - t) ?? 0;
  const verdict = judge(page, status, body, contentType);
  const problem = error ?? verdict.problem;
  const result: RequestResult = { target: page.target, url: page.path, status, ms, ok: error === null && verdict.ok, title: verdict.title, problem };
  if (page.expect.kind === 'hello' && verdict.ok) result.hello = helloLines(body);
  return { result, raw: { url: page.path, status, contentType, body, problem, error } };
}

async function requestSite(site: SiteEndpoint, page: PageCheck, timeoutMs: number): Promise<{ result: RequestResult; raw: RequestEvidence }> {
  const t = performance.now();
  let status: number | null = null;
  let body = '';
  let contentType: string | null = null;
  let error: string | null = null;
  try {
    const response = await getFromSite(site, page.path, timeoutMs);
    status = response.status;
    contentType = response.contentType;
    body = status >= 300 && status < 400 ? `redirect to ${response.location ?? '?'}\n${response.body}` : response.body;
  } catch (e) {
    error = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : `request failed: ${messageOf(e)}`;
  }
  const verdict = judge(page, status, body, contentType);
  const problem = error ?? verdict.problem;
  const shown = `${site.scheme}://${site.host}${page.path}`;
  const result: RequestResult = { target: page.target, url: shown, status, ms: round(performance.now() - t) ?? 0, ok: error === null && verdict.ok, title: verdict.title, problem };
  if (page.expect.kind === 'hello' && verdict.ok) result.hello = helloLines(body);
  return { result, raw: { url: page.path, status, contentType, body, problem, error } };
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
