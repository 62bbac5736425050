import path from 'node:path';
import { checkAccess, type AccessNeed } from '../apache/userAccess.js';
import { cacheDirectory, cachedRecordSync, changedSinceSync, missingIn, removeEntry, storeEntryText, usableCacheDirectory, usableCacheDirectorySync, type StatMemo } from '../python/answerCache.js';
import { runPreflight, type PreflightEnvironment, type PreflightRequest, type PreflightResult, type PreflightRunner, type WorkerHooks } from '../python/preflight.js';
import {
  hasUnstampedPlugins,
  keepable,
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
import { absolutePath, relativeLists, relativePath, restamp, stampsOf, type Restamped, type RestampTable, type StoredLists } from './keptStamps.js';
import type { KeptLookups, PreparedLookups } from './parallelCandidates.js';
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
 * verdict stamps it (whole where either stamps it whole). The parent itself is in neither (its
 * times change whenever an environment is added or removed, which leaves the others' answers as
 * they were): what it decides for Trac, whether each environment can be reached through it, is
 * tested for real on each lookup as the user Trac was asked as (`-x ENV`, keptStamps.ts restamp).
 */
interface DirectoryQuestion extends Omit<VerdictQuestion, 'kind'> {
  kind: 'preflight-directory-verdicts';
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

/** An entry as read: its answer, and what every environment shares with the stamps it had. */
type StoredEntry = DirectoryAnswer & { fingerprint: string; shared: Inputs };

/** A kept verdict found to hold: its record, and Trac's answer as this run reports it. */
interface KeptRecord {
  record: StoredRecord;
  answer: PreflightEnvironment;
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
 * The kept verdicts of a directory, read once its entries are counted and looked at again as
 * each environment is judged (inspectPath's KeptLookups: in the threads that judge them, right
 * after each is judged), begun before the inspection (preflight.ts recallEarly) for QUESTION.
 */
export interface EarlyDirectory {
  /** The question (its JSON) the entry was read for: used only for that very question. */
  question: string;
  lookups: KeptLookups;
  /** The entry read by lookups.prepare, or null (none, unusable, or the inspection never asked). */
  stored(): StoredEntry | null;
}

/** The question of PARENT's kept verdicts (the single verdict's, for the directory). */
function directoryQuestion(parent: string, request: PreflightRequest, python: string): DirectoryQuestion {
  return { ...verdictQuestion(parent, request, python), kind: 'preflight-directory-verdicts' };
}

/**
 * The lookups of PARENT's kept verdicts, for its inspection to make (see EarlyDirectory). Nothing
 * is read or made (not even the cache directory) until the inspection finds PARENT is a directory
 * with entries to judge and calls prepare.
 */
export function beginDirectoryRecall(parent: string, request: PreflightRequest, python: string, keep: { dir?: string }): EarlyDirectory {
  const question = directoryQuestion(parent, request, python);
  let stored: StoredEntry | null = null;
  const lookups: KeptLookups = {
    found: new Map(),
    prepare(entries) {
      // Looked at, never made: a missing cache directory has nothing kept (the run that asks Trac makes it).
      const cacheDir = usableCacheDirectorySync(keep.dir ?? cacheDirectory(), { create: false }).dir;
      stored = cacheDir ? readEntry(cacheDir, question, entries) : null;
      return stored ? preparedLookups(stored, request.asUser !== null) : null;
    },
  };
  return { question: JSON.stringify(question), lookups, stored: () => stored };
}

/** What every look at STORED's records shares, and each environment's record. */
function preparedLookups(stored: StoredEntry, asOtherUser: boolean): PreparedLookups {
  const table: RestampTable = { lists: stored.lists, logPaths: stored.answers.map((a) => a.accessInputs ?? null), asOtherUser };
  return {
    table,
    itemFor(envPath) {
      const record = Object.hasOwn(stored.environments, envPath) ? stored.environments[envPath] : undefined;
      return record ? [record.list, record.stamps, record.answer] : null;
    },
  };
}

/**
 * Trac's verdicts on INSPECTION's environments (a directory of them): the kept ones whose stamps
 * all hold and whose log check passes, Trac asked about the others (with the stamps of what it
 * read), and those of its new verdicts that may be kept, kept with the others for the next run.
 * EARLY: the lookups its inspection made (used only for the same question).
 */
export async function askOrRecallDirectory(
  inspection: Inspection,
  request: PreflightRequest,
  python: string,
  keep: { dir?: string; settleMs?: number },
  run?: PreflightRunner,
  early?: EarlyDirectory | null,
): Promise<DirectoryOutcome> {
  const envs = inspection.environments;
  const none = () => envs.map(() => null);
  const cacheDir = (await usableCacheDirectory(keep.dir ?? cacheDirectory())).dir;
  if (!cacheDir || envs.length === 0) return { result: await runPreflight({ ...request, stamps: false }, run), cachedFrom: none() };
  const settleMs = keep.settleMs ?? SETTLE_MS;
  const question = directoryQuestion(inspection.path, request, python);

  // The lookups the inspection made, for this very question; else the entry is read now and
  // each record looked at here.
  const made = early && early.question === JSON.stringify(question) ? early : null;
  const stored = made ? made.stored() : readEntry(cacheDir, question, envs.length);
  // What every environment shares is stamped again now (after the inspection); an entry that
  // reads but cannot be used (wellFormed cannot foresee every way one can be broken) means Trac
  // is asked, never a failed run.
  const sharedHolds = stored !== null && stampsOf(stored.shared) === stored.fingerprint;
  const kept: (KeptRecord | null)[] = stored && sharedHolds ? await recall(stored, envs, request.asUser, made?.lookups.found ?? null).catch(none) : none();
  const toAsk = envs.flatMap((_env, index) => (kept[index] ? [] : [index]));
  if (stored && toAsk.length === 0) {
    const result: Ran = { status: 'ran', python: stored.python, user: stored.user, trac: stored.trac, svn: stored.svn, inputs: stored.inputs, environments: kept.map((k) => k!.answer) };
    return { result, cachedFrom: kept.map((k) => stored.times[k!.record.at]!) };
  }

  // Stamped before Trac is asked: the answer is kept only when they are the same after. What
  // every environment shares, now; each environment's own right before it is handed to Python,
  // and checked again as its answer comes (preflightWorkers.ts hooks): that work is done while
  // Python opens the others, not before the first or after the last.
  // The directory of environments itself is not stamped (it gets an entry whenever one is
  // added): what it decides, whether each environment can be reached, is tested on each lookup.
  const parent = inspection.path;
  const sharedKnown = without(unionOf(sharedKnownInputs(request, python), withAncestors([], [], [path.dirname(parent)])), parent);
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
      const known = without(minus(ownKnownInputs(env, sqliteFile(env)), sharedKnown), parent);
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
      const found = candidate(line as unknown as PreflightEnvironment, known, before, sharedKnown, parent, since);
      candidates[j] = found ? { list: candidateLists.add(relativeLists(found.own, envPath, found.missing)), stamps: found.stamps } : null;
    },
  };
  const asked = await runPreflight({ ...request, environments: toAsk.map((index) => envs[index]!.path), stamps: true }, run, hooks);
  if (asked.status !== 'ran') return { result: asked, cachedFrom: none() };

  // What every environment shares: changed while Trac was asked, nothing is kept.
  const sharedAll = without(unionOf(sharedKnown, sharedAnswerInputs(asked)), parent);
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
    const found = kept[index];
    if (!found || !stored) return;
    environments[index] = found.answer;
    const { record } = found;
    cachedFrom[index] = stored.times[record.at]!;
    if (carried) records.carry(env.path, record, stored);
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
    const { project, ...rest } = storedAnswer(answer);
    records.add(env.path, lists.add(candidateLists.all[found.list]!), found.stamps, askedAt, relativeAnswer(rest, env.path), project ?? null);
  });

  const result: Ran = { ...asked, environments };
  if (!sharedHeld || records.count === 0) {
    await removeEntry(cacheDir, KIND, question).catch(() => undefined);
    return { result, cachedFrom };
  }
  const head: Omit<DirectoryAnswer, 'environments'> = { python: asked.python, user: asked.user, trac: asked.trac, svn: asked.svn, inputs: asked.inputs ?? [], lists: lists.all, times: records.times.all, answers: records.answers.all };
  // A verdict that cannot be kept costs the next run time, never this run its answer.
  await storeEntryText(cacheDir, KIND, question, entryPieces(question, sharedAll, head, records.environments, sharedStamps)).catch(() => removeEntry(cacheDir, KIND, question).catch(() => undefined));
  return { result, cachedFrom };
}

/**
 * The JSON text of the entry (storeEntry's shape: question, the shared paths, the answer with
 * ENVIRONMENTS, the fingerprint), a record at a time: 100,000 records as one JSON.stringify made
 * a 16 MB string and more than as much again while it grew, the peak of a run that keeps them.
 */
function* entryPieces(question: DirectoryQuestion, shared: Inputs, head: Omit<DirectoryAnswer, 'environments'>, environments: Record<string, StoredRecord>, fingerprint: string): Generator<string> {
  const { paths, dirsWithEntries, accessOnly } = shared;
  yield `{"question":${JSON.stringify(question)},"paths":${JSON.stringify(paths)},"dirsWithEntries":${JSON.stringify(dirsWithEntries)},"accessOnly":${JSON.stringify(accessOnly)},"answer":`;
  yield `${JSON.stringify(head).slice(0, -1)},"environments":{`;
  let first = true;
  for (const envPath in environments) {
    if (!Object.hasOwn(environments, envPath)) continue;
    yield `${first ? '' : ','}${JSON.stringify(envPath)}:${JSON.stringify(environments[envPath])}`;
    first = false;
  }
  yield `}},"fingerprint":${JSON.stringify(fingerprint)}}`;
}

/** What an answer's environment read of its own, stamped, when nothing it read changed while asked. */
interface Candidate {
  own: Inputs;
  stamps: string;
  /** Those of own.paths found missing when stamped. */
  missing: string[];
}

/**
 * The stamps of ANSWER's own inputs when the single verdict's rules (preflightCache.ts keep) let
 * it be kept, as far as they concern this environment's files: its known inputs unchanged while
 * asked, no unstamped plugins, nothing it read changed since SINCE (whether the answer itself is
 * keepable, and what the run shares, is decided once the run is over). Its own inputs are stamped
 * without those the run shares.
 */
function candidate(answer: PreflightEnvironment, known: Inputs, before: string, shared: Inputs, parent: string, since: number): Candidate | null {
  // One look at each path (as at one instant) for the three questions the single verdict asks in turn.
  const memo: StatMemo = new Map();
  if (stampsOf(known, memo) !== before) return null;
  const own = without(minus(unionOf(known, ownAnswerInputs(answer, answer.path)), shared), parent);
  if (hasUnstampedPlugins(unionOf(own, shared).dirsWithEntries)) return null;
  const stamps = stampsOf(own, memo);
  if (changedSinceSync(own.paths, own.dirsWithEntries, since, memo)) return null;
  return { own, stamps, missing: missingIn(memo, own.paths) };
}

/** ANSWER as kept: without its path (the record's key) and what only stamping needed (in its lists); the log check's paths stay (recall). */
function storedAnswer(answer: PreflightEnvironment): Omit<PreflightEnvironment, 'path'> {
  const { path: _path, inputs: _inputs, databaseScheme: _scheme, databaseFile: _file, configFiles: _config, pluginsDirs: _plugins, ...rest } = answer;
  return rest;
}

/**
 * The records of STORED for ENVS whose own stamps still hold and whose log check still passes
 * (as the user Trac was asked as: batched, one process for all when that is another user):
 * as FOUND says (the lookups the inspection made), else looked at here.
 */
async function recall(stored: StoredEntry, envs: EnvironmentInfo[], asUser: PreflightRequest['asUser'], found: Map<string, Restamped> | null): Promise<(KeptRecord | null)[]> {
  const prepared = preparedLookups(stored, asUser !== null);
  const looks = envs.map((env): Restamped | null => {
    const item = prepared.itemFor(env.path);
    if (!item) return null;
    return found?.get(env.path) ?? restamp(prepared.table, env.path, item);
  });
  const passes = await logChecksPass(looks, asUser);
  return envs.map((env, index) => {
    if (!passes[index]) return null;
    const record = stored.environments[env.path]!;
    return { record, answer: answerOf(stored.answers[record.answer]!, env.path, record.project) };
  });
}

/**
 * The tests of many kept verdicts at once (keptStamps.ts restamp: the environment reached, and
 * Trac's log check, preflightCache.ts logStillWritable): made by restamp where Trac was asked as
 * this user, else as that user through one streamed `setpriv ... python3` (apache/userAccess.ts
 * checkAccess: no argument list or pipe grows with the count). False where a look found a change,
 * or none was made.
 */
async function logChecksPass(looks: (Restamped | null)[], asUser: PreflightRequest['asUser']): Promise<boolean[]> {
  const passes = looks.map((look) => look !== null && look.held && look.tests.length === 0);
  function* needs(): Generator<AccessNeed & { index: number }> {
    for (let index = 0; index < looks.length; index++) {
      const look = looks[index];
      if (look?.held) for (const { path: p, test } of look.tests) yield { path: p, test, why: 'kept verdict', index };
    }
  }
  if (!asUser || !looks.some((look) => look?.held && look.tests.length > 0)) return passes;
  const tested = await checkAccess(asUser.user, asUser.group, needs()).catch(() => null);
  if (!tested || tested.unchecked) return passes;
  const failed = new Set((tested.failed as (AccessNeed & { index: number })[]).map((need) => need.index));
  looks.forEach((look, index) => {
    if (look?.held && look.tests.length > 0) passes[index] = !failed.has(index);
  });
  return passes;
}

/** The entry for QUESTION when it is whole, of the shape written, and what the run shares is stamped the same now. */
function readEntry(cacheDir: string, question: DirectoryQuestion, count: number): StoredEntry | null {
  try {
    const entry = cachedRecordSync<DirectoryAnswer>(cacheDir, KIND, question, maxEntryBytes(count));
    if (!entry || typeof entry.fingerprint !== 'string' || !wellFormed(entry.answer)) return null;
    const isStrings = (list: unknown) => Array.isArray(list) && list.every((p) => typeof p === 'string');
    if (!isStrings(entry.paths) || !isStrings(entry.dirsWithEntries) || !isStrings(entry.accessOnly ?? [])) return null;
    return { ...entry.answer, fingerprint: entry.fingerprint, shared: { paths: entry.paths, dirsWithEntries: entry.dirsWithEntries, accessOnly: entry.accessOnly ?? [] } };
  } catch {
    return null;
  }
}

/** Whether A is an entry as written here (a corrupt or foreign one is not used). */
function wellFormed(a: DirectoryAnswer): boolean {
  const isStrings = (list: unknown) => Array.isArray(list) && list.every((p) => typeof p === 'string');
  if (!a || typeof a !== 'object' || !a.python || typeof a.python.executable !== 'string' || typeof a.trac !== 'string' || !a.svn || !isStrings(a.inputs)) return false;
  if (!Array.isArray(a.lists) || !a.lists.every((l) => l && isStrings(l.paths) && isStrings(l.dirsWithEntries) && isStrings(l.accessOnly) && (l.missing === undefined || isStrings(l.missing)))) return false;
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

/** INPUTS without DIR stamped for access only (restamp tests for real that each environment in it can be reached). */
function without(inputs: Inputs, dir: string): Inputs {
  return inputs.accessOnly.includes(dir) ? { ...inputs, accessOnly: inputs.accessOnly.filter((p) => p !== dir) } : inputs;
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
  /** Tables of the entry read, by their index there: what each of its records is carried over as. */
  private readonly carried = { lists: new Map<number, number>(), times: new Map<number, number>(), answers: new Map<number, number>() };
  /** ENV_PATH's record: its LIST (an index into lists), STAMPS, when Trac was asked, its ANSWER (relativeAnswer) and PROJECT. */
  add(envPath: string, list: number, stamps: string, askedAt: string, answer: Omit<PreflightEnvironment, 'path'>, project: string | null): void {
    this.environments[envPath] = { list, stamps, at: this.times.add(askedAt), answer: this.answers.add(answer), project };
    this.count++;
  }
  /**
   * RECORD of the entry read (FROM) for ENV_PATH, carried over: each of its values is looked up
   * in this entry's tables once per value, not once per environment (100,000 records share a few).
   */
  carry(envPath: string, record: StoredRecord, from: StoredEntry): void {
    const index = (map: Map<number, number>, at: number, add: () => number) => {
      let made = map.get(at);
      if (made === undefined) map.set(at, (made = add()));
      return made;
    };
    const list = index(this.carried.lists, record.list, () => this.lists.add(from.lists[record.list]!));
    const at = index(this.carried.times, record.at, () => this.times.add(from.times[record.at]!));
    const answer = index(this.carried.answers, record.answer, () => this.answers.add(from.answers[record.answer]!));
    this.environments[envPath] = { list, stamps: record.stamps, at, answer, project: record.project };
    this.count++;
  }
}

/** ANSWER with the paths it names under ENV_PATH relative to it (keptStamps.ts relativePath), without its project. */
function relativeAnswer(answer: Omit<PreflightEnvironment, 'path' | 'project'>, envPath: string): Omit<PreflightEnvironment, 'path'> {
  return Object.assign({}, answer, {
    project: null,
    filesDir: typeof answer.filesDir === 'string' ? relativePath(answer.filesDir, envPath) : answer.filesDir,
    ...(answer.accessInputs ? { accessInputs: answer.accessInputs.map((p) => relativePath(p, envPath)) } : {}),
  });
}

/** The stored ANSWER of the environment at ENV_PATH as Trac's answer: its path, its paths absolute again, its PROJECT. */
function answerOf(answer: Omit<PreflightEnvironment, 'path'>, envPath: string, project: string | null): PreflightEnvironment {
  return Object.assign({ path: envPath }, answer, {
    project,
    filesDir: typeof answer.filesDir === 'string' ? absolutePath(answer.filesDir, envPath) : answer.filesDir,
    ...(answer.accessInputs ? { accessInputs: answer.accessInputs.map((p) => absolutePath(p, envPath)) } : {}),
  });
}
