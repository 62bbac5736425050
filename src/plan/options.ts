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
  /** Debian's python3-subversion directory whose svn/libsvn the script makes importable (else the preflight decides). */
  svnBindings?: string | undefined;
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
  /** Daemon processes and threads; when not given, plan/sizingDecision.ts sizes them from the machine. */
  processes?: number | undefined;
  threads?: number | undefined;
  apacheSyntax: ApacheSyntax;
  /** A deployed htdocs directory (one subdirectory per chrome key) that Apache serves itself. */
  htdocs?: string | undefined;
  /** A whole site: <VirtualHost> with ServerName (and ServerAlias) instead of a snippet. */
  serverName?: string | undefined;
  serverAlias: string[];
  /** TLS: certificate (leaf or full chain), private key, and an optional separate chain file. */
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  tlsChain?: string | undefined;
  hsts: boolean;
  /** Directory of the site's own ErrorLog/CustomLog (default: /var/log/apache2, /var/log/httpd on RHEL). */
  logDir?: string | undefined;
  httpPort: number;
  httpsPort: number;
  /** Addresses (or CIDR ranges) of the proxies whose X-Forwarded-* headers are trusted. */
  behindProxy: string[];
  /** Set base_url, use_base_url_for_redirect and secure_cookies in trac.ini through trac-admin. */
  configureTrac: boolean;
  /** mod_wsgi daemon timeouts in seconds (WSGIDaemonProcess options of the same names). */
  requestTimeout: number;
  queueTimeout: number;
  socketTimeout: number;
  connectTimeout: number;
  gracefulTimeout: number;
  shutdownTimeout: number;
  /** Restart a daemon process after this many requests; 0 never. */
  maximumRequests: number;
}

/**
 * The daemon's timeouts, chosen for Trac. mod_wsgi-express (4.9, start-server) uses
 * request-timeout 60, queue-timeout 45, socket-timeout 60, connect-timeout 15,
 * graceful-timeout 15, shutdown-timeout 5, maximum-requests 0; plain WSGIDaemonProcess sets
 * no request or queue timeout at all, so one hung request holds a thread for ever. The reasons
 * for each value are written beside it in the generated .conf (templates/partials/daemonTimeouts.hbs).
 */
export const DEFAULT_TIMEOUTS = {
  requestTimeout: 60,
  queueTimeout: 45,
  socketTimeout: 60,
  connectTimeout: 15,
  gracefulTimeout: 15,
  shutdownTimeout: 5,
  maximumRequests: 0,
} as const;

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
  apacheSyntax: '2.4',
  serverAlias: [],
  hsts: false,
  httpPort: 80,
  httpsPort: 443,
  behindProxy: [],
  configureTrac: false,
  ...DEFAULT_TIMEOUTS,
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
  { key: 'svnBindings', flag: 'svn-bindings', type: 'string', describe: 'make the Subversion bindings (svn, libsvn) of this directory importable, and nothing else of it (Debian: /usr/lib/python3/dist-packages); by default the preflight chooses it when a repository needs them' },
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
  { key: 'processes', flag: 'processes', type: 'number', describe: 'daemon processes (Trac is CPU-bound: about one per core; default: sized from this machine\'s cores and the environments)' },
  { key: 'threads', flag: 'threads', type: 'number', describe: 'threads per daemon process (default 5: requests mostly wait on the database and repositories)' },
  { key: 'htdocs', flag: 'htdocs', type: 'string', describe: 'directory of static files, one subdirectory per chrome key (as trac-deploy deploy writes TARGET/htdocs): Apache serves <url-prefix>/chrome/<key> from it' },
  { key: 'serverName', flag: 'server-name', type: 'string', describe: 'a whole site: <VirtualHost> with this ServerName and its own logs, for sites-available/ (conf.d/ on RHEL); without it, a snippet' },
  { key: 'serverAlias', flag: 'server-alias', type: 'array', describe: 'ServerAlias of the site (repeatable; needs --server-name)' },
  { key: 'tlsCert', flag: 'tls-cert', type: 'string', describe: 'certificate file (certbot: /etc/letsencrypt/live/NAME/fullchain.pem): an https host and an http host that redirects to it' },
  { key: 'tlsKey', flag: 'tls-key', type: 'string', describe: 'private key file (certbot: privkey.pem); never copied or printed, must not be readable by other users' },
  { key: 'tlsChain', flag: 'tls-chain', type: 'string', describe: 'intermediate certificates, when --tls-cert holds only the site\'s own certificate' },
  { key: 'hsts', flag: 'hsts', type: 'boolean', describe: 'send Strict-Transport-Security (one year) from the https host' },
  { key: 'logDir', flag: 'log-dir', type: 'string', describe: 'directory of the site\'s own error and access logs (default: /var/log/apache2, or /var/log/httpd on RHEL)' },
  { key: 'httpPort', flag: 'http-port', type: 'number', describe: 'port of the http virtual host' },
  { key: 'httpsPort', flag: 'https-port', type: 'number', describe: 'port of the https virtual host' },
  { key: 'behindProxy', flag: 'behind-proxy', type: 'array', describe: 'addresses of TLS-terminating proxies: trust X-Forwarded-Proto/Host/For only from them (repeatable)' },
  { key: 'configureTrac', flag: 'configure-trac', type: 'boolean', describe: 'set [trac] base_url, use_base_url_for_redirect and secure_cookies to match the public URL, through trac-admin (trac.ini backed up first)' },
  { key: 'requestTimeout', flag: 'request-timeout', type: 'number', describe: 'mod_wsgi request-timeout: seconds before a daemon process with a stuck request is restarted' },
  { key: 'queueTimeout', flag: 'queue-timeout', type: 'number', describe: 'mod_wsgi queue-timeout: seconds a request may wait for a free daemon thread before it gets 504' },
  { key: 'socketTimeout', flag: 'socket-timeout', type: 'number', describe: 'mod_wsgi socket-timeout: seconds of silence on the daemon socket before the request is failed' },
  { key: 'connectTimeout', flag: 'connect-timeout', type: 'number', describe: 'mod_wsgi connect-timeout: seconds to connect to the daemon socket' },
  { key: 'gracefulTimeout', flag: 'graceful-timeout', type: 'number', describe: 'mod_wsgi graceful-timeout: seconds a restarting daemon lets running requests finish' },
  { key: 'shutdownTimeout', flag: 'shutdown-timeout', type: 'number', describe: 'mod_wsgi shutdown-timeout: seconds a stopping daemon gets before it is killed' },
  { key: 'maximumRequests', flag: 'maximum-requests', type: 'number', describe: 'mod_wsgi maximum-requests: restart a daemon process after this many requests (0: never)' },
  { key: 'apacheSyntax', flag: 'apache-syntax', type: 'string', choices: APACHE_SYNTAXES, describe: 'access-control syntax: Apache 2.4, 2.2, or both under <IfModule>' },
];
