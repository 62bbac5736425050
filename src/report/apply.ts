import path from 'node:path';
import type { ApplyOutcome } from '../commands/outcome.js';
import type { CliContext } from '../context.js';
import { printFindings } from './findings.js';

export function applyJson(outcome: ApplyOutcome): unknown {
  const { action, target, transaction, checks, refused } = outcome.result;
  const entries = transaction?.journal?.entries ?? [];
  return {
    action,
    apacheRoot: target.root,
    family: target.family,
    changed: entries.map((e) => ({ path: e.path, before: e.before.type, after: e.after.type })),
    journal: transaction?.journal ? path.join(target.stateDir, 'transactions', transaction.journal.id, 'journal.json') : null,
    recovered: transaction?.recovered ?? [],
    reloadedPid: transaction?.reloadedPid ?? null,
    verified: transaction?.verified ?? [],
    checks,
    ...(refused ? { refused } : {}),
  };
}

/** apply as text: the checks (info on stdout, the rest on stderr), each change, the reload. */
export function printApply(outcome: ApplyOutcome, ctx: CliContext): void {
  const { action, target, transaction, checks, refused } = outcome.result;
  for (const f of checks.filter((x) => x.severity === 'info')) ctx.stdout(`checked: ${f.message}`);
  printFindings(ctx, checks.filter((x) => x.severity !== 'info'), { prefix: 'trac-deploy: ' });
  if (refused) {
    ctx.stderr(`trac-deploy: ${refused}`);
    return;
  }
  const entries = transaction?.journal?.entries ?? [];
  if (entries.length === 0) {
    const recovered = transaction?.recovered ?? [];
    ctx.stdout(recovered.length > 0 ? `${action}: undid the interrupted run ${recovered.join(', ')}` : `${action}: nothing to change in ${target.root}`);
    return;
  }
  for (const e of entries) ctx.stdout(`${e.after.type === 'absent' ? 'removed' : e.before.type === 'absent' ? 'created' : 'replaced'}: ${e.path}`);
  ctx.stdout(transaction?.reloadedPid ? `Apache (pid ${transaction.reloadedPid}) reloaded gracefully` : 'Apache was not running: not reloaded');
  for (const line of transaction?.verified ?? []) ctx.stdout(`verified: ${line}`);
}
