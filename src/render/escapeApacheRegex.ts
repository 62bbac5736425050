/**
 * Regular expressions and substitutions for AliasMatch / LocationMatch (Apache uses PCRE).
 *
 * `apacheRegexLiteral` makes text match itself inside a pattern. `apacheSubstitution` makes text
 * stand for itself in the target of AliasMatch, where ap_pregsub reads `$N` (and, in old
 * releases, `&`) as back-references and a backslash as an escape of the next character. The
 * results still go through apacheArg for quoting.
 */
export function apacheRegexLiteral(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

export function apacheSubstitution(text: string): string {
  return text.replace(/[\\$&]/g, '\\$&');
}
