import path from 'node:path';
import { findApache } from '../apache/layout.js';
import { accessVerb, checkAccess, nearestExisting, type AccessNeed } from '../apache/userAccess.js';
import type { EnvironmentInfo, Inspection, Problem } from './types.js';

/**
 * What Trac, running as the Apache user, will not be able to do: read trac.ini, write the SQLite database and its directory, and the default egg cache (or the directory
 * it would be made in). Tested for real as that user with setpriv, which needs root; otherwise
 * (or without Apache installed) nothing is reported. Any number of environments: the needs are
 * streamed to one check as they are found (apache/userAccess.ts), never put in an argument list.
 */
export async function apacheUserProblems(inspection: Inspection): Promise<Problem[]> {
  if (process.getuid?.() !== 0) return [];
  let user: string;
  let group: string;
  try {
    ({ user, group } = findApache());
  } catch {
    return [];
  }
  const eggCache = path.join(inspection.path, '.egg-cache');
  const eggExisting = await nearestExisting(eggCache);
  const { failed, unchecked } = await checkAccess(user, group, needsOf(inspection, eggCache, eggExisting));
  if (unchecked) {
    return [{ code: 'apache-user-access-unchecked', severity: 'warning', message: `what the Apache user ${user} can read and write was not checked: ${unchecked}` }];
  }
  return failed.map((need) => ({
    code: 'apache-user-access',
    severity: 'warning',
    message: `the Apache user ${user} cannot ${accessVerb(need.test)} ${need.path} (${need.why}); e.g. chown -R ${user}:${group} ${inspection.path}`,
    path: need.path,
  }));
}

function* needsOf(inspection: Inspection, eggCache: string, eggExisting: string): Generator<AccessNeed> {
  if (inspection.kind === 'parent') {
    yield { path: inspection.path, test: '-r', why: "the environments directory, for Trac's project index" };
  }
  for (const env of inspection.environments) yield* environmentNeeds(env);
  yield { path: eggExisting, test: '-w', why: eggExisting === eggCache ? 'the default egg cache' : `the directory the default egg cache ${eggCache} is created in` };
}

function environmentNeeds(env: EnvironmentInfo): AccessNeed[] {
  // The log file is the preflight's to judge: Trac writes it only with [logging] log_type = file.
  // env.path is absolute and normalized: no path.join per environment (100,000 of them).
  const needs: AccessNeed[] = [{ path: `${env.path}/conf/trac.ini`, test: '-r', why: 'the environment configuration' }];
  if (env.database?.scheme === 'sqlite' && env.database.name && env.databaseVersion !== null) {
    const db = path.resolve(env.path, env.database.name);
    needs.push({ path: db, test: '-w', why: 'the SQLite database' });
    needs.push({ path: path.dirname(db), test: '-w', why: 'the SQLite database directory (journal files)' });
  }
  return needs;
}
