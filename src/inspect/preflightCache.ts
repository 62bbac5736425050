import { spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { cacheDirectory, cachedEntrySync, changedSince, fingerprint, pythonVariables, removeEntry, storeEntry, usableCacheDirectory, usableCacheDirectorySync } from '../python/answerCache.js';
import { PYTHON_PROGRAMS_DIR } from '../python/askPython.js';
import type { PreflightEnvironment, PreflightRequest, PreflightResult } from '../python/preflight.js';
import { VERSION } from '../version.js';
import type { EnvironmentInfo } from './types.js';

/**
 * Trac's verdict on one environment (python/preflight.py) costs a Python process that imports
 * Trac and opens the environment: most of what `inspect ENV` and `generate ENV` take. It is kept
 * in the cache deploy keeps its htdocs answer in (python/answerCache.ts: same directory, same
 * fingerprint of paths, same atomic entries), and served only while nothing it depends on
 * changed: the question (interpreter, environment, site dirs, Subversion bindings offered, egg
 * cache, the user the check runs as with its uid, gid and groups, Python's import variables,
 * the program) and the stamps (inode, mode, owner, size, times) of everything Trac read: the
 * environment directory, VERSION, trac.ini and every [inherit] file, the plugins directories and
 * their entries (and their __pycache__ with its entries: the daemon writes a single-file plugin's
 * bytecode there, and Python loads it), the SQLite database with its -wal/-shm/-journal files
 * and directory, files/attachments and the attachment it found, the repositories' directories,
 * the egg cache, the interpreter, every sys.path entry and Trac's package, Debian's Subversion
 * bindings, /etc/passwd and /etc/group, and the program; and the inode, mode, owner and ctime only (Trac's
 * answer is whether it may write or pass them; ctime catches an ACL) of the log directory and the
 * log file Trac named, and of every directory above each of these paths (answerCache.ts
 * accessStamp: a sticky world-writable directory by mode and owner only; the log file's ctime
 * only when it is not that of its last write, so the lines Trac appends to its log all day, the
 * daemon's and trac-admin's, leave the verdict kept). What those stamps cannot see (an ACL
 * change followed by a write) is closed by making Trac's log check again on each lookup, as the
 * user Trac was asked as (logStillWritable): a verdict is served only while it still holds.
 *
 * Only an SQLite environment is served from the cache, by Trac's own word (python/preflight.py
 * reports the scheme of its [trac] database, read through every [inherit] file): a PostgreSQL or
 * MySQL verdict says whether the server answered, which no file here can tell, so Trac is asked
 * again every time. Only a verdict without an error is kept: an error may be passing (database
 * is locked, too many open files, a repository on a mount not there yet), and an administrator
 * fixing one expects Trac asked again. A plugins directory holding a symbolic link or a
 * directory (an unpacked egg) makes the verdict not kept: their contents are not stamped.
 */
export interface VerdictQuestion {
  kind: 'preflight-verdict';
  /** An entry of another trac-deploy, or of another layout of entries, is not used. */
  schema: number;
  tracDeploy: string;
  python: string;
  envPath: string;
  siteDirs: string[];
  svnBindings: string | null;
  eggCache: string;
  asUser: { user: string; group: string } | null;
  /** Who runs the check when asUser is null (and who calls setpriv when it is not). */
  uid: number | null;
  gid: number | null;
  groups: number[];
  env: Record<string, string>;
  program: string;
}

/** What the cache keeps: the result, and when Trac gave it. */
export interface KeptVerdict {
  result: Extract<PreflightResult, { status: 'ran' }>;
  askedAt: string;
}

const KIND = 'preflight';
/** Raise when what an entry holds or means changes. */
export const VERDICT_SCHEMA = 2;
const PROGRAM = path.join(PYTHON_PROGRAMS_DIR, 'preflight.py');
/**
 * A file whose inode changed this close before the question counts as changed while Trac read
 * it: the kernel stamps ctime from a coarse clock, and some filesystems keep whole seconds.
 */
export const SETTLE_MS = 2000;

export interface VerdictCache {
  /** The kept verdict when nothing it depends on changed, else null. */
  lookup(): Promise<KeptVerdict | null>;
  /**
   * Whether KEPT (found by an earlier lookup, e.g. one begun before the inspection) is still the
   * entry kept and nothing it read has changed since: its stamps taken again, synchronously.
   */
  stillKept(kept: KeptVerdict): boolean;
  /** Call right before asking: the stamps the answer is compared with after. */
  beforeAsking(): Promise<{ stamps: string; at: number }>;
  /** Keeps RESULT unless anything it read changed while it was asked, or it is no verdict to keep. */
  remember(result: PreflightResult, before: { stamps: string; at: number }): Promise<boolean>;
}

/**
 * The cache for the preflight of ENV, or null when there is no usable cache directory (then
 * Trac is asked, as without a cache). Whether a verdict is kept is decided by Trac's answer
 * (remember, keepable).
 */
export async function verdictCache(env: EnvironmentInfo, request: PreflightRequest, python: string, dir?: string, settleMs = SETTLE_MS): Promise<VerdictCache | null> {
  // trac-deploy's own reading of trac.ini only adds stamps; whether the verdict is kept is
  // decided by what Trac answers (remember).
  const database = sqliteFile(env);
  const cache = await usableCacheDirectory(dir ?? cacheDirectory());
  if (!cache.dir) return null;
  const cacheDir = cache.dir;
  const question = verdictQuestion(env.path, request, python);
  const known = knownInputs(env, request, python, database);
  return {
    lookup: () => lookupIn(cacheDir, question, request.asUser),
    stillKept(kept) {
      try {
        return cachedEntrySync<KeptVerdict>(cacheDir, KIND, question)?.askedAt === kept.askedAt;
      } catch {
        return false;
      }
    },
    beforeAsking: async () => ({ stamps: await fingerprint(known.paths, known.dirsWithEntries, known.accessOnly), at: Date.now() }),
    async remember(result, before) {
      const kept = await keep(result, before);
      // An older verdict is never served once Trac gave one that is not kept: stamps that come
      // back to what they were need not mean the same state (a log file's ACL, accessStamp).
      if (!kept) await removeEntry(cacheDir, KIND, question).catch(() => undefined);
      return kept;
    },
  };

  /** Stores RESULT unless it is no verdict to keep or anything it read changed while it was asked. */
  async function keep(result: PreflightResult, before: { stamps: string; at: number }): Promise<boolean> {
    if (!keepable(result, env.path)) return false;
    // Changed while Trac read it (the environment's own files compared whole; what the answer
    // names, by its change time): the answer may be of the old state.
    if ((await fingerprint(known.paths, known.dirsWithEntries, known.accessOnly)) !== before.stamps) return false;
    const all = withAnswerInputs(known, result, env.path);
    if (hasUnstampedPlugins(all.dirsWithEntries)) return false;
    // Stamped before the last look for changes: what is stored is of the state Trac answered.
    const stamps = await fingerprint(all.paths, all.dirsWithEntries, all.accessOnly);
    if (await changedSince(all.paths, all.dirsWithEntries, before.at - settleMs)) return false;
    const kept: KeptVerdict = { result, askedAt: new Date(before.at).toISOString() };
    await storeEntry(cacheDir, KIND, { question, ...all, answer: kept }, stamps);
    return true;
  }
}

/** The question a verdict on ENV_PATH is kept under: everything but the stamps. */
export function verdictQuestion(envPath: string, request: PreflightRequest, python: string): VerdictQuestion {
  return {
    kind: 'preflight-verdict',
    schema: VERDICT_SCHEMA,
    tracDeploy: VERSION,
    python,
    envPath,
    siteDirs: request.siteDirs,
    svnBindings: request.svnBindings,
    eggCache: request.eggCache,
    asUser: request.asUser,
    uid: process.getuid?.() ?? null,
    gid: process.getgid?.() ?? null,
    groups: [...(process.getgroups?.() ?? [])].sort((a, b) => a - b),
    env: pythonVariables(),
    program: PROGRAM,
  };
}

/**
 * The verdict kept for QUESTION when nothing it read has changed and Trac's log check still
 * passes (logStillWritable), else null. Needs no inspection of the environment: inspect and
 * generate begin it before they inspect (preflight.ts recallEarly). The entry is read and its
 * paths stamped synchronously (a few dozen stats, under a millisecond), so that the log check,
 * a child process when root, is under way before this returns and runs while they inspect.
 */
export function lookupVerdict(question: VerdictQuestion, asUser: PreflightRequest['asUser'], dir?: string): Promise<KeptVerdict | null> {
  const cacheDir = usableCacheDirectorySync(dir ?? cacheDirectory()).dir;
  return cacheDir ? lookupIn(cacheDir, question, asUser) : Promise.resolve(null);
}

function lookupIn(cacheDir: string, question: VerdictQuestion, asUser: PreflightRequest['asUser']): Promise<KeptVerdict | null> {
  let kept: KeptVerdict | null;
  try {
    kept = cachedEntrySync<KeptVerdict>(cacheDir, KIND, question);
  } catch {
    kept = null;
  }
  if (!kept) return Promise.resolve(null);
  const verdict = kept;
  return logStillWritable(verdict.result, question.envPath, asUser).then((holds) => (holds ? verdict : null));
}

/** What a verdict depends on (see answerCache.ts fingerprint). */
export interface Inputs {
  paths: string[];
  dirsWithEntries: string[];
  accessOnly: string[];
}

/** The SQLite database file of ENV, or null when it is not SQLite (or unknown). */
function sqliteFile(env: EnvironmentInfo): string | null {
  const db = env.database;
  if (!db || db.scheme !== 'sqlite' || !db.name) return null;
  return path.resolve(env.path, db.name);
}

/** What Trac reads that is known before asking it: what the run shares, and the environment's own. */
export function knownInputs(env: EnvironmentInfo, request: PreflightRequest, python: string, database: string | null): Inputs {
  return unionOf(sharedKnownInputs(request, python), ownKnownInputs(env, database));
}

/**
 * What Trac reads for every environment of a run, known before asking it: the egg cache, the
 * interpreter and its virtualenv, the site dirs, Debian's Subversion bindings, /etc/passwd and
 * /etc/group, the program, and every directory above them.
 */
export function sharedKnownInputs(request: PreflightRequest, python: string): Inputs {
  const home = request.pythonHome;
  const bindings = request.svnBindings;
  // The egg cache whole (made or replaced: another answer); the directory it is made in for who
  // may pass or write it (withAncestors), not whole: for a directory of environments that is the
  // directory itself, which gets new entries (directoryVerdicts.ts leaves it to a test made as
  // the user on each lookup).
  const paths = [
    request.eggCache,
    ...(path.isAbsolute(python) ? [python] : []),
    ...(home ? [home, path.join(home, 'pyvenv.cfg')] : []),
    ...request.siteDirs,
    ...(bindings ? [bindings, path.join(bindings, 'svn'), path.join(bindings, 'libsvn')] : []),
    '/etc/passwd',
    '/etc/group',
    PROGRAM,
  ];
  return withAncestors(paths, [], []);
}

/** What Trac reads of one environment, known before asking it (knownInputs without what the run shares). */
export function ownKnownInputs(env: EnvironmentInfo, database: string | null): Inputs {
  const own = (...parts: string[]) => path.join(env.path, ...parts);
  const unreadableInherits = env.problems.filter((p) => p.code === 'inherit-unreadable' && p.path).map((p) => p.path!);
  const pluginsDirs = [own('plugins'), ...(env.inherit.pluginsDir ? [path.resolve(env.path, env.inherit.pluginsDir)] : [])];
  const paths = [
    env.path,
    own('VERSION'),
    own('conf'),
    own('conf', 'trac.ini'),
    ...env.inherit.files,
    ...unreadableInherits,
    ...withBytecodeDirs(pluginsDirs),
    ...(database ? [database, `${database}-wal`, `${database}-shm`, `${database}-journal`, path.dirname(database)] : []),
    own('files'),
    own('files', 'attachments'),
  ];
  // The log directory matters for who may write it (Trac writes its log there all day).
  return withAncestors(paths, withBytecodeDirs(pluginsDirs), [own('log')]);
}

/**
 * PATHS stamped whole, DIRS_WITH_ENTRIES with their entries, ACCESS (and every directory above
 * each of them all: the web server user reaches each through them) for who may pass or write.
 */
export function withAncestors(paths: string[], dirsWithEntries: string[], access: string[]): Inputs {
  const accessOnly = new Set(access);
  // Each path's chain up to the first directory already listed (the rest of it is, too).
  const above = new Set<string>();
  for (const p of [...paths, ...access]) {
    if (!path.isAbsolute(p)) continue;
    for (let dir = path.dirname(p); !above.has(dir); dir = path.dirname(dir)) {
      above.add(dir);
      if (dir === path.dirname(dir)) break;
    }
  }
  for (const dir of above) accessOnly.add(dir);
  return { paths: [...new Set(paths)], dirsWithEntries: [...new Set(dirsWithEntries)], accessOnly: [...accessOnly] };
}

/** Both sets of inputs together. */
export function unionOf(a: Inputs, b: Inputs): Inputs {
  return {
    paths: [...new Set([...a.paths, ...b.paths])],
    dirsWithEntries: [...new Set([...a.dirsWithEntries, ...b.dirsWithEntries])],
    accessOnly: [...new Set([...a.accessOnly, ...b.accessOnly])],
  };
}

const strings = (list: unknown): string[] => (Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && p.length > 0) : []);

/** KNOWN with what Trac's answer named (withAnswerInputs: the run's part and the environment's). */
function withAnswerInputs(known: Inputs, result: Extract<PreflightResult, { status: 'ran' }>, envPath: string): Inputs {
  return unionOf(unionOf(known, sharedAnswerInputs(result)), ownAnswerInputs(result.environments[0]!, envPath));
}

/**
 * What Trac's first line named, the same for every environment: the interpreter, its sys.path
 * entries and Trac's package; and in each sys.path directory the files site.py executes or
 * follows (*.pth, *.egg-link): one edited in place (`setup.py develop` appends to
 * easy-install.pth) changes what Python imports without changing its directory's stamp.
 */
export function sharedAnswerInputs(result: Extract<PreflightResult, { status: 'ran' }>): Inputs {
  const named = [result.python.executable, ...strings(result.inputs)].filter((p) => path.isAbsolute(p));
  return withAncestors([...named, ...pathFilesIn(strings(result.inputs).filter((p) => path.isAbsolute(p)))], [], []);
}

function pathFilesIn(dirs: string[]): string[] {
  return dirs.flatMap((dir) => {
    try {
      return readdirSync(dir)
        .filter((name) => name.endsWith('.pth') || name.endsWith('.egg-link'))
        .map((name) => path.join(dir, name));
    } catch {
      return [];
    }
  });
}

/** What Trac's answer on one environment named. */
export function ownAnswerInputs(answer: PreflightEnvironment, envPath: string): Inputs {
  const resolve = (p: string) => path.resolve(envPath, p);
  // The database Trac opens, and SQLite's companions beside the file it really is (SQLite
  // resolves a symbolic link to the database and makes -wal/-shm/-journal beside its target).
  const database = typeof answer.databaseFile === 'string' && answer.databaseFile ? resolve(answer.databaseFile) : null;
  let real: string | null = null;
  if (database) {
    try {
      real = realpathSync.native(database);
    } catch {
      real = database;
    }
  }
  const databaseFiles = database && real ? [database, real, path.dirname(database), path.dirname(real), `${real}-wal`, `${real}-shm`, `${real}-journal`] : [];
  const pluginsDirs = withBytecodeDirs(strings(answer.pluginsDirs).map(resolve));
  const repositories = (Array.isArray(answer.repositories) ? answer.repositories : []).flatMap((r) => (r && typeof r.dir === 'string' && r.dir ? repositoryFiles(resolve(r.dir)) : []));
  const named = [...strings(answer.inputs), ...strings(answer.configFiles), ...pluginsDirs, ...repositories].map(resolve);
  const access = strings(answer.accessInputs).map(resolve);
  return withAncestors([...named, ...databaseFiles], pluginsDirs, access);
}

/**
 * What Trac's repository backends open in a repository directory besides the directory itself
 * (Subversion: its format files and db/, Git: HEAD and config, bare or not), stamped whole (mode
 * and owner among it): a repository closed inside (chmod 000 REPO/db) fails Trac's open while
 * the directory's own stamp stays the same. Their directories above are stamped for access
 * (withAncestors), so a commit (which renames files into db/) asks Trac again too.
 */
function repositoryFiles(dir: string): string[] {
  return ['format', 'db/fs-type', 'db/format', 'db/uuid', 'HEAD', 'config', '.git/HEAD', '.git/config'].map((name) => path.join(dir, name));
}

/** Trac's log check (python/preflight.py log_problem) made again: as the user it was asked as. */
const LOG_CHECK = 'if test -e "$1"; then test -w "$1"; else test -d "$2" && test -w "$2" && test -x "$2"; fi';

/**
 * Whether the log check Trac made for the verdict (python/preflight.py log_problem: the log
 * file writable when it exists, else its directory writable and searchable) still passes, made
 * again as the same user: in this process when Trac was asked as this user (access(2), as
 * Python's os.access), else through setpriv as the web server user (one small process, no
 * Python). The stamps of the log file cannot see an ACL change followed by a write
 * (answerCache.ts accessStamp), nor a read-only remount; this sees both. True when Trac named
 * no log file (log_type is not file); false (ask Trac again) when unsure.
 */
export async function logStillWritable(result: Extract<PreflightResult, { status: 'ran' }>, envPath: string, asUser: { user: string; group: string } | null): Promise<boolean> {
  const check = logCheckOf(result.environments[0]?.accessInputs, envPath);
  if (check === 'none') return true;
  if (check === 'unsure') return false;
  if (asUser) return asUserPasses(asUser, check.file, check.dir);
  return logCheckPassesHere(check);
}

/**
 * The log file and directory of Trac's log check, from the paths Trac named for it (an answer's
 * accessInputs, relative to ENV_PATH or absolute); 'none' when Trac named no log file, 'unsure'
 * when its naming is not understood.
 */
export function logCheckOf(accessInputs: unknown, envPath: string): { file: string; dir: string } | 'none' | 'unsure' {
  const named = strings(accessInputs).map((p) => path.resolve(envPath, p));
  if (named.length === 0) return 'none';
  const [file, dir] = named;
  if (named.length !== 2 || !file || !dir) return 'unsure';
  return { file, dir };
}

/** Trac's log check made in this process (access(2), as Python's os.access): for a verdict asked as this user. */
export function logCheckPassesHere({ file, dir }: { file: string; dir: string }): boolean {
  const passes = (check: () => unknown): boolean => {
    try {
      check();
      return true;
    } catch {
      return false;
    }
  };
  if (passes(() => statSync(file))) return passes(() => accessSync(file, constants.W_OK));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  return isDir && passes(() => accessSync(dir, constants.W_OK | constants.X_OK));
}

function asUserPasses(asUser: { user: string; group: string }, file: string, dir: string): Promise<boolean> {
  const argv = [`--reuid=${asUser.user}`, `--regid=${asUser.group}`, '--init-groups', '--', '/bin/sh', '-c', LOG_CHECK, 'sh', file, dir];
  // Anything but exit 0 (refused, or setpriv could not run or was killed): ask Trac again. Its
  // exit status is the answer: no pipes to make (it runs while inspect and generate inspect).
  return new Promise((resolve) => {
    const child = spawn('setpriv', argv, { stdio: 'ignore', timeout: 30_000, windowsHide: true });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * The plugins directories with their __pycache__: Python loads a single-file plugin's bytecode
 * from there when it matches the source, and the daemon (or an administrator's trac-admin) makes
 * it at the first load. Its entries are stamped as the plugins' are, so the verdict stays kept
 * once it is made, and is asked again whenever a file in it changes.
 */
function withBytecodeDirs(pluginsDirs: string[]): string[] {
  return pluginsDirs.flatMap((dir) => [dir, path.join(dir, '__pycache__')]);
}

/**
 * Whether a plugins directory holds a symbolic link or a directory (an unpacked egg): Trac
 * loads what they hold, which the stamps of the directory's entries do not cover. A
 * __pycache__ whose entries are stamped too (withBytecodeDirs) is covered.
 */
export function hasUnstampedPlugins(dirs: string[]): boolean {
  const stamped = new Set(dirs);
  for (const dir of dirs) {
    let entries: Dirent[] = [];
    try {
      // Most environments have no __pycache__ (many no plugins directory): no exception for those.
      if (statSync(dir, { throwIfNoEntry: false })?.isDirectory()) entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      entries = [];
    }
    const unstamped = (e: Dirent) => e.isSymbolicLink() || (e.isDirectory() && !(e.name === '__pycache__' && stamped.has(path.join(dir, e.name))));
    if (entries.some(unstamped)) return true;
  }
  return false;
}

/** Only a whole answer is kept: Trac ran, answered for this environment, and did not crash on it. */
export function keepable(result: PreflightResult, envPath: string): result is Extract<PreflightResult, { status: 'ran' }> {
  if (result.status !== 'ran' || result.environments.length !== 1) return false;
  const answer = result.environments[0];
  if (!answer || answer.path !== envPath) return false;
  // Trac's word: SQLite only (a server's verdict is of the moment), and the file it opens.
  if (answer.databaseScheme !== 'sqlite' || typeof answer.databaseFile !== 'string' || !answer.databaseFile) return false;
  // An error may be passing (database is locked, too many open files, an unmounted repository).
  if (answer.problems.some((p) => p.severity === 'error')) return false;
  // Without what Trac read beyond the environment, the key would miss it.
  return Array.isArray(result.inputs) && result.inputs.length > 0 && Array.isArray(answer.inputs);
}
