import type { Finding } from '../findings.js';
import type { GenerateOptions } from '../plan/options.js';

/**
 * Which question a finding concerns, by its code, so the wizard shows it where the answer can
 * act on it. Inspect's codes are matched; the preflight's (the Python, Subversion bindings,
 * plugins that fail to load) fall under the patterns, so its findings land at the right question
 * without a change here. The first pattern that matches wins; a finding no pattern matches (the
 * Apache user's access, say) is shown before the first question, one for an unasked question
 * (answered by a flag) after the last.
 */
const AT_QUESTION: ReadonlyArray<readonly [RegExp, keyof GenerateOptions]> = [
  [/^login-/, 'auth'],
  [/python|import|svn|subversion|binding|plugin|egg|connector/, 'pythonHome'],
  [/^domain-users$/, 'stripDomain'],
  [/^database-/, 'pool'],
  [/^url-|^prefix-/, 'urlPrefix'],
];

export type FindingPlace = keyof GenerateOptions | 'general';

export function questionOf(finding: Finding): FindingPlace {
  for (const [pattern, key] of AT_QUESTION) if (pattern.test(finding.code)) return key;
  return 'general';
}

/**
 * Findings handed out once each: `at(key)` returns those for a question not yet shown,
 * `rest()` every one still unshown (for questions that were answered by flags or skipped).
 */
export function findingsByQuestion(findings: readonly Finding[]): { at: (place: FindingPlace) => Finding[]; rest: () => Finding[] } {
  const unshown = [...findings];
  const take = (keep: (f: Finding) => boolean) => {
    const taken = unshown.filter(keep);
    for (const f of taken) unshown.splice(unshown.indexOf(f), 1);
    return taken;
  };
  return { at: (place) => take((f) => questionOf(f) === place), rest: () => take(() => true) };
}

/** A finding as the wizard shows it above a question: one line, then its advice indented. */
export function formatFinding(f: Finding): string {
  const lines = [`${f.severity}: ${f.message}${f.path ? ` (${f.path})` : ''}`, ...(f.advice ?? []).map((a) => `  -> ${a}`)];
  return lines.join('\n');
}
