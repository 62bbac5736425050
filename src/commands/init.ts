import { createTwoFilesPatch } from 'diff';
import { shWord } from '../escape/shell.js';
import type { CliContext } from '../context.js';
import { EXIT, usageError } from '../errors.js';
import type { Inspection } from '../inspect/types.js';
import path from 'node:path';
import type { Finding } from '../findings.js';
import { allProblems, inspectPath } from '../inspect/inspectPath.js';
import { nameFromPath, validateOutDir } from '../plan/validate.js';
import type { DeploymentPlan, RenderedFile } from '../plan/types.js';
import { findingsByQuestion, formatFinding } from '../wizard/findingQuestions.js';
import { execaPythonRunner, findPythons, type PythonFound, type PythonRunner } from '../python/findPythons.js';
import { findEnvironments, USUAL_TRAC_ROOTS } from '../wizard/findEnvironments.js';
import { defaultsPrompter, inquirerPrompter, type Prompter, recordingPrompter, WizardCancelled } from '../wizard/prompter.js';
import { askOptions, asValidator, type GivenOptions } from '../wizard/questions.js';
import { compareFiles } from '../write/writeFiles.js';
import { buildDeployment, emitDeployment } from './generate.js';
import type { InitOutcome, Outcome } from './outcome.js';
import { runSmokeCommand } from './smoke.js';

export interface InitArgs {
  path?: string | undefined;
  out?: string | undefined;
  /** Only the generate flags the user gave; the rest are questions. */
  given: GivenOptions;
  yes: boolean;
  interactive: boolean;
  force: boolean;
  /** Run the smoke test after writing; undefined: ask. */
  smoke?: boolean | undefined;
}

export interface InitDeps {
  /** The prompter for interactive runs; default @inquirer/prompts. */
  prompter?: Prompter;
  runPython?: PythonRunner;
  /** Where to look for environments when PATH is not given; default cwd and the usual places. */
  searchRoots?: string[];
  runSmoke?: (dir: string) => Promise<Outcome>;
  /** Shows a step's outcome as the wizard goes (the CLI's presenter); default: nothing. */
  show?: (outcome: Outcome) => void;
  /** Where virtualenvs are looked for besides the environment's neighbourhood (default: findPythons'). */
  venvRoots?: string[];
}

/**
 * The wizard: asks what it cannot detect (or takes flags / defaults), then goes through the
 * same inspect -> plan -> render path as generate, shows the files (a diff when they exist),
 * writes them with the same writer on confirmation, and offers the smoke test.
 */
export async function runInit(args: InitArgs, ctx: CliContext, deps: InitDeps = {}): Promise<InitOutcome> {
  const recorder = !args.yes && !args.interactive ? recordingPrompter() : null;
  const prompter = args.yes ? defaultsPrompter() : (recorder ?? deps.prompter ?? (await inquirerPrompter()));
  try {
    return await wizard(args, ctx, deps, prompter, recorder?.needed ?? null);
  } catch (error) {
    if (error instanceof WizardCancelled) return done(EXIT.cancelled, null, 'init cancelled, nothing written');
    throw error;
  }
}

async function wizard(args: InitArgs, ctx: CliContext, deps: InitDeps, prompter: Prompter, needed: string[] | null): Promise<InitOutcome> {
  const target = args.path ?? (await askPath(prompter, deps.searchRoots ?? [process.cwd(), ...USUAL_TRAC_ROOTS]));
  if (!target) {
    if (needed) throw needFlags(needed);
    throw usageError('no Trac environment found here or in the usual places; give its path: trac-deploy init PATH');
  }
  const inspection = await inspectPath(target);
  let found: PythonFound[] | null = null;
  const pythons = async () =>
    (found ??= await findPythons({
      near: inspection.path,
      pythonHome: args.given.pythonHome,
      run: deps.runPython ?? execaPythonRunner,
      ...(deps.venvRoots ? { wellKnown: deps.venvRoots } : {}),
    }));
  // What inspection found (and, once merged, the preflight), each at the question it concerns.
  const findings = findingsByQuestion(allProblems(inspection));
  const say = (list: Finding[]) => {
    for (const f of list) ctx.stdout(formatFinding(f));
  };
  say(findings.at('general'));
  const options = await askOptions({
    prompter,
    inspection,
    given: args.given,
    pythons,
    requireTrac: args.yes,
    before: (key) => say(findings.at(key)),
  });
  say(findings.rest());
  const out = args.out ?? (await askOut(prompter, inspection, options.name ?? nameFromPath(inspection.path)));

  if (needed) throw needFlags(needed);

  const deployment = await buildDeployment(inspection.path, options, out);
  const { plan, files } = deployment;
  const show = deps.show ?? (() => {});
  const changes = await preview(files, plan, ctx);
  if (changes.total === 0) {
    show(await emitDeployment(deployment, { force: false, dryRun: false, check: true }));
  } else {
    const replace = changes.changed > 0;
    // --yes asks nothing: the writer then refuses changed files without --force, as generate does.
    const ok =
      args.yes ||
      (await prompter.confirm({
        message: replace
          ? `Replace ${changes.changed} existing file${changes.changed === 1 ? '' : 's'} shown above${changes.created ? ` and write ${changes.created} new` : ''}?`
          : `Write ${changes.created} file${changes.created === 1 ? '' : 's'} to ${plan.files.outDir}?`,
        flag: '--yes',
        // Replacing what the user has is never the default; writing new files is.
        default: !replace || args.force,
      }));
    if (!ok) return done(EXIT.ok, null, 'nothing written');
    // The user saw the diff and said yes to replacing: that is --force. --yes alone never is.
    const force = args.force || (replace && !args.yes);
    const written = await emitDeployment(deployment, { force, dryRun: false, check: false });
    show(written);
    if (written.exitCode !== EXIT.ok) return done(written.exitCode, null, null);
  }

  const smoke =
    args.smoke ??
    (await prompter.confirm({ message: `Run the smoke test now (a throwaway Apache on 127.0.0.1 serving ${plan.files.outDir})?`, flag: '--smoke', default: true }));
  if (!smoke) return done(EXIT.ok, `trac-deploy smoke ${shWord(plan.files.outDir)}`, null);
  const smoked = await (deps.runSmoke ?? smokeDir)(plan.files.outDir);
  show(smoked);
  return done(smoked.exitCode, null, null);
}

function done(exitCode: InitOutcome['exitCode'], next: string | null, message: string | null): InitOutcome {
  return { kind: 'init', exitCode, next, message };
}

async function askPath(prompter: Prompter, roots: string[]): Promise<string> {
  const candidates = await findEnvironments(roots);
  const OTHER = '\0other';
  let picked = OTHER;
  if (candidates.length > 0) {
    picked = await prompter.select({
      message: 'Trac environment or directory of environments to deploy',
      flag: 'PATH',
      choices: [
        ...candidates.map((c) => ({
          value: c.path,
          name: c.kind === 'parent' ? `${c.path} (directory of ${c.count} environments)` : `${c.path} (environment)`,
        })),
        { value: OTHER, name: 'another path...' },
      ],
      default: candidates[0]?.path ?? OTHER,
    });
  }
  if (picked !== OTHER) return picked;
  const typed = await prompter.input({
    message: 'Path of the Trac environment or directory of environments',
    flag: 'PATH',
    validate: (v) => (v.trim() ? true : 'give a path'),
  });
  return typed.trim();
}

/** Without a terminal and without --yes: every question it would have asked, by its flag. */
function needFlags(needed: string[]) {
  return usageError(
    `init has no terminal to ask on; answer its questions with flags, or pass --yes to take the defaults: ${[...needed, '--yes'].join(' ')}`,
    'Use --interactive to ask anyway when the terminal is not detected as one.',
  );
}

/**
 * Where the files go by default. Debian's conventions: /srv holds the data a site serves (the
 * script Apache runs), and `trac-deploy ci` defaults its --deploy-dir there too; one directory
 * per site name, so several sites never mix. Outside every environment and directory of
 * environments, as the plan requires; when /srv itself is where they live, beside it.
 */
export const DEFAULT_OUT_ROOT = '/srv/trac-deploy';

export function defaultOut(inspection: Inspection, name: string): string {
  const envPaths = inspection.environments.map((e) => e.path);
  const parent = inspection.kind === 'parent' ? inspection.path : null;
  const candidates = [path.join(DEFAULT_OUT_ROOT, name), path.join('/etc/trac-deploy', name), path.join(path.dirname(inspection.path), `${name}-deploy`)];
  for (const candidate of candidates) {
    try {
      return validateOutDir(candidate, envPaths, parent);
    } catch {
      // the next candidate
    }
  }
  return candidates[0] ?? DEFAULT_OUT_ROOT;
}

async function askOut(prompter: Prompter, inspection: Inspection, name: string): Promise<string> {
  const envPaths = inspection.environments.map((e) => e.path);
  const parent = inspection.kind === 'parent' ? inspection.path : null;
  return prompter.input({
    message: 'Directory to write the .wsgi script and Apache configuration into',
    flag: '--out',
    default: defaultOut(inspection, name),
    validate: asValidator((v) => validateOutDir(v, envPaths, parent)),
  });
}

/** The plan in a few lines: what an administrator checks before saying yes. */
export function planSummary(plan: DeploymentPlan): string {
  const envs = plan.source.environments.map((e) => `${e.name}${e.projectName ? ` ("${e.projectName}")` : ''}`);
  const lines = [
    `${plan.source.kind === 'parent' ? `${envs.length} environments under ${plan.source.path}` : `environment ${plan.source.path}`}: ${envs.join(', ')}`,
    `mounted at ${plan.urlPrefix}, ${plan.mode} mode${plan.daemon ? ` (process group ${plan.daemon.processGroup}, ${plan.daemon.processes} x ${plan.daemon.threads})` : ''}`,
    `Python: ${plan.python.home ? `virtualenv ${plan.python.home}` : 'the one mod_wsgi embeds, no virtualenv'}${plan.python.siteDirs.length ? `, site dirs ${plan.python.siteDirs.join(', ')}` : ''}`,
    `logins: ${plan.auth.method === 'none' ? 'left to Trac (no Apache login)' : `${plan.auth.method}, ${plan.auth.scope === 'site' ? 'whole site' : 'at /login'}`}`,
    `pooling: ${plan.pool.reason}`,
    `Apache modules: ${plan.apacheModules.join(', ')}`,
  ];
  return lines.map((l) => `    ${l}`).join('\n');
}

/** Show each file: new ones in full, changed ones as a unified diff, the plan as a summary. */
async function preview(files: RenderedFile[], plan: DeploymentPlan, ctx: CliContext): Promise<{ total: number; created: number; changed: number }> {
  const outcomes = await compareFiles(files);
  let created = 0;
  let changed = 0;
  for (const [index, o] of outcomes.entries()) {
    const file = files[index];
    if (!file) continue;
    if (o.status === 'unchanged') {
      ctx.stdout(`unchanged: ${o.path}`);
    } else if (file.kind === 'manifest') {
      // The plan file is for trac-deploy's other commands: a summary, not its JSON.
      if (o.status === 'new') created++;
      else changed++;
      ctx.stdout(`${o.status === 'new' ? ctx.colors.green('new file') : ctx.colors.yellow('changed')}: ${o.path} (the plan, for smoke, apply and ci)\n${planSummary(plan)}\n`);
    } else if (o.status === 'new') {
      created++;
      ctx.stdout(`${ctx.colors.green('new file')}: ${o.path}\n${file.content.replace(/^/gm, '    ').trimEnd()}\n`);
    } else {
      changed++;
      ctx.stdout(`${ctx.colors.yellow('changed')}: ${o.path}\n${createTwoFilesPatch(o.path, o.path, o.current ?? '', file.content, 'on disk', 'would be written')}`);
    }
  }
  return { total: created + changed, created, changed };
}

/** The smoke test as `trac-deploy smoke DIR` runs it (defaults: all configurations, 60 s). */
function smokeDir(dir: string): Promise<Outcome> {
  return runSmokeCommand({ dir, hello: false, timeout: 60 });
}
