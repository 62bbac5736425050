import type { DatabaseInfo } from './databaseUrl.js';

/** Pure, JSON-serialisable facts about what is on disk. Knows nothing about Apache. */

export type Severity = 'error' | 'warning' | 'info';

export interface Problem {
  /** Stable identifier for scripts: `trac-ini-unreadable`, `needs-upgrade`, ... */
  code: string;
  severity: Severity;
  message: string;
  path?: string;
}

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
  /** Users and groups in the permission table with a DOMAIN\\ prefix or an @REALM (SQLite only). */
  domainUsers: string[];
  /**
   * Enabled components that show their own login form at /login (TracAccountManager's
   * acct_mgr.web_ui.LoginModule): then Apache must not protect /login.
   */
  loginFormComponents: string[];
  problems: Problem[];
}

export interface Inspection {
  kind: 'environment' | 'parent';
  path: string;
  environments: EnvironmentInfo[];
  /** Subdirectories of a parent dir that were left out, and why. */
  skipped: { name: string; reason: string }[];
  problems: Problem[];
}
