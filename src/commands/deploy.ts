import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CliContext } from '../context.js';
import { EXIT, type ExitCode, usageError } from '../errors.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { validKey } from '../plan/chromeKey.js';
import type { GenerateOptions } from '../plan/options.js';
import { planDeployment } from '../plan/planDeployment.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { isWithin } from '../plan/validate.js';
import { fingerprint, inputsOf, reusableAnswer, type CachedAnswer } from '../python/answerCache.js';
import { pythonFor } from '../python/askPython.js';
import { htdocsDirs, type HtdocsAnswer } from '../python/htdocsDirs.js';
import { renderDeploy } from '../render/renderDeploy.js';
import { printProblems } from '../report/problems.js';
import { applySync, planSync, readManifest, sha1, writeManifest, type HtdocsSource, type SyncPlan } from '../write/syncHtdocs.js';
import { compareFiles, driftDiffs, writeFiles, type FileOutcome } from '../write/writeFiles.js';

export interface DeployArgs extends GenerateOptions {
  env: string;
  target: string;
  force: boolean;
  dryRun: boolean;
  check: boolean;
  json: boolean;
}

/** One provider as trac-admin deploy lists it, with what became of each of its directories. */
interface ProviderReport {
  name: string;
  dirs: { key: string; dir: string; copied: boolean }[];
}

/**
 * `trac-admin ENV deploy TARGET`, file for file: TARGET/htdocs/<key> for every static directory
 * of Trac and its enabled plugins (asked of the environment's own Python), cgi-bin/trac.wsgi,
 * trac.cgi and trac.fcgi; plus TARGET/<name>.conf, which serves htdocs through Apache. Content is
 * compared before anything is copied, and files trac-deploy did not write are never replaced
 * without --force.
 */
export async function runDeploy(args: DeployArgs, ctx: CliContext): Promise<ExitCode> {
  const envPath = path.resolve(args.env);
  const target = path.resolve(args.target);
  const htdocs = path.join(target, 'htdocs');
  const manifest = await readManifest(target);
  const eggCache = await fs.mkdtemp(path.join(os.tmpdir(), 'trac-deploy-eggs-'));
  const question = { python: pythonFor(args.pythonHome).command, envPath, pathEnv: process.env.PATH ?? '' };
  // The Python question is the slow part: it runs while the environment is inspected.
  const asking = (async () => {
    const cached = await reusableAnswer(manifest.query as CachedAnswer | undefined, question);
    return cached
      ? { answer: cached, fresh: false }
      : { answer: await htdocsDirs(envPath, { pythonHome: args.pythonHome ?? null, eggCache }), fresh: true };
  })();
  // Awaited below; marked handled now, so a failure that comes before the inspection ends is not
  // an unhandled rejection (which would end the process with a stack trace).
  asking.catch(() => undefined);
  try {
    const inspection = await inspectPath(args.env);
    if (inspection.kind !== 'environment') {
      throw usageError(
        `${inspection.path} is a directory of environments; deploy takes one environment, as trac-admin does`,
        `for all of them, deploy one (their Trac and plugins' files are shared) and pass its htdocs to: trac-deploy generate ${inspection.path} --htdocs TARGET/htdocs`,
      );
    }
    const { answer, fresh } = await asking;
    const { sources, providers } = staticSources(answer, htdocs);
    const options = pythonOptions(args, answer);
    const plan = await planDeployment({
      inspection,
      options: options.options,
      outDir: target,
      deployTarget: target,
      interpreter: answer.python.executable,
      staticDirs: uniqueKeys(sources).map((key) => ({ key, dir: path.join(htdocs, key) })),
    });
    plan.notes.push(...options.notes);
    const files = renderDeploy(plan);
    const sync = await planSync(htdocs, sources, manifest.htdocs);
    const problems = allProblems(inspection);
    if (!args.json) printProblems(ctx, problems);

    if (args.check) return await check(args, ctx, plan, files, sync);
    await refuseClobbering(args, target, files, sync, manifest.files ?? {});
    // Past the check above, a changed file is either ours from an earlier run or --force was given.
    const outcomes = await writeFiles(files, { force: true, dryRun: args.dryRun });
    if (!args.dryRun) {
      await applySync(sync);
      const env = inspection.environments[0];
      const query = fresh ? await cacheable(question, answer, eggCache, env) : manifest.query;
      const written = Object.fromEntries(files.map((f) => [path.relative(target, f.path), sha1(f.content)]));
      await writeManifest(target, { htdocs: sync.manifest, files: written, query });
    }
    report(args, ctx, { plan, providers, sync, outcomes, answer, problems });
    return EXIT.ok;
  } finally {
    await asking.catch(() => undefined);
    await fs.rm(eggCache, { recursive: true, force: true });
  }
}

/** The answer with its fingerprint, unless it points into this run's temporary egg cache. */
async function cacheable(
  question: CachedAnswer['question'],
  answer: HtdocsAnswer,
  eggCache: string,
  env: { inherit: { files: string[]; pluginsDir: string | null } } | undefined,
): Promise<CachedAnswer | null> {
  if (answer.providers.some((p) => p.dirs.some(([, dir]) => dir && isWithin(dir, eggCache)))) return null;
  const inputs = inputsOf(question.envPath, answer, {
    inheritFiles: env?.inherit.files ?? [],
    pluginsDirs: env?.inherit.pluginsDir ? [env.inherit.pluginsDir] : [],
  });
  return { question, ...inputs, fingerprint: await fingerprint(inputs.paths, inputs.dirsWithEntries), answer };
}

/**
 * Trac's (key, dir) pairs in provider order. Empty dirs are skipped and missing ones listed but
 * not copied, as trac-admin does; a target equal to or below its source is refused, as it is.
 */
function staticSources(answer: HtdocsAnswer, htdocs: string): { sources: HtdocsSource[]; providers: ProviderReport[] } {
  const sources: HtdocsSource[] = [];
  const providers: ProviderReport[] = [];
  for (const provider of answer.providers) {
    if (provider.dirs.length === 0) continue;
    const report: ProviderReport = { name: provider.name, dirs: [] };
    for (const [key, root] of provider.dirs) {
      if (!root) continue;
      if (!validKey(key)) {
        throw usageError(`${provider.name} names the static directory ${JSON.stringify(key)}, which is not one URL path segment; Trac cannot serve it and trac-deploy will not copy it`);
      }
      const dir = path.normalize(root);
      const exists = isDirectory(dir);
      const dest = path.join(htdocs, key);
      if (exists && isWithin(dest, dir)) {
        throw usageError(`${dest} is equal to or below the source directory ${dir}; resources cannot be deployed there. Choose a different TARGET`);
      }
      if (exists) sources.push({ key, dir });
      report.dirs.push({ key, dir, copied: exists });
    }
    providers.push(report);
  }
  return { sources, providers };
}

function isDirectory(dir: string): boolean {
  // Synchronous on purpose: a handful of stats, reported in Trac's order.
  return Boolean(statSync(dir, { throwIfNoEntry: false })?.isDirectory());
}

function uniqueKeys(sources: HtdocsSource[]): string[] {
  return [...new Set(sources.map((s) => s.key))];
}

/**
 * Without --python-home, the Python that answered decides: a virtualenv becomes the daemon's
 * python-home, and a Trac outside that Python's site-packages becomes a --site-dir.
 */
function pythonOptions(args: DeployArgs, answer: HtdocsAnswer): { options: GenerateOptions; notes: string[] } {
  const notes: string[] = [];
  const options: GenerateOptions = { ...args, siteDir: [...args.siteDir] };
  const { python } = answer;
  const isVenv = python.prefix !== python.basePrefix;
  if (!args.pythonHome && isVenv) {
    options.pythonHome = python.prefix;
    notes.push(`python-home ${python.prefix}: the virtualenv of ${python.executable}, which has Trac ${answer.trac.version}`);
  }
  const tracParent = path.dirname(answer.trac.package);
  const known = [...python.sitePackages, ...options.siteDir];
  if (!known.includes(tracParent) && !(options.pythonHome && isWithin(tracParent, options.pythonHome))) {
    options.siteDir.push(tracParent);
    notes.push(`site dir ${tracParent}: Trac is installed there, outside ${python.executable}'s site-packages`);
  }
  return { options, notes };
}

/** Nothing is written unless everything may be: scripts and htdocs are checked together. */
async function refuseClobbering(args: DeployArgs, target: string, files: RenderedFile[], sync: SyncPlan, ours: Record<string, string>): Promise<void> {
  if (args.force || args.dryRun) return;
  const changed = (await compareFiles(files))
    .filter((o) => o.status === 'changed' && ours[path.relative(target, o.path)] !== sha1(o.current ?? ''))
    .map((o) => o.path);
  const clobbered = [...changed, ...sync.foreign];
  if (clobbered.length > 0) {
    const shown = clobbered.slice(0, 5).join(', ') + (clobbered.length > 5 ? ` and ${clobbered.length - 5} more` : '');
    throw usageError(
      `${shown} already exist${clobbered.length === 1 ? 's' : ''} with other content and ${clobbered.length === 1 ? 'was' : 'were'} not written by trac-deploy; nothing was written. Use --force to replace, or --check to see the difference`,
    );
  }
}

async function check(args: DeployArgs, ctx: CliContext, plan: DeploymentPlan, files: RenderedFile[], sync: SyncPlan): Promise<ExitCode> {
  const drift = await driftDiffs(files);
  const htdocsDrift = sync.entries.filter((e) => e.status !== 'unchanged');
  const drifted = drift.length + htdocsDrift.length > 0;
  if (args.json) {
    ctx.stdout(
      JSON.stringify(
        {
          drift: drifted,
          files: [
            ...drift.map(({ path: p, status }) => ({ path: p, status })),
            ...htdocsDrift.map((e) => ({ path: path.join(sync.htdocs, e.rel), status: e.status })),
          ],
          plan,
        },
        null,
        2,
      ),
    );
  } else if (!drifted) {
    ctx.stdout(`up to date: ${files.length} scripts and configuration, ${sync.entries.length} static files in ${sync.htdocs}`);
  } else {
    for (const d of drift) ctx.stdout(d.diff);
    for (const e of htdocsDrift) ctx.stdout(`${e.status === 'added' ? 'missing' : e.status === 'replaced' ? 'differs' : 'stale'}: ${path.join(sync.htdocs, e.rel)}`);
    ctx.stderr(`drift: ${drift.length + htdocsDrift.length} file(s) in ${path.dirname(sync.htdocs)} differ from what trac-deploy would write; re-run without --check to update`);
  }
  return drifted ? EXIT.failed : EXIT.ok;
}

function report(
  args: DeployArgs,
  ctx: CliContext,
  r: { plan: DeploymentPlan; providers: ProviderReport[]; sync: SyncPlan; outcomes: FileOutcome[]; answer: HtdocsAnswer; problems: ReturnType<typeof allProblems> },
): void {
  const written = !args.dryRun;
  if (args.json) {
    const htdocsFiles = r.sync.entries.map((e) => ({
      path: path.join(r.sync.htdocs, e.rel),
      kind: 'htdocs' as const,
      status: e.status,
      written: written && e.status !== 'unchanged',
    }));
    ctx.stdout(
      JSON.stringify(
        {
          dryRun: args.dryRun,
          files: [...r.outcomes, ...htdocsFiles],
          htdocs: countStatuses(r.sync),
          providers: r.providers,
          python: r.answer.python,
          trac: r.answer.trac,
          environments: r.plan.source.environments,
          plan: r.plan,
          problems: r.problems,
        },
        null,
        2,
      ),
    );
    return;
  }
  ctx.stdout('Copying resources from:');
  for (const provider of r.providers) {
    ctx.stdout(`  ${provider.name}`);
    for (const d of provider.dirs) ctx.stdout(`    ${d.dir}${d.copied ? '' : ' (missing, nothing to copy)'}`);
  }
  const counts = countStatuses(r.sync);
  const would = args.dryRun ? 'would be ' : '';
  ctx.stdout(
    `${r.sync.htdocs}: ${r.sync.entries.length - counts.removed} static files; ${would}added ${counts.added}, ${would}replaced ${counts.replaced}, unchanged ${counts.unchanged}, ${would}removed ${counts.removed}`,
  );
  for (const e of r.sync.entries) {
    if (e.status === 'replaced' || e.status === 'removed') ctx.stdout(`  ${args.dryRun ? `would be ${e.status}` : e.status}: ${path.join(r.sync.htdocs, e.rel)}`);
  }
  for (const outcome of r.outcomes) {
    const verb = args.dryRun ? `would write (${outcome.status})` : outcome.written ? `wrote (${outcome.status})` : 'unchanged';
    ctx.stdout(`${verb}: ${outcome.path}`);
  }
  for (const note of r.plan.notes) ctx.stderr(`${ctx.colors.cyan('note')}: ${note}`);
}

function countStatuses(sync: SyncPlan): Record<'added' | 'replaced' | 'unchanged' | 'removed', number> {
  const counts = { added: 0, replaced: 0, unchanged: 0, removed: 0 };
  for (const e of sync.entries) counts[e.status]++;
  return counts;
}
