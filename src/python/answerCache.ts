import { createHash, randomBytes } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, type BigIntStats, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PYTHON_PROGRAMS_DIR, pythonFor } from './askPython.js';
import { askingUser, type AskingUser } from './askingUser.js';
import type { HtdocsAnswer } from './htdocsDirs.js';

/**
 * Asking the environment's Python costs about half a second (Trac loads every component). Its
 * answer only changes when what Trac reads to make it changes, so it is kept in a cache of the
 * user who runs trac-deploy (not in a TARGET: any TARGET reuses it), under a key made of the
 * question (interpreter, environment, the variables that steer Python's import path, our
 * program), with a fingerprint of everything the answer depends on: the environment's VERSION,
 * trac.ini and every file it inherits (also those missing now), its plugins directories and
 * their entries, the interpreter, every directory on its sys.path (site-packages among them:
 * their mtime changes when anything is installed or removed) and every import path it would
 * read were it there (the user's site-packages before `pip install --user` makes it), Trac's
 * package, and the program
 * that asked. Any difference means asking again.
 */
export interface Question {
  python: string;
  envPath: string;
  /** Variables that change what the interpreter imports. */
  env: Record<string, string>;
  program: string;
  /**
   * Who Python runs as, when running as root (askingUser.ts): an answer asked as another user
   * is another question (what Trac loads depends on what that user may read).
   */
  user?: AskingUser;
}

/** The paths fingerprinted; directories listed in `dirsWithEntries` count their entries too. */
export type CachedAnswer = CacheEntry<Question, HtdocsAnswer>;

const PROGRAM = 'htdocs_dirs.py';
/**
 * Variables that change what the interpreter imports or how it runs: the import path, the
 * shared libraries it loads (a Subversion or database binding), the warnings it turns into
 * errors, and HOME (the user site directory, ~/.python-eggs). Not PYTHONPYCACHEPREFIX: Trac is
 * asked without it (htdocsDirs.ts, preflight.ts), as the daemon runs, reading bytecode beside
 * the sources.
 */
const PYTHON_VARIABLES = ['PATH', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONUSERBASE', 'PYTHONNOUSERSITE', 'PYTHONSAFEPATH', 'PYTHONPLATLIBDIR', 'PYTHONWARNINGS', 'LD_LIBRARY_PATH', 'LD_PRELOAD', 'HOME'];
const MAX_ENTRY = 4 * 1024 * 1024;

/** The question for ENV; as root, with the user it is asked as (askingUser: may refuse, exit 2). */
export function questionFor(pythonHome: string | null | undefined, envPath: string, env: NodeJS.ProcessEnv = process.env, user: AskingUser | null = askingUser(envPath)): Question {
  return { python: pythonFor(pythonHome).command, envPath: path.resolve(envPath), env: pythonVariables(env), program: path.join(PYTHON_PROGRAMS_DIR, PROGRAM), ...(user ? { user } : {}) };
}

/** Who the user's groups and name come from: a change there is a change of what that user may read. */
const ACCOUNT_FILES = ['/etc/passwd', '/etc/group'];

/** The variables that change what an interpreter imports, as set now. */
export function pythonVariables(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const name of PYTHON_VARIABLES) if (env[name] !== undefined) vars[name] = env[name];
  return vars;
}

/** What can change the answer and is known before asking: the environment's own files. */
export function environmentInputs(envPath: string): { paths: string[]; dirsWithEntries: string[] } {
  const plugins = path.join(envPath, 'plugins');
  return { paths: [path.join(envPath, 'VERSION'), path.join(envPath, 'conf', 'trac.ini'), plugins], dirsWithEntries: [plugins] };
}

/**
 * What can change the answer and is known before Python is asked: the environment's own files,
 * the interpreter and our program, and, for a virtualenv's interpreter (DIR/bin/python), its
 * site-packages and Trac's package there (what a pip install changes). Stamped before Python
 * starts and again before the answer is kept: a change while Python read them keeps nothing.
 */
export function questionInputs(question: Question): { paths: string[]; dirsWithEntries: string[] } {
  const own = environmentInputs(question.envPath);
  const paths = [...own.paths, question.program, ...(question.user ? ACCOUNT_FILES : [])];
  if (path.isAbsolute(question.python)) {
    paths.push(question.python);
    // Not a virtualenv's layout: its site-packages are stamped when the answer is kept.
    for (const site of virtualenvSitePackages(path.dirname(path.dirname(question.python)))) paths.push(site, path.join(site, 'trac'));
  }
  return { paths, dirsWithEntries: own.dirsWithEntries };
}

/** HOME/lib/pythonX.Y/site-packages of a virtualenv, one per Python version there; none when HOME has no lib. */
export function virtualenvSitePackages(home: string): string[] {
  const lib = path.join(home, 'lib');
  try {
    return readdirSync(lib)
      .filter((name) => /^python\d/.test(name))
      .sort()
      .map((name) => path.join(lib, name, 'site-packages'));
  } catch {
    return [];
  }
}

/** The files and directories whose change can change the answer. */
export function inputsOf(question: Question, answer: HtdocsAnswer, extra: { inheritFiles: string[]; pluginsDirs: string[] }): { paths: string[]; dirsWithEntries: string[] } {
  const own = environmentInputs(question.envPath);
  const dirsWithEntries = [...own.dirsWithEntries, ...extra.pluginsDirs];
  const paths = [
    ...own.paths,
    ...extra.inheritFiles,
    question.program,
    ...(question.user ? ACCOUNT_FILES : []),
    answer.python.executable,
    ...answer.python.sitePackages,
    ...(answer.python.path ?? []),
    ...(answer.python.absent ?? []),
    answer.trac.package,
    ...dirsWithEntries,
  ];
  return { paths: [...new Set(paths)], dirsWithEntries: [...new Set(dirsWithEntries)] };
}

/**
 * One hash of the stamps of PATHS (inode, mode, owner, size, times; a directory in
 * dirsWithEntries also of each entry) and of ACCESS_ONLY: paths that matter only for who may
 * pass through or write them, not for their size or content (see accessStamp).
 */
export async function fingerprint(paths: string[], dirsWithEntries: string[], accessOnly: string[] = []): Promise<string> {
  // Synchronous stats: a few dozen paths take well under a millisecond that way, where
  // fs/promises takes several and waits for every turn of the event loop.
  return fingerprintSync(paths, dirsWithEntries, accessOnly);
}

/**
 * The stats one look at the disk took, by path: fingerprintSync and changedSinceSync given the
 * same memo stat each path once (as at one instant), for several sets of paths that overlap.
 */
export type StatMemo = Map<string, Stats | BigIntStats | string[] | null>;

/** fingerprint, for a caller that cannot wait (a lookup made before anything else runs). */
export function fingerprintSync(paths: string[], dirsWithEntries: string[], accessOnly: string[] = [], memo?: StatMemo): string {
  const withEntries = new Set(dirsWithEntries);
  const own = new Set(paths);
  const access = accessOnly.filter((p) => !own.has(p)).map((p) => accessStamp(p, look(memo, 'b', p, () => statOrNull(p, true))));
  const stamps = paths.map((p) => {
    const stat = look(memo, 's', p, () => statOrNull(p));
    const lines = [stamp(p, stat)];
    // What is not a directory has no entries (readdir would fail): not asked.
    if (withEntries.has(p) && stat?.isDirectory()) {
      for (const name of entriesOf(p, memo)) lines.push(stamp(path.join(p, name), look(memo, 'l', path.join(p, name), () => lstatOrNull(path.join(p, name)))));
    }
    return lines.join('\n');
  });
  return digest(stamps, access);
}

/** PATHS that MEMO holds as missing (stat failed) when fingerprintSync stamped them whole. */
export function missingIn(memo: StatMemo, paths: string[]): string[] {
  return paths.filter((p) => memo.has(`s\0${p}`) && memo.get(`s\0${p}`) === null);
}

/**
 * MEMO told that PATHS are missing, so that fingerprintSync stamps them so without a stat: for a
 * caller that knows they were missing when its stamps were taken and stamps their directory
 * whole in the same fingerprint (an entry made in it since changes the directory's mtime and so
 * the fingerprint, whatever is assumed here).
 */
export function assumeMissing(memo: StatMemo, paths: string[]): void {
  for (const p of paths) memo.set(`s\0${p}`, null);
}

/** The sorted entries of directory P (none when it cannot be read), through MEMO. */
function entriesOf(p: string, memo: StatMemo | undefined): string[] {
  return look(memo, 'd', p, () => (orNull(() => readdirSync(p)) ?? []).sort());
}

function look<T extends Stats | BigIntStats | string[] | null>(memo: StatMemo | undefined, kind: string, p: string, take: () => T): T {
  if (!memo) return take();
  const key = `${kind}\0${p}`;
  if (memo.has(key)) return memo.get(key) as T;
  const value = take();
  memo.set(key, value);
  return value;
}

/**
 * stat(2) of P, null when it cannot be stat'ed. A missing path is answered without an exception:
 * thousands of environments have a few missing each (-wal, -shm, -journal, __pycache__), and an
 * exception per path cost more than the stat.
 */
function statOrNull(p: string): Stats | null;
function statOrNull(p: string, bigint: true): BigIntStats | null;
function statOrNull(p: string, bigint = false): Stats | BigIntStats | null {
  try {
    return (bigint ? statSync(p, { bigint: true, throwIfNoEntry: false }) : statSync(p, { throwIfNoEntry: false })) ?? null;
  } catch {
    return null;
  }
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

function orNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

function digest(stamps: string[], access: string[]): string {
  const hash = createHash('sha256');
  for (const s of stamps) hash.update(s + '\n');
  if (access.length > 0) hash.update('access\n');
  for (const s of access) hash.update(s + '\n');
  return hash.digest('hex');
}

/**
 * Whether any of PATHS (a directory's entries too, for those in dirsWithEntries) had its inode
 * changed (ctime: content, mode, owner, links) at or after SINCE: an answer read from them then
 * may predate what the fingerprint would record.
 */
export async function changedSince(paths: string[], dirsWithEntries: string[], since: number): Promise<boolean> {
  // Synchronous stats, as fingerprint: one rule, and a directory of environments asks it for
  // thousands of environments, where a promise per stat costs more than the stat.
  return changedSinceSync(paths, dirsWithEntries, since);
}

/** changedSince, synchronously. */
export function changedSinceSync(paths: string[], dirsWithEntries: string[], since: number, memo?: StatMemo): boolean {
  const withEntries = new Set(dirsWithEntries);
  const recent = (stat: Stats | null): boolean => stat !== null && stat.ctimeMs >= since;
  return paths.some((p) => {
    const stat = look(memo, 's', p, () => statOrNull(p));
    if (recent(stat)) return true;
    if (!withEntries.has(p) || !stat?.isDirectory()) return false;
    return entriesOf(p, memo).some((name) => recent(look(memo, 'l', path.join(p, name), () => lstatOrNull(path.join(p, name)))));
  });
}

/**
 * The stamp of a path that matters only for who may pass through or write it: device, inode
 * (a file replaced, as logrotate does, is another file), mode, owner and group, and the change
 * time (ctime), which is all stat shows of an ACL set with setfacl: it changes neither mode nor
 * owner nor anything else stat reports (st_blocks neither: a small ACL lives in the inode).
 * - A world-writable sticky directory (/tmp, /var/tmp): not its ctime, which moves each time
 *   anyone makes a file in it.
 * - A regular file (a log Trac writes all day): its ctime only when it differs from its mtime.
 *   A write sets both to the same instant; a change of metadata (setfacl, chattr, a link)
 *   sets ctime alone. So lines appended to the log leave the stamp as it was, and an ACL change
 *   not yet followed by a write changes it. What this cannot see: an ACL change followed by a
 *   write before the next look (the daemon keeps its log open and writes on), or made within
 *   the same clock tick as a write; a caller that must not miss those re-tests the access
 *   itself (preflightCache.ts re-tests the log file as the web server user on each lookup).
 * - Any other directory: its ctime, always (an ACL change followed by a new entry would leave a
 *   directory's ctime equal to its mtime again). A directory of environments, whose entries
 *   change whenever one is added, is left out of the stamps of its environments' kept verdicts
 *   instead, which test for real that the environment can be reached (directoryVerdicts.ts).
 */
export function accessStamp(p: string, stat: BigIntStats | null): string {
  if (!stat) return `${p}\tmissing`;
  const id = `${p}\t${stat.dev}\t${stat.ino}\t${stat.mode}\t${stat.uid}\t${stat.gid}`;
  if (stat.isDirectory()) return (stat.mode & 0o1002n) === 0o1002n ? id : `${id}\t${stat.ctimeNs}`;
  if (stat.isFile() && stat.ctimeNs === stat.mtimeNs) return `${id}\twritten`;
  return `${id}\t${stat.ctimeNs}`;
}

function stamp(p: string, stat: Stats | null): string {
  return stat ? `${p}\t${stat.dev}\t${stat.ino}\t${stat.mode}\t${stat.uid}\t${stat.gid}\t${stat.size}\t${stat.mtimeMs}\t${stat.ctimeMs}` : `${p}\tmissing`;
}

/**
 * The cache directory of the user running trac-deploy: TRAC_DEPLOY_CACHE_DIR, else
 * /var/cache/trac-deploy for root, else $XDG_CACHE_HOME/trac-deploy (~/.cache/trac-deploy).
 */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRAC_DEPLOY_CACHE_DIR) return path.resolve(env.TRAC_DEPLOY_CACHE_DIR);
  if (process.getuid?.() === 0) return '/var/cache/trac-deploy';
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'trac-deploy');
}

/**
 * The cache directory, made 0700 when missing; null (with the reason) when it is not a real
 * directory owned by this user and closed to everyone else: then nothing is read or written.
 */
export async function usableCacheDirectory(dir: string): Promise<{ dir: string | null; reason: string | null }> {
  await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o700 }).catch(() => undefined);
  await fs.mkdir(dir, { mode: 0o700 }).catch(() => undefined);
  return cacheDirectoryVerdict(dir, await fs.lstat(dir).catch(() => null));
}

/** usableCacheDirectory, synchronously (see fingerprintSync); CREATE false: a missing one is not made (null). */
export function usableCacheDirectorySync(dir: string, { create = true }: { create?: boolean } = {}): { dir: string | null; reason: string | null } {
  if (create) {
    orNull(() => mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 }));
    orNull(() => mkdirSync(dir, { mode: 0o700 }));
  }
  return cacheDirectoryVerdict(dir, orNull(() => lstatSync(dir)));
}

function cacheDirectoryVerdict(dir: string, stat: Stats | null): { dir: string | null; reason: string | null } {
  const uid = process.getuid?.();
  if (!stat) return { dir: null, reason: `${dir} could not be made` };
  if (stat.isSymbolicLink() || !stat.isDirectory()) return { dir: null, reason: `${dir} is not a directory (a symbolic link is refused)` };
  if (uid !== undefined && stat.uid !== uid) return { dir: null, reason: `${dir} belongs to uid ${stat.uid}, not to this user` };
  if ((stat.mode & 0o077) !== 0) return { dir: null, reason: `${dir} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); chmod 700 it` };
  return { dir, reason: null };
}

/** One kept answer of any kind (deploy's htdocs question, the preflight's verdict). */
export interface CacheEntry<Q, A> {
  question: Q;
  paths: string[];
  dirsWithEntries: string[];
  /** Stamped for access only (see accessStamp). */
  accessOnly?: string[];
  fingerprint: string;
  answer: A;
}

function entryFile(dir: string, kind: string, question: unknown): string {
  return path.join(dir, `${kind}-${createHash('sha256').update(JSON.stringify(question)).digest('hex').slice(0, 40)}.json`);
}

/**
 * The answer kept under KIND for the same QUESTION when nothing it depends on changed: the
 * fingerprint of its paths, taken now, equals the one stored with it.
 */
export async function cachedEntry<A>(dir: string, kind: string, question: unknown): Promise<A | null> {
  const cached = entryFor<A>(await readOwnFile(entryFile(dir, kind, question)), question);
  if (!cached) return null;
  const now = await fingerprint(cached.paths, cached.dirsWithEntries, cached.accessOnly);
  return now === cached.fingerprint ? cached.answer : null;
}

/** cachedEntry, synchronously (see fingerprintSync). */
export function cachedEntrySync<A>(dir: string, kind: string, question: unknown, maxBytes = MAX_ENTRY): A | null {
  return cachedRecordSync<A>(dir, kind, question, maxBytes)?.answer ?? null;
}

/** cachedEntrySync, the whole entry (its paths and fingerprint with its answer); MAX_BYTES bounds the read. */
export function cachedRecordSync<A>(dir: string, kind: string, question: unknown, maxBytes = MAX_ENTRY): CacheEntry<unknown, A> | null {
  const cached = entryFor<A>(readOwnFileSync(entryFile(dir, kind, question), maxBytes), question);
  if (!cached) return null;
  return fingerprintSync(cached.paths, cached.dirsWithEntries, cached.accessOnly) === cached.fingerprint ? cached : null;
}

/** The entry in TEXT when it is whole and was kept for QUESTION (its stamps not yet compared). */
function entryFor<A>(text: string | null, question: unknown): CacheEntry<unknown, A> | null {
  if (text === null) return null;
  let cached: CacheEntry<unknown, A>;
  try {
    cached = JSON.parse(text) as CacheEntry<unknown, A>;
  } catch {
    return null;
  }
  if (!cached || !cached.answer || !Array.isArray(cached.paths) || !Array.isArray(cached.dirsWithEntries)) return null;
  if (cached.accessOnly !== undefined && !Array.isArray(cached.accessOnly)) return null;
  if (JSON.stringify(cached.question) !== JSON.stringify(question)) return null;
  return cached;
}

/**
 * Writes the entry atomically (a private temporary file renamed over it), with the fingerprint
 * given (taken when the answer was made) or taken now.
 */
export async function storeEntry<Q, A>(dir: string, kind: string, entry: Omit<CacheEntry<Q, A>, 'fingerprint'>, taken?: string): Promise<void> {
  const record: CacheEntry<Q, A> = { ...entry, fingerprint: taken ?? (await fingerprint(entry.paths, entry.dirsWithEntries, entry.accessOnly)) };
  await storeEntryText(dir, kind, entry.question, [JSON.stringify(record)]);
}

/**
 * Writes the entry for QUESTION from PIECES of its JSON text, joined (a large entry, a directory's
 * kept verdicts, written as it is made: never one string), atomically as storeEntry.
 */
export async function storeEntryText(dir: string, kind: string, question: unknown, pieces: Iterable<string>): Promise<void> {
  const file = entryFile(dir, kind, question);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    let text = '';
    for (const piece of pieces) {
      text += piece;
      if (text.length >= 65536) {
        await handle.write(text);
        text = '';
      }
    }
    if (text) await handle.write(text);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await fs.rename(temp, file).catch(async (error: unknown) => {
    await fs.rm(temp, { force: true });
    throw error;
  });
}

/** Removes the entry kept under KIND for QUESTION, if any. */
export async function removeEntry(dir: string, kind: string, question: unknown): Promise<void> {
  await fs.rm(entryFile(dir, kind, question), { force: true });
}

/** The kind of deploy's htdocs answers among the entries. */
const HTDOCS = 'htdocs';

/** The cached answer when it was given to the same question and nothing it depends on changed. */
export function cachedAnswer(dir: string, question: Question): Promise<HtdocsAnswer | null> {
  return cachedEntry<HtdocsAnswer>(dir, HTDOCS, question);
}

export function storeAnswer(dir: string, entry: Omit<CachedAnswer, 'fingerprint'>): Promise<void> {
  return storeEntry(dir, HTDOCS, entry);
}

/** Where the answer to QUESTION is kept in DIR, whether or not it is there. */
export function answerFile(dir: string, question: Question): string {
  return entryFile(dir, HTDOCS, question);
}

/** readOwnFile, synchronously. */
function readOwnFileSync(file: string, maxBytes = MAX_ENTRY): string | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    const uid = process.getuid?.();
    if (!stat.isFile() || stat.size > maxBytes || (uid !== undefined && stat.uid !== uid)) return null;
    return readFileSync(fd, 'utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** A regular file of ours, not through a symbolic link, bounded; null otherwise. */
async function readOwnFile(file: string): Promise<string | null> {
  let handle: FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const stat = await handle.stat();
    const uid = process.getuid?.();
    if (!stat.isFile() || stat.size > MAX_ENTRY || (uid !== undefined && stat.uid !== uid)) return null;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
