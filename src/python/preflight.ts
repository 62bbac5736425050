import fs from 'node:fs/promises';
import { accessSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from '../findings.js';
import { streamThroughChild } from '../util/streamThroughChild.js';
import { BYTECODE_AS_THE_DAEMON, PYTHON_PROGRAMS_DIR, SYSTEM_PYTHON } from './askPython.js';
import { preflightWorkerCount, runPreflightWorkers, SILENCE_LIMIT_MS, type PreflightRunner, type WorkerHooks, type WorkerStop } from './preflightWorkers.js';

export { preflightWorkerCount, type PreflightLine, type PreflightRunner, type WorkerHooks } from './preflightWorkers.js';

export { SYSTEM_PYTHON } from './askPython.js';

/** Where Debian's python3-subversion puts the Subversion bindings (svn, libsvn). */
export const DEBIAN_SVN_BINDINGS = '/usr/lib/python3/dist-packages';

export interface PreflightRequest {
  environments: string[];
  /** The virtualenv (its bin/python runs the preflight), else system python3. */
  pythonHome: string | null;
  siteDirs: string[];
  eggCache: string;
  /** Run as this user (setpriv; only when we are root). */
  asUser: { user: string; group: string } | null;
  /** Offer Debian's bindings when the interpreter has none (the generated script does the same). */
  svnBindings: string | null;
  /** How many Python processes share the environments (default: preflightWorkerCount). */
  workers?: number;
  /**
   * false: Trac's answers leave out what only a kept verdict is stamped with (inputs,
   * accessInputs, databaseScheme, databaseFile, configFiles, pluginsDirs): less for Python to
   * write and for us to parse and hold when no verdict is kept (a directory of environments).
   */
  stamps?: boolean;
}

export interface PreflightRepository {
  name: string;
  type: string;
  dir: string | null;
  alias: string | null;
  hidden: boolean;
  /** Trac's RepositoryManager opened it. */
  ok: boolean;
  error: string | null;
}

/** What Trac said about one environment. */
export interface PreflightEnvironment {
  path: string;
  /** Opened, database usable and up to date: Trac will serve it. */
  opened: boolean;
  problems: Finding[];
  repositories: PreflightRepository[];
  /** trac.loader's lines for plugins it skipped. */
  plugins: string[];
  attachment: { realm: string; id: string; filename: string; size: number } | null;
  project: string | null;
  xsendfile: { on: boolean; header: string } | null;
  filesDir: string | null;
  /** Files outside the environment's own that Trac read for this answer (attachment, repository dirs). */
  inputs?: string[];
  /** Files whose mode and owner (not content) the answer depends on: the log file and its directory. */
  accessInputs?: string[];
  /** The scheme of Trac's [trac] database (only the scheme: the URL may hold a password). */
  databaseScheme?: string | null;
  /** The SQLite database file Trac opens (absolute), when the scheme is sqlite. */
  databaseFile?: string | null;
  /** trac.ini and every file Trac read through [inherit] file, as Trac resolved them. */
  configFiles?: string[];
  /** The plugins directories Trac loads from (the environment's and [inherit] plugins_dir). */
  pluginsDirs?: string[];
}

export type PreflightResult =
  | {
      status: 'ran';
      python: { executable: string; version: string };
      user: string | null;
      trac: string;
      /** inInterpreter: `import svn` works as is; systemDir: Debian's bindings were offered and found. */
      svn: { inInterpreter: boolean; systemDir: string | null };
      environments: PreflightEnvironment[];
      /** What every answer depends on in the interpreter: its sys.path entries and Trac's package. */
      inputs?: string[];
    }
  | { status: 'skipped'; reason: string; advice: string[] };

/**
 * Asks Trac about every environment, in the interpreter the deployment uses, as the user Apache
 * runs it as. The environments are streamed to the processes' stdin (never on a command line),
 * a window at a time, spread over preflightWorkerCount() processes (request.workers overrides);
 * the answers come back in the order of request.environments, one for each: an environment no
 * process answered is reported as preflight-crashed, never left out.
 */
export async function runPreflight(request: PreflightRequest, run: PreflightRunner = streamRunner, hooks: WorkerHooks = {}): Promise<PreflightResult> {
  const python = await preflightPython(request.pythonHome);
  const from = request.pythonHome ? `--python-home ${request.pythonHome}` : 'the system Python, no --python-home';
  if (request.pythonHome && !(await fs.access(python).then(() => true, () => false))) {
    return { status: 'skipped', reason: `${python} does not exist (${from})`, advice: ['pass --python-home DIR, the virtualenv Trac is installed in'] };
  }
  // The program's text goes in -c: the Apache user may not be able to read trac-deploy's own files.
  const program = await fs.readFile(path.join(PYTHON_PROGRAMS_DIR, 'preflight.py'), 'utf8');
  const command = request.asUser ? 'setpriv' : python;
  const args = request.asUser
    ? [`--reuid=${request.asUser.user}`, `--regid=${request.asUser.group}`, '--init-groups', '--', python, '-c', program]
    : ['-c', program];
  const header = `${JSON.stringify({ siteDirs: request.siteDirs, svnBindings: request.svnBindings, ...(request.stamps === false ? { stamps: false } : {}) })}\n`;
  const env = { PYTHON_EGG_CACHE: request.eggCache, ...BYTECODE_AS_THE_DAEMON };
  const workers = request.workers ?? preflightWorkerCount(request.environments.length);
  const outcome = await runPreflightWorkers(request.environments, workers, (input, onLine, signal) => run(command, args, withHeader(header, input), onLine, env, signal), SILENCE_LIMIT_MS, hooks);
  const first = outcome.first as
    | { python: { executable: string; version: string }; user: string | null; trac: string | null; error: string | null; svn: { inInterpreter: boolean; systemDir: string | null }; path?: unknown; tracPackage?: unknown }
    | null;
  if (!first) {
    const stop = outcome.lastStop;
    if (stop?.startError) return { status: 'skipped', reason: `cannot run ${python} (${from}): ${stop.startError}`, advice: [] };
    return { status: 'skipped', reason: `${python} (${from}) did not run the preflight (${stopText(stop)}): ${stop?.reason || 'no output'}`, advice: [] };
  }
  if (!first.trac) {
    return {
      status: 'skipped',
      reason: `${first.python.executable} (${from}) cannot import Trac: ${first.error ?? 'unknown error'}`,
      advice: request.pythonHome ? ['check that --python-home names the virtualenv Trac is installed in'] : ['pass --python-home DIR, the virtualenv Trac is installed in'],
    };
  }
  const environments = request.environments.map((envPath, index): PreflightEnvironment => {
    const answer = outcome.answers[index] as Partial<PreflightEnvironment> | null;
    // Each answer is held once, as its environment's (100,000 answers are ~150 MB of heap).
    outcome.answers[index] = null;
    if (answer && answer.path === envPath) return answerWithDefaults(answer, envPath);
    const stop = outcome.crashed.get(index);
    const message = stop
      ? stop.silent
        ? `${envPath}: Python answered nothing for ${SILENCE_LIMIT_MS / 1000} s while Trac opened this environment, and was stopped`
        : `${envPath}: Python stopped while Trac opened this environment (${stopText(stop)}): ${stop.reason || 'no output'}`
      : answer
        ? `${envPath}: the preflight answered for ${String(answer.path)} instead; Trac's verdict on this environment is unknown`
        : `${envPath}: not asked: the preflight processes stopped before this environment (${stopText(outcome.lastStop)}): ${outcome.lastStop?.reason || 'no output'}`;
    return { ...EMPTY_ANSWER, path: envPath, problems: [{ code: 'preflight-crashed', severity: 'error', message, path: envPath }] };
  });
  const inputs = [...(Array.isArray(first.path) ? first.path : []), first.tracPackage].filter((p): p is string => typeof p === 'string' && path.isAbsolute(p));
  return { status: 'ran', python: first.python, user: first.user, trac: first.trac, svn: first.svn, environments, inputs };
}

/** The interpreter the preflight runs: the virtualenv's bin/python, else Debian's /usr/bin/python3, else python3 from PATH. */
export async function preflightPython(pythonHome: string | null): Promise<string> {
  if (pythonHome) return path.join(pythonHome, 'bin', 'python');
  return fs.access(SYSTEM_PYTHON).then(() => SYSTEM_PYTHON, () => 'python3');
}

/** preflightPython, synchronously: for the lookup of a kept verdict made before anything else. */
export function preflightPythonSync(pythonHome: string | null): string {
  if (pythonHome) return path.join(pythonHome, 'bin', 'python');
  try {
    accessSync(SYSTEM_PYTHON);
    return SYSTEM_PYTHON;
  } catch {
    return 'python3';
  }
}

const EMPTY_ANSWER: PreflightEnvironment = { path: '', opened: false, problems: [], repositories: [], plugins: [], attachment: null, project: null, xsendfile: null, filesDir: null };

/**
 * The program's answer with EMPTY_ANSWER's value for each field it left out. Built field by field:
 * `{ ...EMPTY_ANSWER, ...answer }` made V8 a new hidden class per answer (~300 bytes each, ~30 MB
 * for 100,000 environments).
 */
function answerWithDefaults(answer: Partial<PreflightEnvironment>, path: string): PreflightEnvironment {
  const or = <K extends keyof PreflightEnvironment>(key: K): PreflightEnvironment[K] => (answer[key] !== undefined ? (answer[key] as PreflightEnvironment[K]) : EMPTY_ANSWER[key]);
  const out: PreflightEnvironment = {
    path,
    opened: or('opened'),
    problems: or('problems'),
    repositories: or('repositories'),
    plugins: or('plugins'),
    attachment: or('attachment'),
    project: or('project'),
    xsendfile: or('xsendfile'),
    filesDir: or('filesDir'),
  };
  // What the kept verdict (src/inspect/preflightCache.ts) stamps: carried when Trac named it.
  for (const key of ANSWER_INPUTS) if (answer[key] !== undefined) Object.assign(out, { [key]: answer[key] });
  return out;
}

const ANSWER_INPUTS = ['inputs', 'accessInputs', 'databaseScheme', 'databaseFile', 'configFiles', 'pluginsDirs'] as const satisfies readonly (keyof PreflightEnvironment)[];

function stopText(stop: WorkerStop | null): string {
  if (!stop) return 'exit ?';
  return stop.signal ? `killed by ${stop.signal}` : `exit ${stop.exitCode ?? '?'}`;
}

async function* withHeader(header: string, input: AsyncIterable<string>): AsyncGenerator<string> {
  yield header;
  yield* input;
}

/** util/streamThroughChild, from / (the Apache user may not enter our working directory). */
export const streamRunner: PreflightRunner = async (command, args, input, onLine, env, signal) => {
  const run = await streamThroughChild(command, args, input, onLine, { env: { ...process.env, ...env }, cwd: '/', flushEachRecord: true, signal });
  return { exitCode: run.code, signal: run.signal, stderr: run.stderr, ...(run.spawnError ? { error: run.spawnError === 'ENOENT' ? 'no such program' : run.spawnError } : {}) };
};
