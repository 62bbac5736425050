import fs from 'node:fs/promises';
import path from 'node:path';
import { shown, usageError } from '../errors.js';
import type { Inspection } from '../inspect/types.js';
import { apacheArg, apacheProblem, apacheRequireExpr, ApacheValueError, authNameProblem } from '../escape/apache.js';
import { apacheRegexLiteral } from '../escape/apacheRegex.js';
import type { AuthMethod, GenerateOptions } from './options.js';
import type { AuthPlan, RequireRule } from './types.js';
import { apacheSafePath } from './validate.js';

/** Modules every generated configuration needs. */
const BASE_MODULES = ['wsgi', 'authz_core'];

/** Apache modules (mod_<name>.so) per login method. */
export const AUTH_MODULES: Readonly<Record<AuthMethod, readonly string[]>> = {
  none: [],
  basic: ['auth_basic', 'authn_core', 'authn_file', 'authz_user'],
  digest: ['auth_digest', 'authn_core', 'authn_file', 'authz_user'],
  ldap: ['auth_basic', 'authn_core', 'authnz_ldap', 'ldap', 'authz_user'],
  kerberos: ['auth_gssapi', 'authz_user'],
  // Windows only (mod_authnz_sspi); written under <IfModule>, see templates/partials/auth.hbs.
  sspi: ['authnz_sspi', 'authz_user'],
};

/** Modules Debian's apache2 package enables by itself (and mod_wsgi's package enables wsgi). */
const DEBIAN_ENABLED = new Set(['access_compat', 'alias', 'auth_basic', 'authn_core', 'authn_file', 'authz_core', 'authz_host', 'authz_user', 'env', 'mime', 'setenvif', 'wsgi']);

/** How to get the modules a configuration needs loaded, for the note generate prints. */
export function moduleHint(method: AuthMethod, modules: readonly string[]): string {
  if (method === 'sspi') return 'Windows: mod_authnz_sspi, LoadModule authnz_sspi_module modules/mod_authnz_sspi.so';
  const install = method === 'kerberos' ? 'Debian: apt-get install libapache2-mod-auth-gssapi; RHEL: mod_auth_gssapi; ' : '';
  const enable = [...new Set(modules)].filter((m) => !DEBIAN_ENABLED.has(m));
  return `${install}${enable.length > 0 ? `Debian: a2enmod ${enable.join(' ')}` : 'Debian enables them by default'}`;
}

/** Flags that belong to some methods only: using them with another is a mistake worth naming. */
const METHOD_FLAGS: ReadonlyArray<[keyof GenerateOptions, string, readonly AuthMethod[]]> = [
  ['authUserFile', '--auth-user-file', ['basic', 'digest']],
  ['authGroupFile', '--auth-group-file', ['basic', 'digest']],
  ['authRequireGroup', '--auth-require-group', ['basic', 'digest', 'ldap', 'sspi']],
  ['authLdapUrl', '--auth-ldap-url', ['ldap']],
  ['authLdapBindDn', '--auth-ldap-bind-dn', ['ldap']],
  ['authLdapBindPasswordFile', '--auth-ldap-bind-password-file', ['ldap']],
  ['authKeytab', '--auth-keytab', ['kerberos']],
];

export interface AuthDecision {
  auth: AuthPlan;
  modules: string[];
  notes: string[];
}

/**
 * Every authentication decision: which URL space Apache protects, how, with what modules, and
 * what the .wsgi wrapper does to REMOTE_USER. Bad combinations are usage errors naming a flag.
 */
export async function decideAuth(inspection: Inspection, options: GenerateOptions, urlPrefix: string): Promise<AuthDecision> {
  const method = options.auth;
  const notes: string[] = [];
  for (const [key, flag, methods] of METHOD_FLAGS) {
    if (options[key] !== undefined && !methods.includes(method)) {
      throw usageError(`${flag} needs --auth ${methods.join(' or --auth ')} (got --auth ${method})`);
    }
  }
  const stripDomain = options.stripDomain;
  const stripRealm = options.stripRealm;
  const base = { stripDomain, stripRealm };
  if (method === 'none') {
    if (options.authScope === 'site') throw usageError('--auth-scope site needs a login method: add --auth basic|digest|ldap|kerberos|sspi');
    return {
      auth: { method, scope: options.authScope, location: null, realm: options.authRealm, userFile: null, groupFile: null, require: { kind: 'valid-user' }, ldap: null, keytab: null, ...base },
      modules: [...BASE_MODULES],
      notes,
    };
  }

  const realm = validateRealm(options.authRealm, method);
  const loginForms = inspection.environments.filter((e) => e.loginFormComponents.length > 0);
  if (loginForms.length > 0) {
    const which = `${loginForms.map((e) => e.name).join(', ')} enable${loginForms.length === 1 ? 's' : ''} ${loginForms[0]?.loginFormComponents.join(', ')}, which shows its own login form at /login`;
    if (options.authScope === 'login' && !options.authForce) {
      throw usageError(
        `--auth ${method}: ${which}; Apache protecting /login would hide that form behind a password prompt`,
        'Leave out --auth (the plugin does the login), or disable its LoginModule, or pass --auth-force to protect /login anyway',
      );
    }
    notes.push(`${which}; Apache asks for a password first (${options.authScope === 'site' ? '--auth-scope site' : '--auth-force'}), so users may log in twice`);
  }

  const caseSensitive = inspection.environments.filter((e) => !e.ignoreAuthCase);
  if (['ldap', 'kerberos', 'sspi'].includes(method) && caseSensitive.length > 0) {
    notes.push(`Windows and directory logins ignore case (Alice and alice log in alike) but Trac does not: set [trac] ignore_auth_case = true in ${caseSensitive.map((e) => e.name).join(', ')} so both get the same permissions`);
  }

  const location = protectedLocation(inspection.kind, urlPrefix, options.authScope);
  let userFile: string | null = null;
  let groupFile: string | null = null;
  let require: RequireRule = { kind: 'valid-user' };
  let ldap: AuthPlan['ldap'] = null;
  let keytab: string | null = null;

  if (method === 'basic' || method === 'digest') {
    if (options.authUserFile === undefined) {
      throw usageError(`--auth ${method} needs --auth-user-file FILE (an ${method === 'basic' ? 'htpasswd' : 'htdigest'} file; make one with ${method === 'basic' ? 'htpasswd -c FILE USER' : `htdigest -c FILE ${JSON.stringify(realm)} USER`})`);
    }
    userFile = await existingFile('--auth-user-file', options.authUserFile);
    if (method === 'digest') await checkDigestRealm(userFile, realm);
    if (options.authRequireGroup !== undefined) {
      if (options.authGroupFile === undefined) throw usageError(`--auth-require-group with --auth ${method} needs --auth-group-file FILE (lines "group: user1 user2")`);
      groupFile = await existingFile('--auth-group-file', options.authGroupFile);
      require = { kind: 'group', name: requireArg('--auth-require-group', options.authRequireGroup, (v) => apacheRequireExpr(v, { quote: true })) };
    } else if (options.authGroupFile !== undefined) {
      throw usageError('--auth-group-file is used only with --auth-require-group GROUP; add it or leave the group file out');
    }
  } else if (method === 'ldap') {
    const url = options.authLdapUrl;
    if (url === undefined) throw usageError('--auth ldap needs --auth-ldap-url, e.g. "ldap://dc.example.com/dc=example,dc=com?sAMAccountName?sub?(objectClass=user)"');
    if (!/^ldaps?:\/\/|^ldapi:\/\//i.test(url)) throw usageError(`--auth-ldap-url ${JSON.stringify(url)} must start with ldap://, ldaps:// or ldapi://`);
    const bindDn = options.authLdapBindDn ?? null;
    let bindPasswordFile: string | null = null;
    if (options.authLdapBindPasswordFile !== undefined) {
      if (bindDn === null) throw usageError('--auth-ldap-bind-password-file needs --auth-ldap-bind-dn');
      bindPasswordFile = await existingFile('--auth-ldap-bind-password-file', options.authLdapBindPasswordFile);
      // AuthLDAPBindPassword "exec:/bin/cat FILE": Apache splits the command at white space.
      if (/[\s"'\\]/.test(bindPasswordFile)) {
        throw usageError(`--auth-ldap-bind-password-file ${bindPasswordFile}: Apache runs "cat FILE" to read it and cannot pass a path with spaces, quotes or backslashes; move the file`);
      }
      // Apache reads it as root at start: no one else needs to.
      const mode = (await fs.stat(bindPasswordFile)).mode & 0o777;
      if (mode & 0o006) {
        notes.push(
          `warning: --auth-ldap-bind-password-file ${bindPasswordFile} is ${mode & 0o002 ? 'writable' : 'readable'} by every user on this machine (mode ${mode.toString(8).padStart(4, '0')}); Apache reads it as root at start, so chmod 600 it`,
        );
      }
    } else if (bindDn !== null) {
      notes.push('--auth-ldap-bind-dn without --auth-ldap-bind-password-file: Apache binds with that DN and an empty password, which most directories treat as anonymous');
    }
    for (const [flag, value] of [['--auth-ldap-url', url], ['--auth-ldap-bind-dn', bindDn]] as const) {
      const problem = value === null ? null : apacheProblem(value);
      if (problem) throw usageError(`${flag} ${JSON.stringify(value)} cannot be used in an Apache configuration: ${problem}`);
    }
    ldap = { url, bindDn, bindPasswordFile };
    if (options.authRequireGroup !== undefined) {
      require = { kind: 'ldap-group', name: requireArg('--auth-require-group', options.authRequireGroup, (v) => apacheRequireExpr(v, { quote: false })) };
    }
  } else if (method === 'kerberos') {
    if (options.authKeytab !== undefined) keytab = await existingFile('--auth-keytab', options.authKeytab);
    if (!stripRealm) notes.push('mod_auth_gssapi sets REMOTE_USER to user@REALM; add --strip-realm for plain Trac user names (or GssapiLocalName On)');
  } else if (method === 'sspi') {
    notes.push('--auth sspi: mod_authnz_sspi exists for Windows only; the block is written under <IfModule mod_authnz_sspi.c>, and without the module the protected URLs answer 403');
    if (!stripDomain) notes.push('SSPI sets REMOTE_USER to DOMAIN\\user; add --strip-domain for plain Trac user names');
    if (options.authRequireGroup !== undefined) {
      // mod_authnz_sspi reads its arguments raw, word by word (ap_getword_conf): quote them.
      require = { kind: 'sspi-group', name: requireArg('--auth-require-group', options.authRequireGroup, apacheArg) };
    }
  }

  return {
    auth: { method, scope: options.authScope, location, realm, userFile, groupFile, require, ldap, keytab, ...base },
    modules: [...BASE_MODULES, ...AUTH_MODULES[method], ...(groupFile ? ['authz_groupfile'] : [])],
    notes,
  };
}

/**
 * One environment: <Location "<prefix>/login">. A parent dir: every project's /login, as a
 * regex anchored at the start and ending at a path segment like <Location>. Trac itself
 * answers /login and /login/ (trac/web/auth.py match_request).
 */
export function protectedLocation(kind: 'environment' | 'parent', urlPrefix: string, scope: 'login' | 'site'): { match: boolean; path: string } {
  const base = urlPrefix === '/' ? '' : urlPrefix;
  if (scope === 'site') return { match: false, path: urlPrefix };
  if (kind === 'environment') return { match: false, path: `${base}/login` };
  return { match: true, path: `^${apacheRegexLiteral(base)}/[^/]+/login(/|$)` };
}

function validateRealm(realm: string, method: AuthMethod): string {
  const problem = authNameProblem(realm) ?? (method === 'digest' && realm.includes(':') ? 'an htdigest realm cannot contain ":"' : null);
  if (problem) throw usageError(`--auth-realm ${JSON.stringify(realm)} cannot be used: ${problem}`);
  return realm;
}

/** The value, unescaped, once the escaping the template will apply has accepted it. */
function requireArg(flag: string, value: string, escape: (v: string) => string): string {
  try {
    escape(value);
    return value;
  } catch (error) {
    if (error instanceof ApacheValueError) throw usageError(`${flag} ${JSON.stringify(value)} cannot be written into a Require line: ${error.reason}`);
    throw error;
  }
}

async function existingFile(flag: string, file: string): Promise<string> {
  const resolved = path.resolve(file);
  const stat = await fs.stat(resolved).catch(() => null);
  if (!stat) throw usageError(`${flag} ${shown(resolved)}: no such file`);
  if (!stat.isFile()) throw usageError(`${flag} ${shown(resolved)} is not a file`);
  return apacheSafePath(flag, resolved);
}

/** mod_auth_digest finds a user only under the realm of AuthName: "user:realm:hash" lines. */
async function checkDigestRealm(file: string, realm: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw usageError(`--auth-user-file ${file} cannot be read: ${error.code ?? error.message}`);
  });
  const realms = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const parts = line.split(':');
    if (parts.length >= 3 && parts[1] !== undefined) realms.add(parts[1]);
  }
  if (realms.size === 0) throw usageError(`--auth-user-file ${file} holds no htdigest lines ("user:realm:hash"); make it with htdigest -c ${file} ${JSON.stringify(realm)} USER`);
  if (!realms.has(realm)) {
    throw usageError(`--auth-realm ${JSON.stringify(realm)} does not match the realm${realms.size === 1 ? '' : 's'} in ${file} (${[...realms].map((r) => JSON.stringify(r)).join(', ')}); digest logins would all fail`);
  }
}
