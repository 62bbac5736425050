import type { ApacheSyntax, AuthMethod, AuthScope, Mode } from './options.js';

/** Every decision of a deployment in one pure, JSON-serialisable object. */
export interface DeploymentPlan {
  /** What is being deployed: one environment or a parent directory of environments. */
  source: {
    kind: 'environment' | 'parent';
    path: string;
    environments: {
      name: string;
      path: string;
      projectName: string | null;
      /** What the preflight finds this environment uses, asked when smoke runs (never stored in the plan file). */
      uses?: EnvironmentUses;
    }[];
  };
  urlPrefix: string;
  /** Base name of the files and of the process group; [A-Za-z0-9_.-] only. */
  name: string;
  mode: Mode;
  daemon: {
    processGroup: string;
    processes: number;
    threads: number;
    /** `python-home=` of WSGIDaemonProcess. */
    pythonHome: string | null;
    /** mod_wsgi's timeouts (seconds) and maximum-requests, each with why it was chosen. */
    timeouts: DaemonTimeout[];
  } | null;
  /** A whole site (<VirtualHost>), or null for a snippet (conf-available/, conf.d/). */
  site: SitePlan | null;
  /** TLS-terminating proxies in front: mod_wsgi trusts X-Forwarded-* only from these. */
  proxy: { trusted: string[]; headers: string[] } | null;
  /**
   * The URL people reach Trac at (scheme, host, port, prefix), when the plan knows it: with
   * --server-name. For a parent directory each environment is below it.
   */
  publicUrl: string | null;
  python: {
    /** The virtualenv; see venvInScript. */
    home: string | null;
    /**
     * The .wsgi script adds the virtualenv's site-packages itself: in embedded mode, which has
     * no python-home=, and in deploy's scripts, which a hand-written embedded configuration
     * may mount too.
     */
    venvInScript: boolean;
    /** deploy only: the interpreter on the scripts' #! line. */
    interpreter?: string;
    siteDirs: string[];
    eggCache: string;
    /**
     * Debian's dist-packages, when the interpreter has no Subversion bindings and an svn
     * repository is configured: the script makes only its svn and libsvn packages importable.
     */
    svnBindings?: string;
  };
  /** [trac] use_xsendfile: mod_xsendfile sends the files Trac names, from these directories. */
  xsendfile?: { paths: string[] };
  pool: {
    disable: boolean;
    /** Backends whose pooling the script switches off. */
    backends: ('postgres' | 'mysql')[];
    reason: string;
  };
  auth: AuthPlan;
  /**
   * Apache modules the generated configuration needs (names as in mod_<name>.so), for the
   * header comment, `a2enmod` and smoke's module check. `wsgi` is always among them.
   */
  apacheModules: string[];
  apacheSyntax: ApacheSyntax;
  /**
   * URL path -> directory, served by Apache before the WSGI alias. For a parent directory the
   * URL holds the environment's name, so `urlRegex` (an AliasMatch pattern whose group 1 is the
   * rest of the path) is set and `url` only describes it.
   */
  staticAliases: { url: string; dir: string; key: string; urlRegex: string | null }[];
  /** Cache lifetime Apache announces for static files (mod_expires, else mod_headers). */
  staticMaxAge: number;
  files: {
    outDir: string;
    /** Absolute path of the .wsgi script; its directory is the only one the config opens. */
    wsgi: string;
    apache: string;
    /** deploy only: the CGI and FastCGI scripts beside the .wsgi, as trac-admin deploy writes them. */
    cgi?: string;
    fcgi?: string;
  };
  /** Things the user should know about the decisions, for people (not errors). */
  notes: string[];
}

export interface DaemonTimeout {
  /** The WSGIDaemonProcess option name, e.g. "request-timeout". */
  option: string;
  value: number;
  /** Why this value: written as a comment above the directive. */
  reason: string;
}

export interface SitePlan {
  serverName: string;
  aliases: string[];
  httpPort: number;
  httpsPort: number;
  /** Paths as given (certbot's live/ links stay links, so renewals are picked up). */
  tls: { cert: string; key: string; chain: string | null; hsts: boolean } | null;
  /** With TLS: where the http host sends every request (https://NAME[:PORT]), path appended by Redirect. */
  redirectTo: string | null;
  errorLog: string;
  accessLog: string;
  /**
   * Where apply installs the file: "site" goes to sites-available/ + a sites-enabled/ link
   * (a2ensite) on Debian, conf.d/ on RHEL.
   */
  installAs: 'site';
}

/** Repositories Trac opened (names; '' is the default) and one attachment whose file exists. */
export interface EnvironmentUses {
  repositories: string[];
  attachment: { realm: string; id: string; filename: string; size: number } | null;
  xsendfile: boolean;
}

export interface RenderedFile {
  path: string;
  kind: 'wsgi' | 'apache' | 'cgi' | 'fcgi' | 'htdocs' | 'ci' | 'hello' | 'manifest' | 'ansible';
  content: string;
  /** File mode; scripts are executable like trac-admin's. */
  mode: number;
}

/**
 * `Require valid-user`, or members of one group, unescaped: `group` (authz_groupfile, with
 * --auth-group-file), `ldap-group` (a DN, authnz_ldap) or `sspi-group` (DOMAIN\group).
 */
export type RequireRule = { kind: 'valid-user' } | { kind: 'group' | 'ldap-group' | 'sspi-group'; name: string };

/** How Apache logs users in; Trac takes the name from REMOTE_USER. */
export interface AuthPlan {
  method: AuthMethod;
  scope: AuthScope;
  /** The protected URL space: <Location> for a path, <LocationMatch> for a regex. */
  location: { match: boolean; path: string } | null;
  /** AuthName. */
  realm: string;
  /** htpasswd (basic) or htdigest (digest) file. */
  userFile: string | null;
  groupFile: string | null;
  /** Who may log in: the Require line, as data; the template escapes it for its provider. */
  require: RequireRule;
  ldap: { url: string; bindDn: string | null; bindPasswordFile: string | null } | null;
  keytab: string | null;
  /** The .wsgi wrapper: DOMAIN\user -> user, and with stripRealm user@REALM -> user. */
  stripDomain: boolean;
  stripRealm: boolean;
}
