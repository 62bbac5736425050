/**
 * Arguments for Apache httpd configuration files.
 *
 * Apache splits directive lines with ap_getword_conf: inside double quotes a backslash escapes a
 * following double quote (and, in the 2.4.71 measured here, a following backslash too), and
 * `${NAME}` is replaced by a Define or an environment variable anywhere on the line, quoted or not. Some values therefore cannot be written at all;
 * these helpers throw an ApacheValueError naming the reason instead of producing a config that
 * means something else.
 */
export class ApacheValueError extends Error {
  constructor(
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(value)} cannot be written into an Apache configuration: ${reason}`);
    this.name = 'ApacheValueError';
  }
}

/** Why a value cannot go into an Apache argument, or null when it can. */
export function apacheProblem(value: string): string | null {
  if (/[\r\n\0]/.test(value)) return 'it contains a line break or NUL character';
  if (value.includes('${')) return 'Apache would expand "${" as a variable reference';
  if (value.endsWith('\\')) return 'it ends with a backslash, which would escape the closing quote';
  // Apache 2.4.71 reads \\ inside quotes as one backslash, older parsers as two: a backslash
  // before a quote or another backslash has no meaning every Apache agrees on.
  if (/\\["\\]/.test(value)) return 'it has a backslash before a quote or another backslash, which Apache releases read differently';
  if (value.length === 0) return 'it is empty';
  return null;
}

/** A double-quoted Apache argument (a path, a name, an option=value pair). */
export function apacheArg(value: string): string {
  const problem = apacheProblem(value);
  if (problem) throw new ApacheValueError(value, problem);
  return '"' + value.replace(/"/g, '\\"') + '"';
}

/**
 * The path of a <Directory> section. Apache treats a path containing `*`, `?` or a `[...]`
 * class (apr_fnmatch_test) as a wildcard
 * pattern; such a directory cannot be named exactly, so it is refused.
 */
export function apacheDirectory(path: string): string {
  if (/[*?[]/.test(path)) {
    throw new ApacheValueError(path, 'Apache reads "*", "?" and "[...]" in a <Directory> path as wildcards');
  }
  return apacheArg(path);
}

/**
 * A mod_wsgi `key=value` option. mod_wsgi reads the name up to `=` and the value with
 * ap_getword_conf, so the value alone is quoted: `python-home="/srv/my venv"`.
 */
export function apacheOption(key: string, value: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new ApacheValueError(key, 'not a mod_wsgi option name');
  return `${key}=${apacheArg(value)}`;
}

/**
 * An argument of `Require <provider> ...` for providers that evaluate it as an ap_expr string
 * (authz_groupfile's `group`, authnz_ldap's `ldap-group`): there a backslash escapes the next
 * character and `%{...}` and `$N` are expanded. Measured here: `Require group "CORP\devs"` never
 * matches the group CORP\devs, `Require group "CORP\\devs"` does. With `quote` the value is also
 * double-quoted for providers that then split words (group); ldap-group takes the whole rest
 * of the line as one DN and must not be quoted.
 */
export function apacheRequireExpr(value: string, { quote }: { quote: boolean }): string {
  const problem =
    apacheProblem(value) ??
    (value.includes('"') ? 'it contains a double quote' : null) ??
    (/%\{|\$\d/.test(value) ? 'Apache would expand "%{" or "$N" in a Require argument' : null) ??
    (value !== value.trim() ? 'it starts or ends with white space' : null);
  if (problem) throw new ApacheValueError(value, problem);
  const escaped = value.replace(/\\/g, '\\\\');
  return quote ? `"${escaped}"` : escaped;
}

/**
 * Why a realm cannot be an AuthName, or null. Apache 2.4 evaluates AuthName as an ap_expr string
 * and sends the result in `WWW-Authenticate: Basic realm="..."` (Digest likewise): control
 * characters make every request answer 500.
 */
export function authNameProblem(value: string): string | null {
  if (value.length === 0) return 'it is empty';
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) return 'it is not valid Unicode (an unpaired surrogate)';
  // Measured (2.4.71, Basic and Digest): Apache escapes a `"` in the realm as `\"`, but sends a
  // backslash bare, which browsers and curl read as a quoted-pair escape: Corp\Dev arrives as
  // CorpDev, and every digest login fails.
  if (value.includes('\\')) return 'Apache sends a backslash in the realm unescaped, so browsers drop it (Corp\\Dev arrives as CorpDev and digest logins fail); leave it out';
  if (/[\x00-\x1f\x7f]/.test(value)) return 'it contains a control character (Apache answers every request with 500)';
  return null;
}

/**
 * An AuthName argument that the browser receives byte for byte. Apache 2.4 evaluates AuthName
 * as an ap_expr string: `%{VAR}` is expanded (`%{HTTP_HOST}` would show the client's Host
 * header), `$1` substituted, a backslash escapes the next character, and an unterminated `%{`
 * fails the configuration test. Every backslash, `%`, `$` and `"` is therefore written as an ap_expr
 * octal escape (`\134`, `\045`, `\044`, `\042`; a digit after one as well): the configuration reader leaves a backslash before a
 * digit alone in every release (so none of apacheArg's version-dependent `\\` is needed), `${`
 * never appears for Define expansion, and the expression yields the characters themselves.
 */
export function apacheAuthName(value: string): string {
  const problem = authNameProblem(value);
  if (problem) throw new ApacheValueError(value, problem);
  let out = '';
  let afterEscape = false;
  for (const c of value) {
    // A digit right after an escape would extend it (ap_expr reads `\0441` as one bad escape):
    // digits that follow an escape are escaped too.
    const escaped: boolean = c === '\\' || c === '%' || c === '$' || c === '"' || (afterEscape && c >= '0' && c <= '9');
    out += escaped ? `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}` : c;
    afterEscape = escaped;
  }
  return `"${out}"`;
}
