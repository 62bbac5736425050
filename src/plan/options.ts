import { DEFAULT_SIZING } from '../inspect/sizing.js';

/**
 * The generate options, one typed table: it drives the yargs flags, the wizard's questions
 * and validation, so the three cannot disagree.
 */
export const MODES = ['daemon', 'embedded'] as const;
export type Mode = (typeof MODES)[number];

export const POOL_CHOICES = ['auto', 'keep', 'disable'] as const;
export type PoolChoice = (typeof POOL_CHOICES)[number];

export const APACHE_SYNTAXES = ['2.4', '2.2', 'both'] as const;
export type ApacheSyntax = (typeof APACHE_SYNTAXES)[number];

export const AUTH_METHODS = ['none', 'basic', 'digest', 'ldap', 'kerberos', 'sspi'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const AUTH_SCOPES = ['login', 'site'] as const;
export type AuthScope = (typeof AUTH_SCOPES)[number];

export interface GenerateOptions {
  urlPrefix: string;
  name?: string | undefined;
  mode: Mode;
  pythonHome?: string | undefined;
  siteDir: string[];
  eggCache?: string | undefined;
  pool: PoolChoice;
  stripDomain: boolean;
  stripRealm: boolean;
  auth: AuthMethod;
  authScope: AuthScope;
  authRealm: string;
  authUserFile?: string | undefined;
  authGroupFile?: string | undefined;
  authRequireGroup?: string | undefined;
  authLdapUrl?: string | undefined;
  authLdapBindDn?: string | undefined;
  authLdapBindPasswordFile?: string | undefined;
  authKeytab?: string | undefined;
  authForce: boolean;
  processes: number;
  threads: number;
  apacheSyntax: ApacheSyntax;
  /** A deployed htdocs directory (one subdirectory per chrome key) that Apache serves itself. */
  htdocs?: string | undefined;
}

export const DEFAULT_GENERATE_OPTIONS: GenerateOptions = {
  urlPrefix: '/trac',
  mode: 'daemon',
  siteDir: [],
  pool: 'auto',
  stripDomain: false,
  stripRealm: false,
  auth: 'none',
  authScope: 'login',
  authRealm: 'Trac',
  authForce: false,
  processes: DEFAULT_SIZING.processes,
  threads: DEFAULT_SIZING.threads,
  apacheSyntax: '2.4',
};

type FlagType = 'string' | 'boolean' | 'number' | 'array';

export interface OptionSpec {
  key: keyof GenerateOptions;
  flag: string;
  type: FlagType;
  describe: string;
  choices?: readonly string[];
  /** The question the wizard asks when the flag is not given. */
  question?: string;
}

export const GENERATE_OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'urlPrefix', flag: 'url-prefix', type: 'string', describe: 'URL path the site is mounted at', question: 'URL path to mount Trac at' },
  { key: 'name', flag: 'name', type: 'string', describe: 'base name of the written files and of the daemon process group (default: from the path)', question: 'Name for the files and process group' },
  { key: 'mode', flag: 'mode', type: 'string', choices: MODES, describe: 'mod_wsgi mode', question: 'mod_wsgi mode' },
  { key: 'pythonHome', flag: 'python-home', type: 'string', describe: 'virtualenv Trac is installed in (daemon mode python-home=)', question: 'Virtualenv Trac is installed in' },
  { key: 'siteDir', flag: 'site-dir', type: 'array', describe: 'site.addsitedir(DIR) in the script, for non-standard install paths (repeatable)' },
  { key: 'eggCache', flag: 'egg-cache', type: 'string', describe: 'PYTHON_EGG_CACHE directory, writable by the Apache user (default: <env>/.egg-cache)' },
  { key: 'pool', flag: 'pool', type: 'string', choices: POOL_CHOICES, describe: 'PostgreSQL/MySQL connection pooling; auto disables it when several environments may share a database server', question: 'Database connection pooling' },
  { key: 'auth', flag: 'auth', type: 'string', choices: AUTH_METHODS, describe: 'how Apache logs users in (Trac takes the name from REMOTE_USER)', question: 'Login method' },
  { key: 'authScope', flag: 'auth-scope', type: 'string', choices: AUTH_SCOPES, describe: 'protect only <prefix>/login (anonymous browsing stays) or the whole site' },
  { key: 'authRealm', flag: 'auth-realm', type: 'string', describe: 'AuthName: the realm the browser shows; for digest it must match the htdigest file' },
  { key: 'authUserFile', flag: 'auth-user-file', type: 'string', describe: 'htpasswd file (--auth basic) or htdigest file (--auth digest)', question: 'Password file (htpasswd for basic, htdigest for digest)' },
  { key: 'authGroupFile', flag: 'auth-group-file', type: 'string', describe: 'group file for --auth-require-group with basic or digest' },
  { key: 'authRequireGroup', flag: 'auth-require-group', type: 'string', describe: 'only members may log in: a group name (basic/digest with --auth-group-file), a group DN (ldap) or DOMAIN\\group (sspi)' },
  { key: 'authLdapUrl', flag: 'auth-ldap-url', type: 'string', describe: 'AuthLDAPURL for --auth ldap, e.g. ldap://dc.example.com/dc=example,dc=com?sAMAccountName?sub', question: 'LDAP URL (ldap://host/base?attribute?sub)' },
  { key: 'authLdapBindDn', flag: 'auth-ldap-bind-dn', type: 'string', describe: 'DN to search the directory as (default: anonymous search)', question: 'DN to search the directory as (empty: anonymous search)' },
  { key: 'authLdapBindPasswordFile', flag: 'auth-ldap-bind-password-file', type: 'string', describe: 'file holding the bind password; Apache reads it at start (the password never enters the config)', question: 'File holding the bind password (Apache reads it at start)' },
  { key: 'authKeytab', flag: 'auth-keytab', type: 'string', describe: 'Kerberos keytab with the HTTP/ service key (--auth kerberos; default: the system keytab)', question: 'Kerberos keytab with the HTTP/ service key (empty: the system keytab)' },
  { key: 'authForce', flag: 'auth-force', type: 'boolean', describe: 'protect /login even though a plugin with its own login form (TracAccountManager) is enabled' },
  { key: 'stripDomain', flag: 'strip-domain', type: 'boolean', describe: 'turn DOMAIN\\user in REMOTE_USER into user (SSPI)', question: 'Strip DOMAIN\\ from user names' },
  { key: 'stripRealm', flag: 'strip-realm', type: 'boolean', describe: 'turn user@REALM in REMOTE_USER into user (Kerberos)', question: 'Strip @REALM from user names' },
  { key: 'processes', flag: 'processes', type: 'number', describe: 'daemon processes (Trac is CPU-bound: about one per core)' },
  { key: 'threads', flag: 'threads', type: 'number', describe: 'threads per daemon process' },
  { key: 'htdocs', flag: 'htdocs', type: 'string', describe: 'directory of static files, one subdirectory per chrome key (as trac-deploy deploy writes TARGET/htdocs): Apache serves <url-prefix>/chrome/<key> from it' },
  { key: 'apacheSyntax', flag: 'apache-syntax', type: 'string', choices: APACHE_SYNTAXES, describe: 'access-control syntax: Apache 2.4, 2.2, or both under <IfModule>' },
];
