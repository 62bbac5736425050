/** The module that provides a directive Apache called an "Invalid command" (not loaded). */
const PROVIDERS: ReadonlyArray<[RegExp, string]> = [
  [/^WSGI/i, 'wsgi'],
  [/^XSendFile/i, 'xsendfile'],
  [/^AuthLDAP/i, 'authnz_ldap'],
  [/^AuthDigest/i, 'auth_digest'],
  [/^AuthGroupFile$/i, 'authz_groupfile'],
  [/^Gssapi/i, 'auth_gssapi'],
  [/^Expires/i, 'expires'],
  [/^(Request)?Header$/i, 'headers'],
  [/^(Alias|AliasMatch|ScriptAlias)$/i, 'alias'],
  [/^(Order|Allow|Deny)$/i, 'access_compat'],
];

/**
 * For configtest output with `Invalid command 'X'`: one line naming the module and how to
 * enable it on this family of systems; null when no directive of a known module is named.
 */
export function invalidCommandHint(output: string, family: 'debian' | 'rhel'): string | null {
  const directive = /Invalid command '([^']+)'/.exec(output)?.[1];
  if (!directive) return null;
  const module = PROVIDERS.find(([pattern]) => pattern.test(directive))?.[1];
  if (!module) return null;
  return family === 'debian'
    ? `${directive} needs mod_${module}, which is not enabled: a2enmod ${module}${module === 'wsgi' ? ' (apt-get install libapache2-mod-wsgi-py3)' : module === 'xsendfile' ? ' (apt-get install libapache2-mod-xsendfile)' : ''}`
    : `${directive} needs mod_${module}, which is not loaded: install its package and add its LoadModule line (conf.modules.d/)`;
}
