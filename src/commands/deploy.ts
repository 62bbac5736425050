import { statSync } from 'node:fs';
import path from 'node:path';
import { EXIT, usageError } from '../errors.js';
import type { Finding } from '../findings.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { pythonOptions, staticSources, type ProviderReport } from '../plan/deployDecisions.js';
import type { GenerateOptions } from '../plan/options.js';
import { planDeployment } from '../plan/planDeployment.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { questionFor, virtualenvSitePackages } from '../python/answerCache.js';
import { refusal, type HtdocsAnswer } from '../python/htdocsDirs.js';
import { askHtdocs, rememberAnswer, removeEggCache } from '../python/htdocsQuestion.js';
import { prepareDeployTemplates, renderDeploy } from '../render/renderDeploy.js';
import { emitFiles, type EmitOptions, type FilesResult } from '../write/emitFiles.js';
import { leftoverNote, removeLeftoverTemps } from '../write/leftoverTemps.js';
import { changeableBelow, dirsOthersMayChange, refuseUnsafeBelow, refuseUnsafeHtdocs, ROOT_ONLY, type UnsafeDir } from '../write/unsafeHtdocs.js';
import { contentHash, isOurs } from '../write/ownership.js';
import { renderPlanFile } from '../write/planFile.js';
import { applySync, planSync, prefetchSources, readManifest, writeManifest, type Prefetched, type SyncPlan } from '../write/syncHtdocs.js';
import { Staging } from '../write/stageHtdocs.js';
import { pinSources, siteDir, type SiteDir } from '../write/pinSources.js';
import { isBelow, type DeniedDir } from '../write/confinedRead.js';
import { compareFiles } from '../write/writeFiles.js';
import type { DeployOutcome } from './outcome.js';

export interface DeployArgs extends GenerateOptions, EmitOptions {
  env: string;
  target: string;
}

/** What deploy did (or would do, or found different): scripts, configuration and htdocs. */
export interface DeployResult {
  files: FilesResult;
  htdocs: SyncPlan;
  providers: ProviderReport[];
  python: HtdocsAnswer['python'];
  trac: HtdocsAnswer['trac'];
  plan: DeploymentPlan;
}

/**
 * `trac-admin ENV deploy TARGET`, file for file: TARGET/htdocs/<key> for every static directory
 * of Trac and its enabled plugins (asked of the environment's own Python), cgi-bin/trac.wsgi,
 * trac.cgi and trac.fcgi; plus TARGET/<name>.conf, which serves htdocs through Apache. Content is
 * compared before anything is copied, and files trac-deploy did not write are never replaced
 * without --force.
 */
export async function runDeploy(args: DeployArgs): Promise<DeployOutcome> {
  const envPath = path.resolve(args.env);
  const target = path.resolve(args.target);
  const htdocs = path.join(target, 'htdocs');
  const question = questionFor(args.pythonHome, envPath);
  // As root: the user Python is asked as (the web server's), who must be able to read what is published.
  const reader = question.user && question.user.uid !== 0 ? question.user : null;
  // The Python question is the slow part: it runs while the environment is inspected (and was
  // started before the CLI's modules loaded when bin/ could tell it was this one).
  let asking = askHtdocs(question, args.pythonHome ?? null);
  let answered = false;
  let early: HtdocsAnswer | null = null;
  asking.then(
    (asked) => {
      answered = true;
      early = asked.answer;
    },
    () => (answered = true),
  );
  // Awaited below; marked handled now, so a failure that comes before the inspection ends is not
  // an unhandled rejection (which would end the process with a stack trace).
  asking.catch(() => undefined);
  // The read-ahead below stops once the answer is in (what it read by then is used) or deploy
  // fails: it never outlives the question, nor delays the exit.
  const readAhead = new AbortController();
  // Static directories new to TARGET are copied meanwhile, aside, and published only once the
  // answer names them and Trac's verdict and the checks below passed (write/stageHtdocs.ts).
  let staging: Staging | null = null;
  let succeeded = false;
  try {
    const manifest = await readManifest(target);
    if (!args.check && !args.dryRun) staging = Staging.start(htdocs, stagingCandidates(early, envPath, args.pythonHome, htdocs), { reader });
    let inspection = await inspectPath(args.env);
    if (inspection.kind !== 'environment') {
      throw usageError(
        `${inspection.path} is a directory of environments; deploy takes one environment, as trac-admin does`,
        `for all of them, deploy one (their Trac and plugins' files are shared) and pass its htdocs to: trac-deploy generate ${inspection.path} --htdocs TARGET/htdocs`,
      );
    }
    let prefetching: Promise<Prefetched | undefined> = Promise.resolve(undefined);
    if (!answered) {
      // Python still answers: what rendering needs is loaded meanwhile, and the static files
      // its answer will most likely name are read (planSync uses a read only while the file is
      // still the one read).
      try {
        prepareDeployTemplates();
      } catch {
        // renderDeploy reports it
      }
      const staged = new Set(staging?.staged.map((s) => s.dir));
      const unstaged = likelyStaticDirs(envPath, args.pythonHome).filter((dir) => !staged.has(dir));
      prefetching = prefetchSources(unstaged, { signal: readAhead.signal, reader }).catch(() => undefined);
    }
    let asked = await asking.finally(() => readAhead.abort());
    let inspected = inspection.environments[0];
    if (!asked.fresh && inspected?.problems.some((p) => DOUBTS.has(p.code))) {
      // The cached verdict predates what the inspection just saw in the database: Trac decides.
      await asking.then(removeEggCache, () => undefined);
      asking = askHtdocs(question, args.pythonHome ?? null, { useCache: false });
      asked = await asking;
    }
    const { answer } = asked;
    const refused = (answer.verdict?.problems ?? []).filter((p) => p.severity === 'error');
    if (refused.length > 0) throw refusal(envPath, refused);
    if (asked.fresh && inspected?.problems.some((p) => DOUBTS.has(p.code))) {
      // Trac opened the database in this run and accepted it (opening it as a user who may write
      // it rolls back an unfinished transaction): what the inspection could not read before is
      // read again, so neither its stale finding nor its missing facts reach the plan.
      const again = await inspectPath(args.env);
      if (again.kind === 'environment') {
        inspection = again;
        inspected = again.environments[0];
      }
    }
    const { sources: offered, providers } = staticSources(answer, htdocs);
    // Each source's real path is taken here, once: what follows reads below it only.
    const site = siteDir(envPath);
    const { pinned: sources, linkedOut: notFollowed } = pinSources(offered, site);
    const linkedOut = siteLinkedOut(site, notFollowed, providers);
    const chosen = pythonOptions(args, answer);
    const plan = await planDeployment({
      inspection,
      options: chosen.options,
      outDir: target,
      deployTarget: target,
      interpreter: answer.python.executable,
      staticDirs: [...new Set(sources.map((s) => s.key))].map((key) => ({ key, dir: path.join(htdocs, key) })),
    });
    plan.notes.push(...chosen.notes);
    if (asked.cacheNote) plan.notes.push(asked.cacheNote);
    const server = inspected?.database && inspected.database.scheme !== 'sqlite' ? inspected.database.scheme : null;
    if (!asked.fresh && server) {
      plan.notes.push(`Trac's verdict (the environment opens, its ${server} database answers and needs no upgrade) is the cached one of an earlier run: the database server was not asked in this run`);
    }
    // The plan file makes TARGET a directory smoke and apply read like generate's --out.
    const files = [...renderDeploy(plan), renderPlanFile(plan)];
    await staging?.settle(singleSourceKeys(sources));
    const sync = await planSync(htdocs, sources, manifest.htdocs, await prefetching, staging, { reader });
    // A source the web server's user may not even reach: nothing of it was copied, and the listing says so.
    for (const { key, dir, root } of sources) {
      const copiedAny = sync.entries.some((e) => e.rel.startsWith(`${key}/`) && e.status !== 'removed');
      const whole = !copiedAny && sync.denied.find((d) => d.dir === dir || (root !== undefined && (d.dir === root || isBelow(root, d.dir))));
      if (whole) for (const report of providers) for (const d of report.dirs) if (d.key === key && d.dir === dir) Object.assign(d, { copied: false, notCopied: `${reader?.name ?? 'the web server'} may not read it` });
    }
    // As root: TARGET/cgi-bin too must be root's and writable by nobody else (the rule below htdocs).
    const unsafeBelow = [...(sync.unsafe), ...cgiBinUnsafe(target)];
    if (args.check || args.dryRun) skipUnsafe(sync, htdocs);
    const findings = [...allProblems(inspection), ...(answer.verdict?.problems ?? []), ...linkedOut, ...sync.skipped.map(skippedLink), ...sync.denied.map((d) => unreadable(d, reader?.name ?? 'the web server'))];
    const done = (result: FilesResult, exitCode: DeployOutcome['exitCode']): DeployOutcome => ({
      kind: 'deploy',
      exitCode,
      result: { files: result, htdocs: sync, providers, python: answer.python, trac: answer.trac, plan },
      findings,
    });

    if (args.check) {
      const result = await emitFiles(files, args, target);
      const drifted = result.files.some((f) => f.status !== 'unchanged') || sync.entries.some((e) => e.status !== 'unchanged');
      return done(result, drifted ? EXIT.failed : EXIT.ok);
    }
    if (!args.dryRun) {
      refuseUnsafeHtdocs(htdocs, { force: args.force });
      refuseUnsafeBelow(unsafeBelow, { force: args.force });
    }
    await refuseClobbering(args, target, files, sync, manifest.files ?? {});
    // A fresh answer is kept for the next run while the files are written (its stamps are taken
    // synchronously, a few dozen stats). A cache that cannot be written costs the next run time,
    // never this run its result.
    const remembering = args.dryRun
      ? Promise.resolve()
      : rememberAnswer(question, asked, {
          inheritFiles: [...(inspected?.inherit.files ?? []), ...(inspected?.problems.filter((p) => p.code === 'inherit-unreadable' && p.path).map((p) => p.path!) ?? [])],
          pluginsDirs: inspected?.inherit.pluginsDir ? [inspected.inherit.pluginsDir] : [],
        }).catch(() => undefined);
    try {
      if (!args.dryRun) {
        const swept = removeLeftoverTemps(target);
        if (swept.length > 0) plan.notes.push(leftoverNote(swept, target));
      }
      // Past the check above, a changed file is either ours from an earlier run or --force was given.
      const result = await emitFiles(files, { ...args, force: true }, target);
      if (!args.dryRun) {
        await applySync(sync, { force: args.force });
        const written = Object.fromEntries(files.map((f) => [path.relative(target, f.path), contentHash(f.content)]));
        await writeManifest(target, { htdocs: sync.manifest, files: written });
      }
      succeeded = true;
      return done(result, EXIT.ok);
    } finally {
      await remembering;
    }
  } finally {
    readAhead.abort();
    // What was not published, and, after a refusal or failure, TARGET and htdocs if it made them.
    staging?.remove({ keepMade: succeeded });
    await asking.then(removeEggCache, () => undefined);
  }
}

/**
 * What to copy ahead into TARGET: the answer's static directories when it is already in (the
 * cache answered), else those it will most likely name: Trac's own htdocs in the virtualenv
 * (key `common`) and the environment's (`site`), as Trac's Chrome names them.
 */
export function stagingCandidates(answer: HtdocsAnswer | null, envPath: string, pythonHome: string | undefined, htdocs: string): { key: string; dir: string }[] {
  try {
    const candidates = likelyCandidates(answer, envPath, pythonHome, htdocs);
    // Never read ahead what the run will not copy: a site directory linked out by another user.
    const { linkedOut } = pinSources(candidates, siteDir(envPath));
    return candidates.filter((s) => !linkedOut.includes(s));
  } catch {
    return []; // a path that cannot be looked at (EACCES, ENOTDIR): nothing staged; the run reports it
  }
}

function likelyCandidates(answer: HtdocsAnswer | null, envPath: string, pythonHome: string | undefined, htdocs: string): { key: string; dir: string }[] {
  if (answer) {
    try {
      return staticSources(answer, htdocs).sources;
    } catch {
      return []; // refused below, by the same call
    }
  }
  const common = pythonHome ? virtualenvSitePackages(path.resolve(pythonHome)).map((site) => path.join(site, 'trac', 'htdocs')) : [];
  const existing = common.filter((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory());
  return [...(existing.length === 1 ? [{ key: 'common', dir: existing[0]! }] : []), { key: 'site', dir: path.join(envPath, 'htdocs') }];
}

/** Keys with exactly one source directory (the only ones a staged copy can stand for): key -> its pinned real path. */
function singleSourceKeys(sources: readonly { key: string; dir: string; root?: string }[]): Map<string, string> {
  const dirs = new Map<string, string[]>();
  for (const { key, dir, root } of sources) dirs.set(key, [...(dirs.get(key) ?? []), root ?? dir]);
  return new Map([...dirs].filter(([, list]) => list.length === 1).map(([key, list]) => [key, list[0]!]));
}

/**
 * The static directories an answer most likely names before it comes: Trac's own htdocs in the
 * virtualenv's site-packages (lib/pythonX.Y/site-packages/trac/htdocs) and the environment's.
 * A guess only: what the answer names is what is copied.
 */
function likelyStaticDirs(envPath: string, pythonHome: string | undefined): string[] {
  const dirs = [path.join(envPath, 'htdocs')];
  if (!pythonHome) return dirs;
  return [...virtualenvSitePackages(path.resolve(pythonHome)).map((site) => path.join(site, 'trac', 'htdocs')), ...dirs];
}

/**
 * What the inspection reads in an SQLite database that a cached answer cannot have seen (it is
 * keyed on the files that make the htdocs answer, not on the database's rows): an upgrade need,
 * a database gone. With one of these, Python is asked again and Trac refuses or accepts.
 */
const DOUBTS = new Set(['needs-upgrade', 'database-missing', 'database-unreadable']);

/**
 * The environment's own static directory (`site`, ENV/htdocs) when, as root, a symbolic link not
 * root's own leads it out of the environment (the rule of the database link, database-link-outside;
 * decided on ENV/htdocs itself, write/pinSources.ts): NOT_FOLLOWED, the sources it left out, are
 * marked so in PROVIDERS, and one warning says why. Plugins' directories are where their code
 * says (Trac's answer) and are copied from there, file by file, never through a link, and only
 * what the web server's user may read.
 */
function siteLinkedOut(site: SiteDir, notFollowed: readonly { key: string; dir: string }[], providers: ProviderReport[]): Finding[] {
  if (!site.planted || notFollowed.length === 0) return [];
  for (const { key, dir } of notFollowed) for (const report of providers) for (const d of report.dirs) if (d.key === key && d.dir === dir) Object.assign(d, { copied: false, notCopied: `a link not root's leads it out of the environment` });
  const { path: link, real } = site.planted;
  return [
    {
      code: 'site-link-outside',
      severity: 'warning',
      message: `${site.dir} ${link === site.dir ? 'is a symbolic link' : `leads through the symbolic link ${link}`} (not root's) to ${real}, outside the environment; trac-deploy, running as root, did not follow it: htdocs/site was not copied`,
      path: site.dir,
      advice: [`if the site's static files belong at ${real}, replace the link with a copy of them, or make the link as root (ln -sfn ${real} ${link}); or run deploy as the environment's owner`],
    },
  ];
}

/** A directory of a static source the web server's user may not enter, or files there it may not read: not copied. */
function unreadable(denied: DeniedDir, user: string): Finding {
  return {
    code: 'htdocs-unreadable-skipped',
    severity: 'warning',
    message: `${denied.dir}: ${denied.why}; not copied: the web server could not serve it`,
    path: denied.dir,
    advice: [`if it is meant to be served, make it readable by ${user} (chmod o+r files, o+x directories, or chgrp to a group of ${user}); trac-deploy, running as root, publishes only what ${user} may read`],
  };
}


/** As root, TARGET/cgi-bin when it is not root's or group or others may write it (or a link not root's). */
function cgiBinUnsafe(target: string, asRoot = process.geteuid?.() === 0): UnsafeDir[] {
  if (!asRoot) return [];
  const dir = path.join(target, 'cgi-bin');
  const why = changeableBelow(dir);
  return why ? [{ dir, why }] : [];
}

/**
 * --check and --dry-run as root: the static files below a directory another user may change
 * (TARGET/htdocs or one on the way to it, dirsOthersMayChange; or one below it, sync.unsafe)
 * are reported as not compared (skipped, with the reason), never as unchanged: what is there
 * could be swapped while it is read.
 */
function skipUnsafe(sync: SyncPlan, htdocs: string, asRoot = process.geteuid?.() === 0): void {
  if (!asRoot) return;
  const above = dirsOthersMayChange(htdocs, ROOT_ONLY)[0];
  const reasonFor = (rel: string): string | null => {
    if (above) return `not compared: ${above.dir} ${above.why}`;
    const dest = path.join(htdocs, rel);
    const under = sync.unsafe.find((u) => isBelow(dest, u.dir));
    return under ? `not compared: ${under.dir} ${under.why}` : null;
  };
  for (const entry of sync.entries) {
    const reason = reasonFor(entry.rel);
    if (!reason) continue;
    entry.status = 'skipped';
    entry.reason = `${reason} (trac-deploy, running as root, does not trust files another user could swap)`;
  }
}

/** A link (or device, FIFO, ...) in a static source directory: never followed, never published. */
function skippedLink(file: string): Finding {
  return {
    code: 'htdocs-link-skipped',
    severity: 'warning',
    message: `${file} is not a regular file (a symbolic link, or a device or FIFO); it was not copied, and is not served`,
    path: file,
    advice: ['trac-deploy never follows links in static directories: a link planted there could publish any file on the machine', 'if the file belongs there, replace the link with a copy of the file'],
  };
}

/** Nothing is written unless everything may be: scripts and htdocs are checked together. */
async function refuseClobbering(args: DeployArgs, target: string, files: RenderedFile[], sync: SyncPlan, ours: Record<string, string>): Promise<void> {
  if (args.force || args.dryRun) return;
  const changed = (await compareFiles(files))
    .filter((o) => o.status === 'changed' && !isOurs(ours[path.relative(target, o.path)], o.current ?? ''))
    .map((o) => o.path);
  const clobbered = [...changed, ...sync.foreign];
  if (clobbered.length > 0) {
    const shown = clobbered.slice(0, 5).join(', ') + (clobbered.length > 5 ? ` and ${clobbered.length - 5} more` : '');
    throw usageError(
      `${shown} already exist${clobbered.length === 1 ? 's' : ''} with other content and ${clobbered.length === 1 ? 'was' : 'were'} not written by trac-deploy; nothing was written. Use --force to replace, or --check to see the difference`,
    );
  }
}

