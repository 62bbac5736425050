import type { CliContext } from '../context.js';
import type { Finding } from './checks.js';

/**
 * Print the errors and warnings of the machine checks on stderr, each as a
 * "trac-deploy: error|warning: ..." line. Returns the error count; info findings are part of
 * the result on stdout instead.
 */
export function printFindings(findings: Finding[], ctx: CliContext): number {
  for (const f of findings) {
    if (f.severity === 'info') continue;
    const label = f.severity === 'error' ? ctx.colors.red('error') : ctx.colors.yellow('warning');
    ctx.stderr(`trac-deploy: ${label}: ${f.message}`);
  }
  return findings.filter((f) => f.severity === 'error').length;
}
