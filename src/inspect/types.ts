import type { DatabaseInfo, DatabaseServerAddress } from './databaseUrl.js';

/** Pure, JSON-serialisable facts about what is on disk. Knows nothing about Apache. */

/** inspect's findings are the one Finding type every command reports (src/findings.ts). */
import type { Finding } from '../findings.js';
export type { Severity } from '../findings.js';
export type Problem = Finding;

export interface Repository {
  /** '' is the default repository. */
  name: string;
  type: string;
  dir: string | null;
  alias: string | null;
  hidden: boolean;
  /** Where it is configured: trac.ini [repositories], the old [trac] options, or the database. */
  source: 'repositories-section' | 'trac-section' | 'database';
}

export interface Plugin {
  name: string;
  path: string;
  kind: 'egg' | 'wheel' | 'py' | 'directory';
}

export interface EnvironmentInfo {
  name: string;
  path: string;
  /** The integer of "Trac Environment Version N". */
  formatVersion: number | null;
  /** `database_version` from the `system` table, when it could be read. */
  databaseVersion: number | null;
  /** The Trac release line the database version belongs to, e.g. "1.4 or 1.6". */
  tracRelease: string | null;
  project: { name: string | null; description: string | null };
  database: DatabaseInfo | null;
  repositories: Repository[];
  /** Enabled version-control connectors: "svn", "git". */
  connectors: string[];
  plugins: Plugin[];
  /** Components enabled in [components] outside trac.* and tracopt.* (third-party). */
  enabledComponents: string[];
  inherit: { files: string[]; htdocsDir: string | null; templatesDir: string | null; pluginsDir: string | null };
  /** [trac] ignore_auth_case. */
  ignoreAuthCase: boolean;
  /** [trac] base_url, use_base_url_for_redirect, secure_cookies as trac.ini (and [inherit]) set them; null when unset. */
  urlSettings: { baseUrl: string | null; useBaseUrlForRedirect: boolean | null; secureCookies: boolean | null };
  /** Users and groups in the permission table with a DOMAIN\\ prefix or an @REALM (SQLite only). */
  domainUsers: string[];
  /**
   * Enabled components that show their own login form at /login (TracAccountManager's
   * acct_mgr.web_ui.LoginModule): then Apache must not protect /login.
   */
  loginFormComponents: string[];
  problems: Problem[];
  /** What Trac itself said when it opened the environment (python/preflight.py); absent when not asked. */
  preflight?: EnvironmentPreflight | null;
}

export interface EnvironmentPreflight {
  /** When Trac gave this verdict, if it is a kept one (nothing it read has changed since); absent when asked in this run. */
  cachedFrom?: string;
  /** Opened with its database usable and up to date: Trac will serve it. */
  opened: boolean;
  project: string | null;
  /** As Trac's RepositoryManager lists them (trac.ini and the database), each opened or not. */
  repositories: { name: string; type: string; ok: boolean; error: string | null; hidden: boolean; alias: string | null }[];
  /** One attachment whose file exists, for the smoke test. */
  attachment: { realm: string; id: string; filename: string; size: number } | null;
  xsendfile: { on: boolean; header: string } | null;
  filesDir: string | null;
  pluginsNotLoaded: string[];
}

/** Whether Trac was asked, and by which interpreter as which user; or why not. */
export type PreflightSummary =
  | {
      status: 'ran';
      python: string;
      pythonVersion: string;
      user: string | null;
      trac: string;
      svnBindingsFrom: string | null;
      /** When Trac gave this verdict, if it is a kept one (nothing it read has changed since); absent when asked in this run. */
      cachedFrom?: string;
      /** A directory of environments: how many of their verdicts are kept ones (each says so: cachedFrom). */
      keptVerdicts?: number;
    }
  | { status: 'skipped'; reason: string };

export interface Inspection {
  kind: 'environment' | 'parent';
  path: string;
  environments: EnvironmentInfo[];
  /** Subdirectories of a parent dir that were left out, and why. */
  skipped: { name: string; reason: string }[];
  /** PostgreSQL/MySQL servers the environments connect to, and which environments share each. */
  databaseServers: DatabaseServer[];
  problems: Problem[];
  /** The preflight (python/preflight.py); absent when the command does not ask Trac. */
  preflight?: PreflightSummary;
}

export interface DatabaseServer extends DatabaseServerAddress {
  /** Names of the environments whose database lives on this server. */
  environments: string[];
  /** Connections the deployment could hold open on this server (see databaseServers.ts). */
  estimatedConnections: {
    processes: number;
    threads: number;
    /** TRAC_DB_POOL_SIZE: connections per process, in use and idle together. */
    poolSize: number;
    /** Trac's default: idle connections stay open. */
    pooled: number;
    /** With `poolable = False`: only connections of requests in flight. */
    unpooled: number;
  };
  /** What the server said when asked (inspect --probe-db); null when not asked or it failed. */
  probe: { maxConnections: number; connectionsInUse: number | null; asEnvironment: string } | null;
}
