import path from 'node:path';
import { findApache } from '../apache/layout.js';
import type { Finding } from '../findings.js';
import { DEBIAN_SVN_BINDINGS, preflightPython, preflightPythonSync, runPreflight, type PreflightEnvironment, type PreflightRequest, type PreflightResult, type PreflightRunner } from '../python/preflight.js';
import { statSync } from 'node:fs';
import { askOrRecallDirectory, beginDirectoryRecall, type EarlyDirectory } from './directoryVerdicts.js';
import type { KeptLookups } from './parallelCandidates.js';
import { checkEnvironment } from './environment.js';
import { lookupVerdict, verdictCache, verdictQuestion, type KeptVerdict } from './preflightCache.js';
import type { Inspection, PreflightSummary } from './types.js';

export interface PreflightOptions {
  pythonHome: string | null;
  siteDirs: string[];
  eggCache: string | null;
  run?: PreflightRunner;
  /**
   * Keep Trac's verdict on a single SQLite environment between runs and serve it while nothing it
   * read changed (preflightCache.ts): `dir` defaults to the user's cache directory, `settleMs`
   * (how recent a change counts as made while Trac was asked) to SETTLE_MS. Absent: Trac is
   * asked every time (apply's and smoke's checks).
   */
  keepVerdict?: { dir?: string; settleMs?: number };
  /** The lookup of the kept verdict begun before the inspection (recallEarly). */
  recalled?: EarlyRecall | null;
}

/**
 * A lookup begun early: of one environment's kept verdict under a question (its JSON), or of a
 * directory's kept verdicts, made by its inspection as each environment is judged.
 */
export type EarlyRecall = { kind: 'environment'; question: string; kept: Promise<KeptVerdict | null> } | ({ kind: 'directory' } & EarlyDirectory);

/** The lookups EARLY asks the inspection to make (a directory's), or null. */
export function keptLookupsOf(early: EarlyRecall | null | undefined): KeptLookups | null {
  return early?.kind === 'directory' ? early.lookups : null;
}

/** The codes of python/preflight.py's findings: Trac's own verdict. */
export const PREFLIGHT_CODES = new Set([
  'trac-cannot-open',
  'trac-cannot-read',
  'needs-upgrade',
  'database-unusable',
  'database-access',
  'database-unreachable',
  'log-file-unwritable',
  'repository-unavailable',
  'repositories-unreadable',
  'plugin-not-loaded',
  'preflight-failed',
  'preflight-crashed',
]);

/**
 * The state of this machine rather than of the environment: what the web server user may not
 * do to its files (chown/chmod), a database server that does not answer. Fixed at any time before
 * the site goes live, so generate reports them and apply refuses on them.
 */
export const MACHINE_STATE_CODES = new Set(['trac-cannot-read', 'database-access', 'database-unreachable', 'log-file-unwritable']);

/** Static findings Trac's own answer replaces when it was asked. */
const ANSWERED_BY_TRAC = new Set(['needs-upgrade']);

/** What Trac's answer replaces in an environment's problems: what it answers, and an answer of an earlier call on the same inspection. */
const replacedByTrac = (p: Finding) => ANSWERED_BY_TRAC.has(p.code) || PREFLIGHT_CODES.has(p.code);

/**
 * Ask Trac itself, once for all environments, in the interpreter and as the user that will run
 * them (python/preflight.py); its findings join each environment's problems (the environments of
 * INSPECTION are completed in place: a caller uses the inspection returned). When it cannot run
 * (no interpreter with Trac), the inspection says "skipped" and why, never that all is well.
 */
export async function withPreflight(inspection: Inspection, options: PreflightOptions): Promise<Inspection> {
  const request = preflightRequest(inspection.environments.map((e) => e.path), inspection.path, options);
  const { result, cachedFrom, keptFrom } = await askOrRecall(inspection, request, options);
  if (result.status === 'skipped') {
    const summary: PreflightSummary = { status: 'skipped', reason: result.reason };
    const finding: Finding = { code: 'preflight-skipped', severity: 'warning', message: `preflight skipped, Trac was not asked: ${result.reason}`, ...(result.advice.length ? { advice: result.advice } : {}) };
    return { ...inspection, preflight: summary, problems: [...inspection.problems, finding] };
  }
  const usesSvn = result.environments.some((e) => e.repositories.some((r) => r.type === 'svn' && !r.alias));
  const svnRemedy = usesSvn && !result.svn.inInterpreter && result.svn.systemDir !== null ? result.svn.systemDir : null;
  const summary: PreflightSummary = {
    status: 'ran',
    python: result.python.executable,
    pythonVersion: result.python.version,
    user: result.user,
    trac: result.trac,
    svnBindingsFrom: svnRemedy,
    ...(cachedFrom ? { cachedFrom } : {}),
    ...(inspection.kind === 'parent' && keptFrom ? { keptVerdicts: keptFrom.filter(Boolean).length } : {}),
  };
  const problems = [...inspection.problems];
  if (svnRemedy) {
    problems.push({
      code: 'svn-bindings-system',
      severity: 'info',
      message: `${result.python.executable} has no Subversion bindings; Debian's python3-subversion has them in ${svnRemedy}: trac-deploy generate makes only its svn and libsvn packages importable (the preflight did the same)`,
    });
  }
  // runPreflight answers in the order it was asked, one for each environment.
  const answers: (PreflightEnvironment | null)[] = result.environments;
  // Each environment gets Trac's facts and problems in place: the inspection's environments are
  // this call's to complete (every caller goes on with the inspection returned, never the one
  // given). A copy of each was ~500 bytes more per environment, ~50 MB for 100,000.
  const environments = inspection.environments;
  environments.forEach((env, index) => {
    const answer = answers[index]?.path === env.path ? answers[index] : null;
    // Held once, as this environment's facts and problems (100,000 answers are ~150 MB of heap).
    answers[index] = null;
    if (!answer) {
      env.preflight = null;
      return;
    }
    const kept = env.problems.some(replacedByTrac) ? env.problems.filter((p) => !replacedByTrac(p)) : env.problems;
    // When this environment's verdict is a kept one: when Trac gave it (as the summary's cachedFrom).
    const from = keptFrom ? keptFrom[index] : cachedFrom;
    env.problems = answer.problems.length > 0 ? [...kept, ...answer.problems.map((p) => withRemedy(p, svnRemedy))] : kept;
    env.preflight = facts(answer, from ?? null);
  });
  return { ...inspection, environments, problems, preflight: summary };
}

/** The question for ENVIRONMENTS of the inspection of ROOT: as the user and in the interpreter that will serve them. */
function preflightRequest(environments: string[], root: string, options: PreflightOptions): PreflightRequest {
  let asUser: { user: string; group: string } | null = null;
  if (process.getuid?.() === 0) {
    try {
      const { user, group } = findApache();
      asUser = { user, group };
    } catch {
      asUser = null;
    }
  }
  return {
    environments,
    pythonHome: options.pythonHome,
    siteDirs: options.siteDirs,
    eggCache: path.resolve(options.eggCache ?? path.join(root, '.egg-cache')),
    asUser,
    svnBindings: DEBIAN_SVN_BINDINGS,
  };
}

/**
 * Begins the lookup of Trac's kept verdict on INPUT before INPUT is inspected, so that its
 * stamps and its log check (a child process when root) run while the inspection does; null when
 * no verdict is kept (keepVerdict absent) or INPUT is no Trac environment (then nothing is done,
 * the cache directory is not even made). withPreflight (askOrRecall) uses it only for the very
 * question it would ask itself; a lookup is never a verdict by itself: it says what was kept and
 * that nothing it read has changed since, as the lookup made after the inspection would.
 */
export function recallEarly(input: string, options: PreflightOptions): EarlyRecall | null {
  const keep = options.keepVerdict;
  if (!keep) return null;
  const root = path.resolve(input);
  try {
    if (!checkEnvironment(root).isEnvironment) {
      // A directory of environments: its kept verdicts are looked at by its inspection (directoryVerdicts.ts).
      if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) return null;
      const request = preflightRequest([], root, options);
      return { kind: 'directory', ...beginDirectoryRecall(root, request, preflightPythonSync(request.pythonHome), keep) };
    }
    const request = preflightRequest([root], root, options);
    const question = verdictQuestion(root, request, preflightPythonSync(request.pythonHome));
    // Not awaited when the inspection fails first: never an unhandled rejection.
    return { kind: 'environment', question: JSON.stringify(question), kept: lookupVerdict(question, request.asUser, keep.dir).catch(() => null) };
  } catch {
    return null;
  }
}

/**
 * One SQLite environment: Trac's kept verdict when nothing it read has changed since
 * (preflightCache.ts), else Trac is asked and its verdict kept. Anything else: Trac is asked.
 */
async function askOrRecall(inspection: Inspection, request: PreflightRequest, options: PreflightOptions): Promise<{ result: PreflightResult; cachedFrom: string | null; keptFrom?: (string | null)[] }> {
  const keepDir = options.keepVerdict;
  if (inspection.kind === 'parent' && keepDir) {
    // A directory of environments: each environment's verdict kept by the same rules (directoryVerdicts.ts).
    const early = options.recalled?.kind === 'directory' ? options.recalled : null;
    const { result, cachedFrom } = await askOrRecallDirectory(inspection, request, await preflightPython(request.pythonHome), keepDir, options.run, early);
    return { result, cachedFrom: null, keptFrom: cachedFrom };
  }
  const only = inspection.kind === 'environment' && inspection.environments.length === 1 ? inspection.environments[0] : undefined;
  const keep = options.keepVerdict;
  const python = only && keep ? await preflightPython(request.pythonHome) : null;
  const cache = only && keep && python ? await verdictCache(only, request, python, keep.dir, keep.settleMs).catch(() => null) : null;
  // No verdict kept: Trac's answers without what a kept verdict is stamped with.
  if (!cache || !only || !python) return { result: await runPreflight({ ...request, stamps: false }, options.run), cachedFrom: null };
  // Begun before the inspection for this same question: a miss stands; a hit only while its
  // stamps, taken again now, still match (a file changed while the inspection ran is seen).
  const early = options.recalled;
  const recalled = early?.kind === 'environment' && early.question === JSON.stringify(verdictQuestion(only.path, request, python)) ? await early.kept : undefined;
  const kept = recalled === undefined ? await cache.lookup() : recalled && cache.stillKept(recalled) ? recalled : recalled && (await cache.lookup());
  if (kept) return { result: kept.result, cachedFrom: kept.askedAt };
  const before = await cache.beforeAsking();
  const result = await runPreflight(request, options.run);
  // A verdict that cannot be kept costs the next run time, never this run its answer.
  await cache.remember(result, before).catch(() => false);
  return { result, cachedFrom: null };
}

function facts(answer: PreflightEnvironment, cachedFrom: string | null): NonNullable<Inspection['environments'][number]['preflight']> {
  const made = {
    opened: answer.opened,
    project: answer.project,
    repositories: answer.repositories.map((r) => ({ name: r.name, type: r.type, ok: r.ok, error: r.error, hidden: r.hidden, alias: r.alias })),
    attachment: answer.attachment,
    xsendfile: answer.xsendfile,
    filesDir: answer.filesDir,
    pluginsNotLoaded: answer.plugins,
  };
  // cachedFrom first, as a member of its own: a spread of an optional member here cost ~2 KB of
  // allocation per environment (V8 made each object anew), ~200 MB for 100,000.
  return cachedFrom ? Object.assign({ cachedFrom }, made) : made;
}

/** The advice Trac's message calls for, where the remedy is known. */
function withRemedy(finding: Finding, svnRemedy: string | null): Finding {
  if (finding.code === 'repository-unavailable' && /No module named '(svn|libsvn)/.test(finding.message) && !svnRemedy) {
    return { ...finding, advice: ['Debian/Ubuntu: apt-get install python3-subversion (trac-deploy then makes only its svn and libsvn packages importable)', 'else: pip install the Subversion bindings into the virtualenv'] };
  }
  if (finding.code === 'repository-unavailable' && /Can't find an appropriate component/.test(finding.message)) {
    return { ...finding, advice: ['enable the connector in trac.ini [components], e.g. tracopt.versioncontrol.svn.* = enabled'] };
  }
  if (finding.code === 'trac-cannot-open' && /DuplicateSection/.test(finding.message)) {
    return { ...finding, advice: ['merge the two sections of that name in trac.ini into one'] };
  }
  if (finding.code === 'trac-cannot-read') {
    return { ...finding, advice: ['make that file readable by the web server user (trac.ini and every [inherit] file)'] };
  }
  return finding;
}
