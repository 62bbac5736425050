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

export interface GenerateOptions {
  urlPrefix: string;
  name?: string | undefined;
  mode: Mode;
  pythonHome?: string | undefined;
  siteDir: string[];
  eggCache?: string | undefined;
  pool: PoolChoice;
  stripDomain: boolean;
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
  processes: 2,
  threads: 5,
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
  { key: 'stripDomain', flag: 'strip-domain', type: 'boolean', describe: 'turn DOMAIN\\user in REMOTE_USER into user (SSPI)', question: 'Strip DOMAIN\\ from user names' },
  { key: 'processes', flag: 'processes', type: 'number', describe: 'daemon processes (Trac is CPU-bound: about one per core)' },
  { key: 'threads', flag: 'threads', type: 'number', describe: 'threads per daemon process' },
  { key: 'htdocs', flag: 'htdocs', type: 'string', describe: 'directory of static files, one subdirectory per chrome key (as trac-deploy deploy writes TARGET/htdocs): Apache serves <url-prefix>/chrome/<key> from it' },
  { key: 'apacheSyntax', flag: 'apache-syntax', type: 'string', choices: APACHE_SYNTAXES, describe: 'access-control syntax: Apache 2.4, 2.2, or both under <IfModule>' },
];
