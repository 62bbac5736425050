import type { ApacheSyntax, Mode } from './options.js';

/** Every decision of a deployment in one pure, JSON-serialisable object. */
export interface DeploymentPlan {
  /** What is being deployed: one environment or a parent directory of environments. */
  source: {
    kind: 'environment' | 'parent';
    path: string;
    environments: { name: string; path: string; projectName: string | null }[];
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
  } | null;
  python: {
    /** The virtualenv; in embedded mode its site-packages is added by the script itself. */
    home: string | null;
    siteDirs: string[];
    eggCache: string;
  };
  pool: {
    disable: boolean;
    /** Backends whose pooling the script switches off. */
    backends: ('postgres' | 'mysql')[];
    reason: string;
  };
  auth: { stripDomain: boolean };
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

export interface RenderedFile {
  path: string;
  kind: 'wsgi' | 'apache' | 'cgi' | 'fcgi' | 'htdocs' | 'ci' | 'hello';
  content: string;
  /** File mode; scripts are executable like trac-admin's. */
  mode: number;
}
