import type { CliContext } from '../context.js';
import type { Problem } from '../inspect/types.js';

/** Problems as lines for stderr, worst first. */
export function printProblems(ctx: CliContext, problems: Problem[]): void {
  const order = { error: 0, warning: 1, info: 2 } as const;
  for (const p of [...problems].sort((a, b) => order[a.severity] - order[b.severity])) {
    const label =
      p.severity === 'error' ? ctx.colors.red('error') : p.severity === 'warning' ? ctx.colors.yellow('warning') : ctx.colors.cyan('note');
    ctx.stderr(`${label}: ${p.message}`);
  }
}
