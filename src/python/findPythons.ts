import fs from 'fs-extra';
import path from 'node:path';

/**
 * Finding the interpreters that can run Trac: `--python-home`, $VIRTUAL_ENV, the virtualenvs
 * beside and above an environment, those in /opt, /srv, /usr/local and the environment owner's
 * home (two levels deep), `python3` on PATH and /usr/bin/python3. Each is asked once,
 * with one short program, whether it imports trac. Bounded: a few directories, one level deep,
 * at most MAX_CANDIDATES interpreters, each with a timeout.
 */

/** Runs an interpreter; injected so unit tests can fake it (the real one is execa). */
export type PythonRunner = (file: string, args: string[]) => Promise<{ exitCode: number; stdout: string }>;

export interface PythonFound {
  /** The interpreter that was asked. */
  executable: string;
  /** The virtualenv directory (for python-home=), or null for an interpreter outside one. */
  home: string | null;
  pythonVersion: string;
  /** Trac's version, or null when `import trac` failed. */
  tracVersion: string | null;
  /** The interpreter the virtualenv was made from (sys._base_executable), when known. */
  baseExecutable: string | null;
}

const MAX_CANDIDATES = 12;
const MAX_ENTRIES_PER_DIR = 200;

/** One program, one JSON line: what this interpreter is and whether it can import trac. */
export const PROBE_PROGRAM = [
  'import json, sys',
  'info = {"python": "%d.%d.%d" % sys.version_info[:3], "prefix": sys.prefix,',
  '        "base_prefix": getattr(sys, "base_prefix", sys.prefix),',
  '        "base_executable": getattr(sys, "_base_executable", None), "trac": None}',
  'try:',
  '    import trac',
  '    info["trac"] = getattr(trac, "__version__", "unknown")',
  'except Exception:',
  '    pass',
  'sys.stdout.write(json.dumps(info))',
].join('\n');

/** A directory is a virtualenv when it has bin/python and pyvenv.cfg. */
export async function isVirtualenv(dir: string): Promise<boolean> {
  const [python, cfg] = await Promise.all([
    fs.pathExists(path.join(dir, 'bin', 'python')),
    fs.pathExists(path.join(dir, 'pyvenv.cfg')),
  ]);
  return python && cfg;
}

/** Virtualenvs that are, or sit directly in, the environment's directory and its two parents. */
export async function venvsNear(envPath: string): Promise<string[]> {
  const found: string[] = [];
  let dir = path.resolve(envPath);
  for (let level = 0; level < 3; level++) {
    if (await isVirtualenv(dir)) found.push(dir);
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.slice(0, MAX_ENTRIES_PER_DIR).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
      const candidate = path.join(dir, entry.name);
      if (await isVirtualenv(candidate)) found.push(candidate);
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return found;
}

/** Where administrators put virtualenvs besides the environment's own neighbourhood. */
export const WELL_KNOWN_VENV_ROOTS = ['/opt', '/srv', '/usr/local'];

/**
 * Virtualenvs at most two levels below each root (/opt/venv, /opt/trac/venv), in name order,
 * hidden directories skipped; bounded per directory.
 */
export async function venvsUnder(roots: readonly string[], depth = 2): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, level: number): Promise<void> => {
    if (await isVirtualenv(dir)) {
      found.push(dir);
      return;
    }
    if (level >= depth) return;
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort().slice(0, MAX_ENTRIES_PER_DIR);
    for (const name of dirs) await walk(path.join(dir, name), level + 1);
  };
  for (const root of roots) await walk(path.resolve(root), 0);
  return found;
}

/** The home directory of the user owning `file` (from /etc/passwd, read bounded), or null. */
export async function ownerHome(file: string, passwd = '/etc/passwd'): Promise<string | null> {
  const stat = await fs.stat(file).catch(() => null);
  if (!stat || stat.uid === 0) return null;
  const text = await fs.readFile(passwd, 'utf8').then((t) => t.slice(0, 1_000_000), () => '');
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[2] === String(stat.uid) && fields[5] && fields[5] !== '/' && path.isAbsolute(fields[5])) return fields[5];
  }
  return null;
}

/** `name` on PATH, as the shell would find it, or null. */
export async function onPath(name: string, searchPath = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    const ok = await fs.access(candidate, fs.constants.X_OK).then(() => true, () => false);
    if (ok) return candidate;
  }
  return null;
}

export interface FindOptions {
  /** The environment or parent directory being deployed. */
  near: string;
  /** --python-home, when given: asked first. */
  pythonHome?: string | undefined;
  run: PythonRunner;
  /** Defaults to process.env.VIRTUAL_ENV and PATH. */
  env?: { VIRTUAL_ENV?: string | undefined; PATH?: string | undefined };
  /** The interpreter mod_wsgi embeds on Debian. */
  systemPython?: string;
  /** Searched for virtualenvs after the environment's neighbourhood; default /opt, /srv, /usr/local and the environment owner's home. */
  wellKnown?: string[];
}

/** Every candidate interpreter, asked in order; those that import trac come first. */
export async function findPythons(options: FindOptions): Promise<PythonFound[]> {
  const env = options.env ?? process.env;
  const homes: string[] = [];
  if (options.pythonHome) homes.push(path.resolve(options.pythonHome));
  if (env.VIRTUAL_ENV) homes.push(path.resolve(env.VIRTUAL_ENV));
  homes.push(...(await venvsNear(options.near)));
  const owner = options.wellKnown ? null : await ownerHome(options.near);
  homes.push(...(await venvsUnder(options.wellKnown ?? [...WELL_KNOWN_VENV_ROOTS, ...(owner ? [owner] : [])])));
  const executables: { executable: string; home: string | null }[] = [];
  for (const home of [...new Set(homes)]) {
    if (await isVirtualenv(home)) executables.push({ executable: path.join(home, 'bin', 'python'), home });
  }
  const python3 = await onPath('python3', env.PATH ?? '');
  if (python3) executables.push({ executable: python3, home: null });
  executables.push({ executable: options.systemPython ?? '/usr/bin/python3', home: null });

  const seen = new Set<string>();
  const found: PythonFound[] = [];
  for (const candidate of executables.slice(0, MAX_CANDIDATES * 2)) {
    if (found.length >= MAX_CANDIDATES) break;
    const info = await probe(candidate.executable, options.run);
    if (!info) continue;
    // An interpreter on PATH may live inside a virtualenv: then it is that virtualenv.
    const home = candidate.home ?? (info.prefix !== info.base_prefix ? info.prefix : null);
    const key = home ? `venv:${home}` : `python:${info.prefix}:${info.python}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({
      executable: candidate.executable,
      home,
      pythonVersion: info.python,
      tracVersion: info.trac,
      baseExecutable: info.base_executable,
    });
  }
  return [...found.filter((p) => p.tracVersion), ...found.filter((p) => !p.tracVersion)];
}

interface ProbeResult {
  python: string;
  prefix: string;
  base_prefix: string;
  base_executable: string | null;
  trac: string | null;
}

async function probe(executable: string, run: PythonRunner): Promise<ProbeResult | null> {
  const exists = await fs.access(executable, fs.constants.X_OK).then(() => true, () => false);
  if (!exists) return null;
  try {
    const result = await run(executable, ['-c', PROBE_PROGRAM]);
    if (result.exitCode !== 0) return null;
    const parsed = JSON.parse(result.stdout) as Partial<ProbeResult>;
    if (typeof parsed.python !== 'string' || typeof parsed.prefix !== 'string') return null;
    return {
      python: parsed.python,
      prefix: parsed.prefix,
      base_prefix: typeof parsed.base_prefix === 'string' ? parsed.base_prefix : parsed.prefix,
      base_executable: typeof parsed.base_executable === 'string' ? parsed.base_executable : null,
      trac: typeof parsed.trac === 'string' ? parsed.trac : null,
    };
  } catch {
    return null;
  }
}

/** The real runner: execa with a timeout, no stdin, never throwing on a non-zero exit. */
export async function execaPythonRunner(file: string, args: string[]): Promise<{ exitCode: number; stdout: string }> {
  const { execa } = await import('execa');
  const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 15_000, env: { PYTHONDONTWRITEBYTECODE: '1' } });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout) };
}
