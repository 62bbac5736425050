import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Finding } from '../findings.js';
import { PYTHON_PROGRAMS_DIR } from './askPython.js';

/** The interpreter Debian's mod_wsgi embeds: what runs the site without --python-home. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

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
    }
  | { status: 'skipped'; reason: string; advice: string[] };

/** Runs the program with its request on stdin; resolves to stdout (JSON lines) and stderr. */
export type PreflightRunner = (command: string, args: string[], stdin: string, env: Record<string, string>) => Promise<{ stdout: string; stderr: string; exitCode: number | null; error?: string }>;

/**
 * One Python process for all environments (the list goes on stdin, never on the command line),
 * in the interpreter the deployment uses, as the user Apache runs it as.
 */
export async function runPreflight(request: PreflightRequest, run: PreflightRunner = spawnRunner): Promise<PreflightResult> {
  const system = await fs.access(SYSTEM_PYTHON).then(() => SYSTEM_PYTHON, () => 'python3');
  const python = request.pythonHome ? path.join(request.pythonHome, 'bin', 'python') : system;
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
  const stdin = JSON.stringify({ environments: request.environments, siteDirs: request.siteDirs, svnBindings: request.svnBindings });
  const result = await run(command, args, stdin, { PYTHON_EGG_CACHE: request.eggCache, PYTHONDONTWRITEBYTECODE: '1' });
  if (result.error) return { status: 'skipped', reason: `cannot run ${python} (${from}): ${result.error}`, advice: [] };
  const lines = result.stdout.split('\n').filter((l) => l.trim().startsWith('{'));
  const documents: Record<string, unknown>[] = [];
  for (const line of lines) {
    try {
      documents.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a plugin printing on stdout: not ours
    }
  }
  const first = documents.find((d) => d.kind === 'python') as
    | { python: { executable: string; version: string }; user: string | null; trac: string | null; error: string | null; svn: { inInterpreter: boolean; systemDir: string | null } }
    | undefined;
  if (!first) {
    return { status: 'skipped', reason: `${python} (${from}) did not run the preflight (exit ${result.exitCode ?? '?'}): ${lastLine(result.stderr) || 'no output'}`, advice: [] };
  }
  if (!first.trac) {
    return {
      status: 'skipped',
      reason: `${first.python.executable} (${from}) cannot import Trac: ${first.error ?? 'unknown error'}`,
      advice: request.pythonHome ? ['check that --python-home names the virtualenv Trac is installed in'] : ['pass --python-home DIR, the virtualenv Trac is installed in'],
    };
  }
  const environments = documents.filter((d) => d.kind === 'environment') as unknown as PreflightEnvironment[];
  if (!documents.some((d) => d.kind === 'done')) {
    const seen = new Set(environments.map((e) => e.path));
    const cut = request.environments.find((p) => !seen.has(p));
    if (cut !== undefined) {
      environments.push({
        path: cut,
        opened: false,
        problems: [{ code: 'preflight-crashed', severity: 'error', message: `${cut}: Python stopped while Trac opened this environment (exit ${result.exitCode ?? '?'}): ${lastLine(result.stderr) || 'no output'}`, path: cut }],
        repositories: [],
        plugins: [],
        attachment: null,
        project: null,
        xsendfile: null,
        filesDir: null,
      });
    }
  }
  return { status: 'ran', python: first.python, user: first.user, trac: first.trac, svn: first.svn, environments };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

/** node:child_process with the request on stdin and a generous timeout (Trac loads every plugin). */
export const spawnRunner: PreflightRunner = (command, args, stdin, env) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'], timeout: 600_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error: string | undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 1000) err.push(b);
    });
    child.on('error', (e) => {
      error = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such program' : e.message;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    child.on('close', (code) => {
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode: code, ...(error ? { error } : {}) });
    });
  });
