/**
 * What a command found worth telling: an inspect problem, an apply machine check, a smoke
 * diagnosis. One type, so one printer and one JSON shape serve them all.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable identifier for scripts: `trac-ini-unreadable`, `mod-wsgi-missing`, ... */
  code: string;
  severity: Severity;
  /** One line: what is wrong (or, for info, what was checked). */
  message: string;
  /** The file or directory it concerns. */
  path?: string;
  /** What to do, one step a line. */
  advice?: string[];
  /** The lines of Apache's error log (or the page) that show it. */
  log?: string[];
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Worst first, the order within a severity kept. */
export function worstFirst(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
}

export function errorsIn(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === 'error');
}
