import { ApacheValueError } from './apache.js';

/**
 * Regular expressions and substitutions for AliasMatch / LocationMatch (Apache uses PCRE).
 *
 * `apacheRegexLiteral` makes text match itself inside a pattern. `apacheSubstitution` makes text
 * stand for itself in the target of AliasMatch, where ap_pregsub reads `$N` (and, in old
 * releases, `&`) as back-references unless a backslash precedes them. Both results still go
 * through apacheArg for quoting: neither puts a backslash before `"` or another backslash, so
 * quoting cannot change them.
 *
 * A backslash in a substitution cannot be written the same way for every Apache 2.4 release
 * (newer ones read `\\` inside quotes as one backslash, older ones as two), so it is refused.
 */
export function apacheRegexLiteral(text: string): string {
  if (text.includes('\\')) throw new ApacheValueError(text, 'a backslash cannot be matched the same way by every Apache 2.4 release');
  return text.replace(/[\^$.|?*+()[\]{}]/g, '\\$&');
}

export function apacheSubstitution(text: string): string {
  const problem = substitutionProblem(text);
  if (problem) throw new ApacheValueError(text, problem);
  return text.replace(/[$&]/g, '\\$&');
}

/** Why a directory cannot be an AliasMatch target, or null when it can. */
export function substitutionProblem(text: string): string | null {
  return text.includes('\\') ? 'a backslash in an AliasMatch target cannot be written the same way for every Apache 2.4 release' : null;
}
