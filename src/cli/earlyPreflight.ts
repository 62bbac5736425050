import fs from 'node:fs';
import path from 'node:path';
import { findApache } from '../apache/layout.js';
import { earlyRunner } from '../python/earlyRuns.js';
import { DEBIAN_SVN_BINDINGS, runPreflight, type PreflightRequest } from '../python/preflight.js';

const ENVIRONMENT_VERSION = 'Trac Environment Version 1';

/**
 * `generate ENV ...` and `inspect ENV ...`: the preflight (a Python process that opens the
 * environment through Trac, most of these commands' time) is started before the CLI's modules
 * load, with the request withPreflight will make, guessed from the plain form of the arguments
 * (ENV right after the command, one environment, not a parent directory). The command takes the
 * run over only when it makes exactly the same one (python/earlyRuns.ts); otherwise it runs its
 * own and this one is stopped. A wrong guess costs CPU, never a wrong answer.
 */
export function startPreflightEarly(argv: readonly string[]): void {
  const request = earlyPreflightRequest(argv);
  if (request) runPreflight(request, earlyRunner).catch(() => undefined);
}

/** The request withPreflight will make for ARGV, when the arguments are plain enough to tell. */
export function earlyPreflightRequest(argv: readonly string[]): PreflightRequest | null {
  if (argv[0] !== 'generate' && argv[0] !== 'inspect') return null;
  const target = argv[1];
  if (!target || target.startsWith('-')) return null;
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '--no-preflight' || a.startsWith('--preflight=') || a === '--preflight' || a === '--'))
    return null;
  const flags = flagValues(argv.slice(2), ['--python-home', '--egg-cache', '--site-dir']);
  if (!flags) return null;
  const pythonHome = flags.get('--python-home') ?? [];
  const eggCache = flags.get('--egg-cache') ?? [];
  if (pythonHome.length > 1 || eggCache.length > 1) return null;
  const root = path.resolve(target);
  if (!isEnvironment(root)) return null;
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
    environments: [root],
    pythonHome: pythonHome[0] ?? null,
    siteDirs: flags.get('--site-dir') ?? [],
    eggCache: path.resolve(eggCache[0] ?? path.join(root, '.egg-cache')),
    asUser,
    svnBindings: DEBIAN_SVN_BINDINGS,
  };
}

/**
 * The values of NAMES given as `--flag VALUE` or `--flag=VALUE`; null when the arguments use a
 * form this guess does not follow (camelCase spellings, a value that looks like a flag, several
 * values after one --site-dir), so no early run is started.
 */
function flagValues(args: readonly string[], names: readonly string[]): Map<string, string[]> | null {
  const values = new Map<string, string[]>();
  const add = (name: string, value: string) => values.set(name, [...(values.get(name) ?? []), value]);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (/^--(pythonHome|eggCache|siteDir)\b/.test(arg)) return null;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!names.includes(name)) continue;
    if (eq > 0) {
      add(name, arg.slice(eq + 1));
      continue;
    }
    const value = args[i + 1];
    if (value === undefined || value.startsWith('-')) return null;
    add(name, value);
    i++;
    // yargs reads every word after --site-dir (an array flag) until the next flag as its values.
    if (name === '--site-dir' && args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) return null;
  }
  return values;
}

/** The test Trac makes (trac/env.py): VERSION's first line, right-stripped. */
function isEnvironment(dir: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path.join(dir, 'VERSION'), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return false;
    const buffer = Buffer.alloc(256);
    const text = buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    return (text.split('\n')[0] ?? '').trimEnd() === ENVIRONMENT_VERSION;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
