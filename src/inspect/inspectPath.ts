import fs from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { readRegularFile } from './readRegularFile.js';
import { reasonOf, usageError } from '../errors.js';
import { groupDatabaseServers } from './databaseServers.js';
import { checkEnvironment, inspectEnvironment } from './environment.js';
import { apacheUserProblems } from './apacheUserAccess.js';
import { fnmatchToRegExp } from './fnmatch.js';
import { inspectCandidates, workerCount, type Candidate, type KeptLookups } from './parallelCandidates.js';
import { checkSizing, DEFAULT_SIZING, type Sizing } from './sizing.js';
import { TracIniUnreadable } from './tracIni.js';
import type { EnvironmentInfo, Inspection, Problem } from './types.js';

/**
 * PATH is a Trac environment or a directory whose subdirectories are environments, chosen as
 * Trac's TRAC_ENV_PARENT_DIR does (hidden directories and .tracignore patterns skipped).
 * Throws UserError (exit 2) for a missing path, a file, an unreadable trac.ini of a single
 * environment, or a directory with no environment in it.
 */
export async function inspectPath(input: string, sizing: Sizing = DEFAULT_SIZING, kept?: KeptLookups | null): Promise<Inspection> {
  const { inspection, accessProblems } = await inspectPathAccessPending(input, sizing, kept);
  inspection.problems.push(...(await accessProblems));
  return inspection;
}

/**
 * inspectPath without waiting for the Apache user's access check (a child process when root):
 * the inspection without its problems, and those problems when the check ends (they belong at
 * the end of `inspection.problems`, where inspectPath puts them). For a caller with work of its
 * own to do meanwhile (generate plans and renders); it must await them before it reports.
 */
export async function inspectPathAccessPending(input: string, sizing: Sizing = DEFAULT_SIZING, kept?: KeptLookups | null): Promise<{ inspection: Inspection; accessProblems: Promise<Problem[]> }> {
  checkSizing(sizing);
  const tree = await inspectTree(input, kept);
  const inspection: Inspection = { ...tree, databaseServers: groupDatabaseServers(tree.environments, sizing) };
  const accessProblems = apacheUserProblems(inspection);
  // Awaited by the caller, after its own work; until then a failure must not count as unhandled.
  accessProblems.catch(() => undefined);
  return { inspection, accessProblems };
}

/** KEPT: the kept verdicts of a directory's environments, looked at again as each is judged (directoryVerdicts.ts). */
async function inspectTree(input: string, kept?: KeptLookups | null): Promise<Omit<Inspection, 'databaseServers'>> {
  const root = path.resolve(input);
  let stat: Stats;
  try {
    stat = await fs.stat(root);
  } catch (error) {
    throw usageError(`${root}: ${reasonOf(error)}; give the path of a Trac environment or of a directory of environments`);
  }
  if (!stat.isDirectory()) {
    throw usageError(`${root} is not a directory; give the path of a Trac environment or of a directory of environments`);
  }
  const check = checkEnvironment(root);
  if (check.isEnvironment) {
    const env = await inspectSingle(root, check.formatVersion);
    return { kind: 'environment', path: root, environments: [env], skipped: [], problems: [] };
  }
  if (await fs.access(path.join(root, 'VERSION')).then(() => true, () => false)) {
    throw usageError(`${root} is not a Trac environment: ${check.reason}`);
  }
  return inspectParent(root, kept);
}

async function inspectSingle(root: string, formatVersion: number): Promise<EnvironmentInfo> {
  try {
    // The only environment of this run: its database is SQLite's to read (readSqliteFacts).
    return await inspectEnvironment(root, formatVersion, { alone: true });
  } catch (error) {
    if (error instanceof TracIniUnreadable) {
      throw usageError(`${error.message}; trac-deploy needs to read the environment's configuration`);
    }
    throw error;
  }
}

/** Trac's .tracignore patterns (trac/web/main.py get_tracignore_patterns). */
export async function tracignorePatterns(parent: string): Promise<string[]> {
  try {
    const text = await readRegularFile(path.join(parent, '.tracignore'));
    return text
      .split(/\r\n|\n|\r/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
  } catch {
    return ['.*'];
  }
}

async function inspectParent(root: string, kept?: KeptLookups | null): Promise<Omit<Inspection, 'databaseServers'>> {
  const patterns = await tracignorePatterns(root);
  let entries: Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (error) {
    throw usageError(`${root}: ${reasonOf(error)}`);
  }
  const environments: EnvironmentInfo[] = [];
  const skipped: Inspection['skipped'] = [];
  const problems: Problem[] = [];
  // The listing says what is a directory; only symbolic links (followed, as Trac's os.path.isdir
  // does) and entries of unknown type need a stat of their own.
  const candidates: Candidate[] = entries
    .filter((e) => !(e.isFile() || e.isFIFO() || e.isSocket() || e.isBlockDevice() || e.isCharacterDevice()))
    .map((e): Candidate => [e.name, e.isDirectory() ? true : null])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const matchers = patterns.map((pattern) => ({ pattern, regexp: fnmatchToRegExp(pattern) }));
  const lookups = kept?.prepare(candidates.length) ?? null;
  const outcomes = await inspectCandidates(root, candidates, matchers, workerCount(candidates.length), lookups);
  for (const outcome of outcomes) {
    if (outcome.environment) environments.push(outcome.environment);
    if (outcome.environment && outcome.restamped) kept?.found.set(outcome.environment.path, outcome.restamped);
    if (outcome.skipped) skipped.push(outcome.skipped);
    if (outcome.problem) problems.push(outcome.problem);
  }
  if (environments.length === 0) {
    throw usageError(
      `${root} is neither a Trac environment nor a directory of environments (no subdirectory has a VERSION file saying "Trac Environment Version 1")`,
      'Create one with: trac-admin <path> initenv',
    );
  }
  return { kind: 'parent', path: root, environments, skipped, problems };
}

/** Every problem in an inspection, the environment ones included. */
export function allProblems(inspection: Inspection): Problem[] {
  return [...inspection.problems, ...inspection.environments.flatMap((e) => e.problems)];
}
