import { apacheArg, apacheDirectory } from '../escape/apache.js';
import { moduleAvailable, moduleIdentifier, type ApacheLayout } from './layout.js';

/** Modules a throwaway server loads when present: what the generated configs may use. */
export const DEFAULT_MODULES = [
  'mpm_event',
  'authz_core',
  'authz_host',
  'authz_user',
  'authz_groupfile',
  'authn_core',
  'authn_file',
  'auth_basic',
  'auth_digest',
  // generate --auth ldap / kerberos (loaded only where installed).
  'ldap',
  'authnz_ldap',
  'auth_gssapi',
  'access_compat',
  'alias',
  'mime',
  'env',
  'setenvif',
  'headers',
  'xsendfile',
  'expires',
  'wsgi',
];

export interface ServerConfigOptions {
  root: string;
  /** Loopback port; the server listens on 127.0.0.1 only. */
  port: number;
  /** Configuration files to Include, in order. */
  includes: string[];
  /** Module names (as in mod_<name>.so); missing ones are skipped. */
  modules?: string[];
  /** Drop the User/Group lines (the server is not run as root). */
  asRoot: boolean;
  logLevel?: string;
  /** Extra directives placed before the includes. */
  extra?: string;
}

/**
 * A whole httpd.conf for a server that lives in one directory: its own ServerRoot, PidFile,
 * logs and mod_wsgi sockets, listening on 127.0.0.1 only. Like Debian's apache2.conf it denies
 * access to the whole filesystem first, so a config that relies on 2.2-style rules gets the
 * 403 it would get on a real server.
 */
export function serverConfig(layout: ApacheLayout, options: ServerConfigOptions): string {
  const modules = (options.modules ?? DEFAULT_MODULES).filter((m) => moduleAvailable(layout, m));
  const lines = [
    `ServerRoot ${apacheArg(options.root)}`,
    `PidFile ${apacheArg(`${options.root}/httpd.pid`)}`,
    `DefaultRuntimeDir ${apacheArg(options.root)}`,
    `Mutex file:${options.root} default`,
    `Listen 127.0.0.1:${options.port}`,
    'ServerName 127.0.0.1',
    ...modules.map((m) => `LoadModule ${moduleIdentifier(`mod_${m}.so`)} ${apacheArg(`${layout.modulesDir}/mod_${m}.so`)}`),
    ...(options.asRoot ? [`User ${layout.user}`, `Group ${layout.group}`] : []),
    `ErrorLog ${apacheArg(`${options.root}/error.log`)}`,
    `LogLevel ${options.logLevel ?? 'warn'}`,
    'LogFormat "%h %u %>s %b \\"%r\\" %D" smoke',
    `CustomLog ${apacheArg(`${options.root}/access.log`)} smoke`,
    ...(layout.mimeTypes ? [`<IfModule mod_mime.c>`, `    TypesConfig ${apacheArg(layout.mimeTypes)}`, `</IfModule>`] : []),
    '<IfModule mod_wsgi.c>',
    `    WSGISocketPrefix ${apacheArg(`${options.root}/wsgi`)}`,
    '</IfModule>',
    'Timeout 60',
    'KeepAlive Off',
    '<IfModule mpm_event_module>',
    '    StartServers 1',
    '    ServerLimit 2',
    '    ThreadsPerChild 25',
    '    MaxRequestWorkers 50',
    '</IfModule>',
    `<Directory ${apacheDirectory('/')}>`,
    '    Options FollowSymLinks',
    '    AllowOverride None',
    '    Require all denied',
    '</Directory>',
    // Like Debian's /var/www: a granted document root of its own, so the PATH_TRANSLATED
    // lookups mod_wsgi makes for every request do not log "client denied" for /var/www/html.
    `DocumentRoot ${apacheArg(`${options.root}/htdocs`)}`,
    `<Directory ${apacheDirectory(`${options.root}/htdocs`)}>`,
    '    Require all granted',
    '</Directory>',
    ...(options.extra ? [options.extra] : []),
    ...options.includes.map((file) => `Include ${apacheArg(file)}`),
    '',
  ];
  return lines.join('\n');
}
