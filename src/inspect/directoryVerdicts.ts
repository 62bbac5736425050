import path from 'node:path';
import { checkAccess, type AccessNeed } from '../apache/userAccess.js';
import { statSync } from 'node:fs';
import { cacheDirectory, cachedRecordSync, changedSinceSync, fingerprintSync, removeEntry, storeEntry, usableCacheDirectory, type StatMemo } from '../python/answerCache.js';
import { runPreflight, type PreflightEnvironment, type PreflightRequest, type PreflightResult, type PreflightRunner, type WorkerHooks } from '../python/preflight.js';
import {
  hasUnstampedPlugins,
  keepable,
  logCheckOf,
  logCheckPassesHere,
  ownAnswerInputs,
  ownKnownInputs,
  SETTLE_MS,
  sharedAnswerInputs,
  sharedKnownInputs,
  unionOf,
  verdictQuestion,
  withAncestors,
  type Inputs,
  type VerdictQuestion,
} from './preflightCache.js';
import type { EnvironmentInfo, Inspection } from './types.js';

/**
 * Trac's verdicts on a directory of environments (inspect PARENT, generate PARENT), kept between
 * runs by the rules of one environment's kept verdict (preflightCache.ts: the same question, the
 * same stamps of the same paths, SQLite only, no error kept, no plugins directory with a link or
 * a directory, Trac's log check made again on each lookup as the user Trac was asked as), so that
 * a repeated run asks Trac only about the environments that are new or changed.
 *
 * One entry per directory question (the parent as inspected, the interpreter, the user, ... : the
 * single verdict's question with the parent in place of the environment), in the same cache
 * directory with the same ownership, permissions and atomic writes (answerCache.ts). What every
 * environment shares (the interpreter, its sys.path entries and Trac's package, the egg cache,
 * /etc/passwd, /etc/group, the program, the directories above them and above the parent) is
 * stamped once per run, as the entry's own fingerprint: when it changed, nothing is kept. Each
 * environment's own paths (relative to it, their lists shared between environments of the same
 * shape) are stamped per environment. A path both sets name is stamped at least as the single
 * verdict stamps it (whole where either stamps it whole).
 */
interface DirectoryQuestion extends Omit<VerdictQuestion, 'kind'> {
  kind: 'preflight-directory-verdicts';
}

/** One environment's kept verdict, as used here. */
interface KeptRecord {
  /** Index into lists: its own paths, relative to the environment where under it. */
  list: number;
  /** fingerprintSync of those paths when Trac answered. */
  stamps: string;
  askedAt: string;
  /** Trac's answer, without its path (the record's key). */
  answer: Omit<PreflightEnvironment, 'path'>;
}

/**
 * One environment's kept verdict as stored: the time and Trac's answer as indexes into tables
 * (an answer with its paths relative to the environment, without its project name: most
 * environments of a directory share one), so that 100,000 of them parse into little.
 */
interface StoredRecord {
  list: number;
  stamps: string;
  at: number;
  answer: number;
  project: string | null;
}

interface StoredLists {
  paths: string[];
  dirsWithEntries: string[];
  accessOnly: string[];
}

interface DirectoryAnswer {
  python: { executable: string; version: string };
  user: string | null;
  trac: string;
  svn: { inInterpreter: boolean; systemDir: string | null };
  inputs: string[];
  lists: StoredLists[];
  times: string[];
  answers: Omit<PreflightEnvironment, 'path'>[];
  /** By environment path. */
  environments: Record<string, StoredRecord>;
}

type Ran = Extract<PreflightResult, { status: 'ran' }>;

const KIND = 'preflight-dir';
/** An entry is read only up to this size: a few KiB per environment is far above a real one. */
const ENTRY_BASE = 4 * 1024 * 1024;
const ENTRY_PER_ENVIRONMENT = 4 * 1024;
const maxEntryBytes = (environments: number) => ENTRY_BASE + ENTRY_PER_ENVIRONMENT * environments;

export interface DirectoryOutcome {
  result: PreflightResult;
  /** For each environment, in order: when Trac gave its kept verdict, or null when asked in this run. */
  cachedFrom: (string | null)[];
}

/**
 * Trac's verdicts on INSPECTION's environments (a directory of them): the kept ones whose stamps
 * all hold and whose log check passes, Trac asked about the others (with the stamps of what it
 * read), and those of its new verdicts that may be kept, kept with the others for the next run.
 */
export async function askOrRecallDirectory(
  inspection: Inspection,
  request: PreflightRequest,
  python: string,
  keep: { dir?: string; settleMs?: number },
  run?: PreflightRunner,
): Promise<DirectoryOutcome> {
  const envs = inspection.environments;
  const none = () => envs.map(() => null);
  const cacheDir = (await usableCacheDirectory(keep.dir ?? cacheDirectory())).dir;
  if (!cacheDir || envs.length === 0) return { result: await runPreflight({ ...request, stamps: false }, run), cachedFrom: none() };
  const settleMs = keep.settleMs ?? SETTLE_MS;
  const question: DirectoryQuestion = { ...verdictQuestion(inspection.path, request, python), kind: 'preflight-directory-verdicts' };

  const stored = readEntry(cacheDir, question, envs.length);
  // An entry that reads but cannot be used (wellFormed cannot foresee every way one can be
  // broken) means Trac is asked, never a failed run.
  const kept = stored ? await recall(stored, envs, request.asUser).catch(none) : none();
  const toAsk = envs.flatMap((_env, index) => (kept[index] ? [] : [index]));
  if (stored && toAsk.length === 0) {
    const result: Ran = { status: 'ran', python: stored.python, user: stored.user, trac: stored.trac, svn: stored.svn, inputs: stored.inputs, environments: envs.map((env, i) => withPath(kept[i]!.answer, env.path)) };
    return { result, cachedFrom: kept.map((k) => k!.askedAt) };
  }

  // Stamped before Trac is asked: the answer is kept only when they are the same after. What
  // every environment shares, now; each environment's own right before it is handed to Python,
  // and checked again as its answer comes (preflightWorkers.ts hooks): that work is done while
  // Python opens the others, not before the first or after the last.
  const sharedKnown = unionOf(sharedKnownInputs(request, python), withAncestors([], [], [inspection.path]));
  const sharedBefore = stampsOf(sharedKnown);
  const at = Date.now();
  const since = at - settleMs;
  // Held only while an environment is in flight: 100,000 of them would be ~200 MB.
  const ownKnown: (Inputs | undefined)[] = new Array<Inputs | undefined>(toAsk.length);
  const ownBefore: (string | undefined)[] = new Array<string | undefined>(toAsk.length);
  /** Each candidate's own paths, relative, as an index into a table of lists (most environments share one). */
  const candidateLists = new ListTable();
  const candidates: ({ list: number; stamps: string } | null)[] = new Array<{ list: number; stamps: string } | null>(toAsk.length).fill(null);
  const hooks: WorkerHooks = {
    sending(j) {
      const env = envs[toAsk[j]!]!;
      const known = minus(ownKnownInputs(env, sqliteFile(env)), sharedKnown);
      ownKnown[j] = known;
      ownBefore[j] = stampsOf(known);
    },
    answered(j, line) {
      const known = ownKnown[j];
      const before = ownBefore[j];
      ownKnown[j] = undefined;
      ownBefore[j] = undefined;
      const envPath = envs[toAsk[j]!]!.path;
      if (!known || before === undefined || line.path !== envPath) return;
      const found = candidate(line as unknown as PreflightEnvironment, known, before, sharedKnown, since);
      candidates[j] = found ? { list: candidateLists.add(relativeLists(found.own, envPath)), stamps: found.stamps } : null;
    },
  };
  const asked = await runPreflight({ ...request, environments: toAsk.map((index) => envs[index]!.path), stamps: true }, run, hooks);
  if (asked.status !== 'ran') return { result: asked, cachedFrom: none() };

  // What every environment shares: changed while Trac was asked, nothing is kept.
  const sharedAll = unionOf(sharedKnown, sharedAnswerInputs(asked));
  // One look at each shared path (the interpreter, sys.path and the directories above) serves the three.
  const sharedMemo: StatMemo = new Map();
  const sharedStamps = stampsOf(sharedAll, sharedMemo);
  const sharedHeld = stampsOf(sharedKnown, sharedMemo) === sharedBefore && !changedSinceSync(sharedAll.paths, sharedAll.dirsWithEntries, since, sharedMemo);
  const records = new RecordTables();
  const lists = records.lists;
  // The verdicts kept from the earlier run stay kept when what they share is stamped the same.
  const carried = stored && sharedHeld && stored.fingerprint === sharedStamps;
  const cachedFrom: (string | null)[] = none();
  const environments: PreflightEnvironment[] = new Array<PreflightEnvironment>(envs.length);
  envs.forEach((env, index) => {
    const record = kept[index];
    if (!record || !stored) return;
    environments[index] = withPath(record.answer, env.path);
    cachedFrom[index] = record.askedAt;
    if (carried) records.add(env.path, { ...record, list: lists.add(stored.lists[record.list]!) });
  });
  const askedAt = new Date(at).toISOString();
  toAsk.forEach((index, j) => {
    const env = envs[index]!;
    const answer = asked.environments[j]!;
    environments[index] = answer;
    const found = candidates[j];
    candidates[j] = null;
    // Trac's whole answer, as runPreflight gives it: keepable by the single verdict's rule.
    if (!sharedHeld || !found || !keepable({ ...asked, environments: [answer] }, env.path)) return;
    records.add(env.path, { list: lists.add(candidateLists.all[found.list]!), stamps: found.stamps, askedAt, answer: storedAnswer(answer) });
  });

  const result: Ran = { ...asked, environments };
  if (!sharedHeld || records.count === 0) {
    await removeEntry(cacheDir, KIND, question).catch(() => undefined);
    return { result, cachedFrom };
  }
  const answer: DirectoryAnswer = { python: asked.python, user: asked.user, trac: asked.trac, svn: asked.svn, inputs: asked.inputs ?? [], lists: lists.all, times: records.times.all, answers: records.answers.all, environments: records.environments };
  // A verdict that cannot be kept costs the next run time, never this run its answer.
  await storeEntry(cacheDir, KIND, { question, ...sharedAll, answer }, sharedStamps).catch(() => removeEntry(cacheDir, KIND, question).catch(() => undefined));
  return { result, cachedFrom };
}

/** What an answer's environment read of its own, stamped, when nothing it read changed while asked. */
interface Candidate {
  own: Inputs;
  stamps: string;
}

/**
 * The stamps of ANSWER's own inputs when the single verdict's rules (preflightCache.ts keep) let
 * it be kept, as far as they concern this environment's files: its known inputs unchanged while
 * asked, no unstamped plugins, nothing it read changed since SINCE (whether the answer itself is
 * keepable, and what the run shares, is decided once the run is over). Its own inputs are stamped
 * without those the run shares.
 */
function candidate(answer: PreflightEnvironment, known: Inputs, before: string, shared: Inputs, since: number): Candidate | null {
  // One look at each path (as at one instant) for the three questions the single verdict asks in turn.
  const memo: StatMemo = new Map();
  if (stampsOf(known, memo) !== before) return null;
  const own = minus(unionOf(known, ownAnswerInputs(answer, answer.path)), shared);
  if (hasUnstampedPlugins(unionOf(own, shared).dirsWithEntries)) return null;
  const stamps = stampsOf(own, memo);
  if (changedSinceSync(own.paths, own.dirsWithEntries, since, memo)) return null;
  return { own, stamps };
}

/** ANSWER as kept: without its path (the record's key) and what only stamping needed (in its lists); the log check's paths stay (recall). */
function storedAnswer(answer: PreflightEnvironment): Omit<PreflightEnvironment, 'path'> {
  const { path: _path, inputs: _inputs, databaseScheme: _scheme, databaseFile: _file, configFiles: _config, pluginsDirs: _plugins, ...rest } = answer;
  return rest;
}

/**
 * The records of STORED for ENVS whose own stamps still hold and whose log check still passes
 * (as the user Trac was asked as: batched, one process for all when that is another user).
 */
async function recall(stored: DirectoryAnswer & { fingerprint: string }, envs: EnvironmentInfo[], asUser: PreflightRequest['asUser']): Promise<(KeptRecord | null)[]> {
  const found = envs.map((env): KeptRecord | null => {
    const record = stored.environments[env.path];
    if (!record) return null;
    const lists = stored.lists[record.list];
    if (!lists) return null;
    const own = absoluteLists(lists, env.path);
    if (stampsOf(own) !== record.stamps) return null;
    return { list: record.list, stamps: record.stamps, askedAt: stored.times[record.at]!, answer: answerOf(stored.answers[record.answer]!, env.path, record.project) };
  });
  const checks = found.map((record, index) => (record ? logCheckOf(withPath(record.answer, envs[index]!.path), envs[index]!.path) : 'none'));
  const passes = await logChecksPass(checks, asUser);
  return found.map((record, index) => (record && passes[index] ? record : null));
}

/**
 * Trac's log check (preflightCache.ts logStillWritable) for many verdicts at once: in this
 * process when Trac was asked as this user, else as that user through one streamed
 * `setpriv ... xargs sh` (apache/userAccess.ts checkAccess: no argument list or pipe grows with
 * the count). Whether the log file is there is seen here (as root: the same answer, since a file
 * the web server user cannot reach fails its own test as well); false where unsure.
 */
async function logChecksPass(checks: ReturnType<typeof logCheckOf>[], asUser: PreflightRequest['asUser']): Promise<boolean[]> {
  if (!asUser) return checks.map((check) => check === 'none' || (check !== 'unsure' && logCheckPassesHere(check)));
  const passes = checks.map((check) => check === 'none');
  const needs: (AccessNeed & { index: number })[] = [];
  checks.forEach((check, index) => {
    if (check === 'none' || check === 'unsure') return;
    let exists = false;
    try {
      statSync(check.file);
      exists = true;
    } catch {
      exists = false;
    }
    if (exists) {
      needs.push({ path: check.file, test: '-w', why: 'log', index });
    } else {
      let isDir = false;
      try {
        isDir = statSync(check.dir).isDirectory();
      } catch {
        isDir = false;
      }
      if (isDir) needs.push({ path: check.dir, test: '-w', why: 'log', index }, { path: check.dir, test: '-x', why: 'log', index });
    }
  });
  if (needs.length === 0) return passes;
  const tested = await checkAccess(asUser.user, asUser.group, needs).catch(() => null);
  if (!tested || tested.unchecked) return passes;
  const failed = new Set((tested.failed as typeof needs).map((need) => need.index));
  for (const need of needs) passes[need.index] = !failed.has(need.index);
  return passes;
}

/** The entry for QUESTION when it is whole, of the shape written, and what the run shares is stamped the same now. */
function readEntry(cacheDir: string, question: DirectoryQuestion, count: number): (DirectoryAnswer & { fingerprint: string }) | null {
  try {
    const entry = cachedRecordSync<DirectoryAnswer>(cacheDir, KIND, question, maxEntryBytes(count));
    if (!entry || typeof entry.fingerprint !== 'string' || !wellFormed(entry.answer)) return null;
    return { ...entry.answer, fingerprint: entry.fingerprint };
  } catch {
    return null;
  }
}

/** Whether A is an entry as written here (a corrupt or foreign one is not used). */
function wellFormed(a: DirectoryAnswer): boolean {
  const isStrings = (list: unknown) => Array.isArray(list) && list.every((p) => typeof p === 'string');
  if (!a || typeof a !== 'object' || !a.python || typeof a.python.executable !== 'string' || typeof a.trac !== 'string' || !a.svn || !isStrings(a.inputs)) return false;
  if (!Array.isArray(a.lists) || !a.lists.every((l) => l && isStrings(l.paths) && isStrings(l.dirsWithEntries) && isStrings(l.accessOnly))) return false;
  if (!isStrings(a.times) || !Array.isArray(a.answers)) return false;
  const isObject = (o: unknown): o is Record<string, unknown> => typeof o === 'object' && o !== null && !Array.isArray(o);
  const problemOk = (p: unknown) => isObject(p) && typeof p.code === 'string' && typeof p.severity === 'string' && typeof p.message === 'string';
  const repositoryOk = (r: unknown) => isObject(r) && typeof r.name === 'string' && typeof r.type === 'string' && typeof r.ok === 'boolean';
  const answerOk = (x: Omit<PreflightEnvironment, 'path'>) =>
    isObject(x) &&
    typeof x.opened === 'boolean' &&
    Array.isArray(x.problems) &&
    x.problems.every(problemOk) &&
    Array.isArray(x.repositories) &&
    x.repositories.every(repositoryOk) &&
    isStrings(x.plugins) &&
    (x.accessInputs === undefined || isStrings(x.accessInputs));
  if (!a.answers.every(answerOk)) return false;
  if (!a.environments || typeof a.environments !== 'object') return false;
  const index = (i: unknown, length: number) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < length;
  return Object.values(a.environments).every(
    (r) => r && index(r.list, a.lists.length) && index(r.at, a.times.length) && index(r.answer, a.answers.length) && typeof r.stamps === 'string' && (r.project === null || typeof r.project === 'string'),
  );
}

function withPath(answer: Omit<PreflightEnvironment, 'path'>, envPath: string): PreflightEnvironment {
  return Object.assign({ path: envPath }, answer);
}

function stampsOf(inputs: Inputs, memo?: StatMemo): string {
  return fingerprintSync(inputs.paths, inputs.dirsWithEntries, inputs.accessOnly, memo);
}

/**
 * OWN without what SHARED stamps at least as strongly: a path SHARED stamps whole is left to it;
 * one SHARED stamps for access only stays here when OWN stamps it whole.
 */
function minus(own: Inputs, shared: Inputs): Inputs {
  const { whole, access, withEntries } = setsOf(shared);
  const paths = own.paths.filter((p) => !whole.has(p) || (own.dirsWithEntries.includes(p) && !withEntries.has(p)));
  const kept = new Set(paths);
  return {
    paths,
    dirsWithEntries: own.dirsWithEntries.filter((p) => kept.has(p)),
    accessOnly: own.accessOnly.filter((p) => !whole.has(p) && !access.has(p) && !kept.has(p)),
  };
}

const sets = new WeakMap<Inputs, { whole: Set<string>; access: Set<string>; withEntries: Set<string> }>();

/** SHARED's lists as sets, made once for all environments. */
function setsOf(shared: Inputs): { whole: Set<string>; access: Set<string>; withEntries: Set<string> } {
  let made = sets.get(shared);
  if (!made) {
    made = { whole: new Set(shared.paths), access: new Set(shared.accessOnly), withEntries: new Set(shared.dirsWithEntries) };
    sets.set(shared, made);
  }
  return made;
}

/** The SQLite database file of ENV as trac-deploy read it, or null (preflightCache.ts knownInputs). */
function sqliteFile(env: EnvironmentInfo): string | null {
  const db = env.database;
  if (!db || db.scheme !== 'sqlite' || !db.name) return null;
  return path.resolve(env.path, db.name);
}

/** A path under ENV_PATH as "./relative" ("." for itself), any other as it is (absolute). */
function relativeLists(inputs: Inputs, envPath: string): StoredLists {
  const rel = (p: string) => (p === envPath ? '.' : p.startsWith(`${envPath}/`) ? `./${p.slice(envPath.length + 1)}` : p);
  return { paths: inputs.paths.map(rel), dirsWithEntries: inputs.dirsWithEntries.map(rel), accessOnly: inputs.accessOnly.map(rel) };
}

function absoluteLists(lists: StoredLists, envPath: string): Inputs {
  const abs = (p: string) => (p === '.' ? envPath : p.startsWith('./') ? `${envPath}/${p.slice(2)}` : p);
  return { paths: lists.paths.map(abs), dirsWithEntries: lists.dirsWithEntries.map(abs), accessOnly: lists.accessOnly.map(abs) };
}

/** Values kept once however many environments have the same (compared by their JSON). */
class Table<T> {
  readonly all: T[] = [];
  private readonly index = new Map<string, number>();
  add(value: T): number {
    const key = JSON.stringify(value);
    let at = this.index.get(key);
    if (at === undefined) {
      at = this.all.length;
      this.all.push(value);
      this.index.set(key, at);
    }
    return at;
  }
}

class ListTable extends Table<StoredLists> {}

/** The records of an entry being written, with their tables. */
class RecordTables {
  readonly lists = new ListTable();
  readonly times = new Table<string>();
  readonly answers = new Table<Omit<PreflightEnvironment, 'path'>>();
  readonly environments: Record<string, StoredRecord> = {};
  count = 0;
  add(envPath: string, record: KeptRecord): void {
    const { project, ...rest } = record.answer;
    this.environments[envPath] = { list: record.list, stamps: record.stamps, at: this.times.add(record.askedAt), answer: this.answers.add(relativeAnswer(rest, envPath)), project: project ?? null };
    this.count++;
  }
}

/** ANSWER with the paths it names under ENV_PATH relative to it (as relativeLists). */
function relativeAnswer(answer: Omit<PreflightEnvironment, 'path' | 'project'>, envPath: string): Omit<PreflightEnvironment, 'path'> {
  const rel = (p: string) => (p === envPath ? '.' : p.startsWith(`${envPath}/`) ? `./${p.slice(envPath.length + 1)}` : p);
  return Object.assign({}, answer, {
    project: null,
    filesDir: typeof answer.filesDir === 'string' ? rel(answer.filesDir) : answer.filesDir,
    ...(answer.accessInputs ? { accessInputs: answer.accessInputs.map(rel) } : {}),
  });
}

/** The stored ANSWER of the environment at ENV_PATH, its paths absolute again, with its PROJECT. */
function answerOf(answer: Omit<PreflightEnvironment, 'path'>, envPath: string, project: string | null): Omit<PreflightEnvironment, 'path'> {
  const abs = (p: string) => (p === '.' ? envPath : p.startsWith('./') ? `${envPath}/${p.slice(2)}` : p);
  return Object.assign({}, answer, {
    project,
    filesDir: typeof answer.filesDir === 'string' ? abs(answer.filesDir) : answer.filesDir,
    ...(answer.accessInputs ? { accessInputs: answer.accessInputs.map(abs) } : {}),
  });
}
