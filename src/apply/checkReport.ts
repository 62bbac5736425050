import type { CliContext } from '../context.js';
import type { Finding } from './checks.js';

/** Print machine-check findings on stderr (errors, warnings; info only for people). Returns the error count. */
export function checksAsProblems(findings: Finding[], ctx: CliContext, json: boolean): number {
  for (const f of findings) {
    if (json && f.severity === 'info') continue;
    const label = f.severity === 'error' ? ctx.colors.red('error') : f.severity === 'warning' ? ctx.colors.yellow('warning') : ctx.colors.cyan('check');
    ctx.stderr(`${label}: ${f.message}`);
  }
  return findings.filter((f) => f.severity === 'error').length;
}
