import path from 'node:path';
import type { DeployOutcome } from '../commands/outcome.js';
import type { CliContext } from '../context.js';
import type { SyncPlan } from '../write/syncHtdocs.js';
import { filesJson, printFiles } from './files.js';
import { printFindings } from './findings.js';

export function deployJson(outcome: DeployOutcome): unknown {
  const r = outcome.result;
  const sync = r.htdocs;
  if (r.files.action === 'check') {
    const htdocsDrift = sync.entries.filter((e) => e.status !== 'unchanged').map((e) => ({ path: path.join(sync.htdocs, e.rel), status: e.status, ...(e.reason ? { reason: e.reason } : {}) }));
    return { drift: outcome.exitCode !== 0, files: [...filesJson(r.files), ...htdocsDrift], plan: r.plan };
  }
  const written = r.files.action === 'write';
  const htdocsFiles = sync.entries.map((e) => ({ path: path.join(sync.htdocs, e.rel), kind: 'htdocs' as const, status: e.status, written: written && e.status !== 'unchanged' }));
  return {
    dryRun: r.files.action === 'dry-run',
    files: [...filesJson(r.files), ...htdocsFiles],
    htdocs: countStatuses(sync),
    providers: r.providers,
    python: r.python,
    trac: r.trac,
    environments: r.plan.source.environments,
    plan: r.plan,
    problems: outcome.findings,
  };
}

/** deploy as text, as trac-admin deploy lists its providers, then what became of each file. */
export function printDeploy(outcome: DeployOutcome, ctx: CliContext): void {
  const r = outcome.result;
  const sync = r.htdocs;
  printFindings(ctx, outcome.findings);
  if (r.files.action === 'check') {
    const lines = sync.entries
      .filter((e) => e.status !== 'unchanged' && e.status !== 'skipped')
      .map((e) => `${e.status === 'added' ? 'missing' : e.status === 'replaced' ? 'differs' : 'stale'}: ${path.join(sync.htdocs, e.rel)}`);
    printFiles(ctx, r.files, lines, `${r.files.files.length} scripts and configuration, ${sync.entries.length} static files in ${sync.htdocs}`, skippedLines(sync));
    return;
  }
  ctx.stdout('Copying resources from:');
  for (const provider of r.providers) {
    ctx.stdout(`  ${provider.name}`);
    for (const d of provider.dirs) ctx.stdout(`    ${d.dir}${d.copied ? '' : d.notCopied ? ` (not copied: ${d.notCopied})` : ' (missing, nothing to copy)'}`);
  }
  const counts = countStatuses(sync);
  const dryRun = r.files.action === 'dry-run';
  const would = dryRun ? 'would be ' : '';
  ctx.stdout(
    `${sync.htdocs}: ${sync.entries.length - counts.removed} static files; ${would}added ${counts.added}, ${would}replaced ${counts.replaced}, unchanged ${counts.unchanged}, ${would}removed ${counts.removed}${counts.skipped > 0 ? `, not compared ${counts.skipped}` : ''}`,
  );
  for (const line of skippedLines(sync)) ctx.stdout(`  ${line}`);
  for (const e of sync.entries) {
    if (e.status === 'replaced' || e.status === 'removed') ctx.stdout(`  ${dryRun ? `would be ${e.status}` : e.status}: ${path.join(sync.htdocs, e.rel)}`);
  }
  printFiles(ctx, { ...r.files, files: r.files.files.map(({ preview: _preview, ...f }) => f) });
  for (const note of r.plan.notes) ctx.stderr(`${ctx.colors.cyan('note')}: ${note}`);
}

/** One line per reason for the static files not compared (skipped): how many, and why. */
function skippedLines(sync: SyncPlan): string[] {
  const byReason = new Map<string, number>();
  for (const e of sync.entries) if (e.status === 'skipped') byReason.set(e.reason ?? 'not compared', (byReason.get(e.reason ?? 'not compared') ?? 0) + 1);
  return [...byReason].map(([reason, n]) => `skipped: ${n} static file${n === 1 ? '' : 's'} in ${sync.htdocs} (${reason})`);
}

function countStatuses(sync: SyncPlan): Record<'added' | 'replaced' | 'unchanged' | 'removed' | 'skipped', number> {
  const counts = { added: 0, replaced: 0, unchanged: 0, removed: 0, skipped: 0 };
  for (const e of sync.entries) counts[e.status]++;
  return counts;
}
