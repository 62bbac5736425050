import { usageError } from '../errors.js';
import { shWord } from '../escape/shell.js';
import type { Finding } from '../findings.js';
import { askPython, BYTECODE_AS_THE_DAEMON, pythonFor, type PythonRunner } from './askPython.js';
import { describeUser, setprivArgs, type AskingUser } from './askingUser.js';

export interface PythonFacts {
  executable: string;
  version: string;
  prefix: string;
  basePrefix: string;
  sitePackages: string[];
  /** The directories on sys.path (what the answer's imports came from); absent in older answers. */
  path?: string[];
  /**
   * Import paths that are no directory now: sys.path entries missing or naming a file (a zip), and
   * the user's site-packages Python reads before it exists. Each is stamped as it is (missing, or
   * the file), so one made or changed later asks again. Not in older answers.
   */
  absent?: string[];
}

export interface HtdocsAnswer {
  python: PythonFacts;
  trac: { version: string; package: string };
  /** Enabled ITemplateProviders in Trac's order, with their (key, dir) pairs as Trac gives them. */
  providers: { name: string; dirs: [string, string][] }[];
  /**
   * Trac's verdict in the same run: it opened the environment, its database answered and needs
   * no upgrade (else the program refused, see below); what it still found (plugins it skipped).
   * Absent in answers of older programs.
   */
  verdict?: { problems: Finding[] };
}

type Raw = HtdocsAnswer | { error: string; message: string; code?: string; advice?: string[] };

/**
 * Ask the environment's own Python which static directories Trac and its enabled plugins serve
 * (what `trac-admin ENV deploy` copies). Zipped egg plugins unpack their files into eggCache.
 * AS_USER (when running as root, see askingUser.ts): Python runs as that user, never as root.
 */
export async function htdocsDirs(
  envPath: string,
  options: { pythonHome?: string | null; eggCache: string; run?: PythonRunner; signal?: AbortSignal; asUser?: AskingUser | null },
): Promise<HtdocsAnswer> {
  const python = pythonFor(options.pythonHome);
  const user = options.asUser && options.asUser.uid !== 0 ? options.asUser : null;
  const { answer } = await askPython<Raw>(python, 'htdocs_dirs.py', [envPath], {
    env: { PYTHON_EGG_CACHE: options.eggCache, ...BYTECODE_AS_THE_DAEMON },
    ...(options.run ? { run: options.run } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(user ? { as: { setpriv: setprivArgs(user), who: describeUser(user) } } : {}),
  });
  if ('error' in answer) {
    if (answer.error === 'import-trac') {
      throw usageError(
        `${python.command} (from ${python.from}) cannot import Trac: ${answer.message}`,
        'pass --python-home DIR, the virtualenv Trac is installed in, so trac-deploy asks the Python that runs the environment',
      );
    }
    if (answer.code === 'trac-cannot-read' && user) {
      // The user Trac will run as cannot open it: the web server could not serve it either.
      throw refusal(envPath, [
        {
          code: answer.code,
          severity: 'error',
          message: `${oneLine(answer.message)} (Trac was asked as ${describeUser(user)}, as the web server will run it)`,
          advice: [`make the environment readable by ${user.name}: chown -R ${user.name}: ${shellWordOrNull(envPath) ?? 'ENV'} (or give it read access to trac.ini, every [inherit] file and plugins/)`],
        },
      ]);
    }
    if (answer.code) throw refusal(envPath, [{ code: answer.code, severity: 'error', message: answer.message, ...(answer.advice ? { advice: answer.advice } : {}) }]);
    throw usageError(`${envPath}: Trac could not load the environment: ${answer.message}`);
  }
  return answer;
}

/**
 * What trac-admin ENV deploy refuses too (Trac cannot open the environment, its database does not
 * answer or needs an upgrade): exit 2 with Trac's own reason and the remedy where known.
 */
export function refusal(envPath: string, problems: Finding[]): Error {
  const quoted = shellWordOrNull(envPath);
  const lines = problems.flatMap((p) => {
    const advice = p.code === 'needs-upgrade' && quoted !== null ? [`trac-admin ${quoted} upgrade`] : (p.advice ?? []);
    return [p.message, ...advice.map((a) => `  -> ${a}`)];
  });
  return usageError('Trac would not serve this environment; nothing was written', ...lines);
}

/** The path as one shell word; null for one no command line can carry (a control character). */
function shellWordOrNull(value: string): string | null {
  try {
    return shWord(value);
  } catch {
    return null;
  }
}

/** Trac's message on one line (it may span several: the error and its cause). */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(': ');
}
