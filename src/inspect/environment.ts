import path from 'node:path';
import { readRegularFileSync } from './readRegularFile.js';
import { componentRules, enabledConnectors, enabledLoginForms, isComponentEnabled, thirdPartyComponents } from './components.js';
import { iniBool, iniGet } from './configParser.js';
import { DatabaseUrlError, parseDatabaseUrl, SUPPORTED_SCHEMES, type DatabaseInfo } from './databaseUrl.js';
import { listPlugins } from './plugins.js';
import { iniRepositories, resolveAliasTypes } from './repositories.js';
import { readSqliteFacts, type SqliteFacts } from './sqliteFacts.js';
import { sqliteFileToRead } from './sqlitePath.js';
import { reasonOf } from '../errors.js';
import { readTracIni } from './tracIni.js';
import type { EnvironmentInfo, Problem } from './types.js';

const VERSION_LINE = /^Trac Environment Version (\d+)$/;

/** Database versions of Trac releases (trac/db_default.py db_version). */
const RELEASES: ReadonlyArray<[number, string]> = [
  [45, '1.4 or 1.6'],
  [41, '1.2'],
  [29, '1.0'],
  [26, '0.12'],
  [21, '0.11'],
];
/** What Trac 1.6, the release this tool deploys by default, expects. */
export const CURRENT_DATABASE_VERSION = 45;

export type EnvironmentCheck =
  | { isEnvironment: true; formatVersion: number }
  | { isEnvironment: false; reason: string };

/**
 * Trac's test (trac/env.py): the first line of VERSION, right-stripped, names the format.
 * Synchronous (one small bounded read): a parent directory's entries are judged by the thousand.
 */
export function checkEnvironment(dir: string): EnvironmentCheck {
  const versionFile = path.join(dir, 'VERSION');
  let text: string;
  try {
    text = readRegularFileSync(versionFile, 64 * 1024);
  } catch (error) {
    return { isEnvironment: false, reason: `${versionFile}: ${reasonOf(error)}` };
  }
  const firstLine = (text.split(/\r\n|\n|\r/)[0] ?? '').replace(/\s+$/, '');
  const match = VERSION_LINE.exec(firstLine);
  if (!match) {
    return { isEnvironment: false, reason: `${versionFile} does not start with "Trac Environment Version 1"` };
  }
  return { isEnvironment: true, formatVersion: Number(match[1]) };
}

export function releaseForDatabaseVersion(version: number | null): string | null {
  if (version === null) return null;
  for (const [dbVersion, release] of RELEASES) if (version === dbVersion) return release;
  if (version > CURRENT_DATABASE_VERSION) return `newer than 1.6 (database version ${version})`;
  return `between releases (database version ${version})`;
}

/**
 * Everything deployment needs to know about one environment. Throws TracIniUnreadable when
 * conf/trac.ini cannot be read; every other difficulty is recorded as a problem. `alone`: the
 * only environment of the run (its SQLite database is read by SQLite, see readSqliteFacts).
 */
export async function inspectEnvironment(envPath: string, formatVersion: number, { alone = false }: { alone?: boolean } = {}): Promise<EnvironmentInfo> {
  const problems: Problem[] = [];
  if (formatVersion !== 1) {
    problems.push({ code: 'unknown-format', severity: 'error', message: `${envPath}: environment format version ${formatVersion} is not supported by Trac (expected 1)`, path: envPath });
  }
  const ini = readTracIni(envPath);
  problems.push(...ini.problems);
  const { sections } = ini;
  const rules = componentRules(sections);

  const database = readDatabase(envPath, iniGet(sections, 'trac', 'database') ?? 'sqlite:db/trac.db', problems);
  let databaseVersion: number | null = null;
  let repositories = iniRepositories(sections);
  let domainUsers: string[] = [];
  if (database?.scheme === 'sqlite' && database.name && database.name !== ':memory:') {
    const located = sqliteFileToRead(envPath, database.name);
    let facts: SqliteFacts;
    if ('file' in located) {
      try {
        facts = await readSqliteFacts(path.resolve(envPath, database.name), located.file, { alone, real: located.real });
      } finally {
        located.release?.();
      }
    } else {
      facts = { databaseVersion: null, repositories: [], domainUsers: [], problems: [located.skipped] };
    }
    databaseVersion = facts.databaseVersion;
    repositories = [...repositories, ...facts.repositories];
    problems.push(...facts.problems);
    domainUsers = facts.domainUsers;
    if (facts.domainUsers.length > 0) {
      problems.push({
        code: 'domain-users',
        severity: 'info',
        message: `permissions are granted to names with a domain or realm (${facts.domainUsers.slice(0, 5).join(', ')}); keep REMOTE_USER in that form or rename them when stripping domains`,
      });
    }
  }
  if (databaseVersion !== null && databaseVersion < CURRENT_DATABASE_VERSION) {
    problems.push({
      code: 'needs-upgrade',
      severity: 'warning',
      message: `${envPath}: database version ${databaseVersion} (Trac ${releaseForDatabaseVersion(databaseVersion)}) needs "trac-admin ${envPath} upgrade" before Trac 1.6 will serve it`,
      path: envPath,
    });
  }

  const inheritDir = (key: string) => {
    const value = iniGet(sections, 'inherit', key);
    return value ? path.resolve(envPath, 'conf', value) : null;
  };
  const pluginsDir = inheritDir('plugins_dir');
  const plugins = [
    ...listPlugins(path.join(envPath, 'plugins')),
    ...(pluginsDir ? listPlugins(pluginsDir) : []),
  ];

  const connectors = enabledConnectors(rules);
  const loginFormComponents = enabledLoginForms(rules);
  problems.push(...loginProblems(loginFormComponents, isComponentEnabled(rules, 'trac.web.auth.LoginModule')));
  problems.push(...connectorProblems(resolveAliasTypes(repositories), connectors));

  return {
    name: path.basename(envPath),
    path: envPath,
    formatVersion,
    databaseVersion,
    tracRelease: releaseForDatabaseVersion(databaseVersion),
    project: {
      name: iniGet(sections, 'project', 'name') ?? null,
      description: iniGet(sections, 'project', 'descr') ?? null,
    },
    database,
    repositories: resolveAliasTypes(repositories),
    connectors,
    plugins,
    enabledComponents: thirdPartyComponents(rules),
    inherit: {
      files: ini.inheritedFiles,
      htdocsDir: inheritDir('htdocs_dir'),
      templatesDir: inheritDir('templates_dir'),
      pluginsDir,
    },
    ignoreAuthCase: iniBool(iniGet(sections, 'trac', 'ignore_auth_case')) ?? false,
    urlSettings: {
      baseUrl: iniGet(sections, 'trac', 'base_url') || null,
      useBaseUrlForRedirect: iniBool(iniGet(sections, 'trac', 'use_base_url_for_redirect')) ?? null,
      secureCookies: iniBool(iniGet(sections, 'trac', 'secure_cookies')) ?? null,
    },
    domainUsers,
    loginFormComponents,
    problems,
  };
}

function readDatabase(envPath: string, dbStr: string, problems: Problem[]): DatabaseInfo | null {
  try {
    const database = parseDatabaseUrl(dbStr);
    const problem = schemeProblem(envPath, database.scheme);
    if (problem) problems.push(problem);
    return database;
  } catch (error) {
    if (!(error instanceof DatabaseUrlError)) throw error;
    problems.push({ code: 'database-url-invalid', severity: 'error', message: `${path.join(envPath, 'conf', 'trac.ini')}: ${error.message}`, path: envPath });
    return null;
  }
}

/** Trac refuses a scheme no installed backend supports ("Unsupported database type"). */
function schemeProblem(envPath: string, scheme: string): Problem | null {
  if ((SUPPORTED_SCHEMES as readonly string[]).includes(scheme)) return null;
  const hint = /^postgresql$|^pgsql$|^psql$/i.test(scheme) ? ' (Trac spells it "postgres://")' : /^mariadb$/i.test(scheme) ? ' (Trac spells it "mysql://")' : /^sqlite3$/i.test(scheme) ? ' (Trac spells it "sqlite:")' : '';
  return {
    code: 'database-scheme-unsupported',
    severity: 'warning',
    message: `${path.join(envPath, 'conf', 'trac.ini')}: database type "${scheme}" is not one Trac 1.6 supports (sqlite, postgres, mysql)${hint}; Trac will refuse it unless a plugin provides it`,
    path: envPath,
  };
}

function connectorProblems(repositories: EnvironmentInfo['repositories'], connectors: string[]): Problem[] {
  const types = new Set(repositories.filter((r) => !r.alias).map((r) => r.type));
  return [...types]
    .filter((type) => type in { svn: 1, git: 1 } && !connectors.includes(type))
    .map((type) => ({
      code: 'connector-disabled',
      severity: 'warning' as const,
      message: `a ${type} repository is configured but tracopt.versioncontrol.${type}.* is not enabled in [components]`,
    }));
}

function loginProblems(loginForms: string[], tracLogin: boolean): Problem[] {
  const problems: Problem[] = [];
  if (loginForms.length > 0) {
    problems.push({
      code: 'login-form-plugin',
      severity: 'info',
      message: `${loginForms.join(', ')} is enabled: it shows its own login form at /login, so Apache must not protect /login (generate --auth refuses unless --auth-force)`,
    });
  } else if (!tracLogin) {
    problems.push({
      code: 'login-disabled',
      severity: 'warning',
      message: 'trac.web.auth.LoginModule is disabled in [components] and no known login plugin is enabled: Trac will not take REMOTE_USER at /login',
    });
  }
  return problems;
}
