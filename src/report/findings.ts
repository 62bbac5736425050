import type { CliContext } from '../context.js';
import { worstFirst, type Finding } from '../findings.js';

export interface FindingStyle {
  /** Before each finding's line: '' (inspect, generate) or 'trac-deploy: ' (apply). */
  prefix?: string;
  /** The label of a finding instead of its severity (smoke: "smoke test failed", then "also"). */
  label?: (finding: Finding, index: number) => string;
}

/**
 * The one printer of findings, on stderr, worst first: "<label>: message", then its advice
 * ("  -> step") and the log lines that show it.
 */
export function printFindings(ctx: CliContext, findings: readonly Finding[], style: FindingStyle = {}): void {
  const c = ctx.colors;
  const severityLabel = (f: Finding) => (f.severity === 'error' ? c.red('error') : f.severity === 'warning' ? c.yellow('warning') : c.cyan('note'));
  for (const [index, f] of worstFirst(findings).entries()) {
    ctx.stderr(`${style.prefix ?? ''}${style.label ? style.label(f, index) : severityLabel(f)}: ${f.message}`);
    for (const line of f.advice ?? []) ctx.stderr(`  ${c.cyan('->')} ${line}`);
    const log = f.log ?? [];
    if (log.length > 0) {
      ctx.stderr(`  ${/^\[/.test(log[0] ?? '') ? "Apache's error log" : 'The page'}:`);
      for (const line of log) ctx.stderr(`    ${line}`);
    }
  }
}
