import type { FleetOutcome } from '../commands/outcome.js';
import type { CliContext } from '../context.js';
import { filesJson, printFiles } from './files.js';
import { printFindings } from './findings.js';

export function fleetJson(outcome: FleetOutcome): unknown {
  const { files } = outcome;
  return {
    ...(files.action === 'check' ? { drift: outcome.exitCode !== 0 } : { dryRun: files.action === 'dry-run' }),
    files: [...filesJson(files), { path: outcome.archive.path, kind: 'htdocs', status: outcome.archive.status, written: outcome.archive.written }],
    inventory: outcome.inventory,
    hosts: outcome.hosts,
    group: outcome.group,
    rules: outcome.rules,
    trac: outcome.trac,
    pipPackages: outcome.pipPackages,
    debianPackages: outcome.debianPackages,
    layout: outcome.layout,
    checks: outcome.checks,
    environments: outcome.plan.source.environments,
    plan: outcome.plan,
    problems: outcome.findings,
    run: outcome.run,
  };
}

/** fleet as text: the project's files, the connection budget, then the run's verdict per host. */
export function printFleet(outcome: FleetOutcome, ctx: CliContext): void {
  printFiles(ctx, outcome.files);
  if (outcome.files.action !== 'check') ctx.stdout(`${outcome.archive.path}: static files, ${outcome.archive.status === 'new' ? (outcome.archive.written ? 'written' : 'would be written') : 'unchanged'}`);
  for (const b of outcome.rules.budgets) {
    ctx.stderr(
      `${ctx.colors.cyan('connections')}: ${b.server}: ${b.hosts} hosts x ${b.processes} processes x ${b.threads} threads: up to ${b.pooled} with pooling, ${b.unpooled} without; max_connections ${b.maxConnections ?? 'not probed (--probe-db)'}`,
    );
  }
  printFindings(ctx, outcome.findings);
  for (const note of outcome.notes) ctx.stderr(`${ctx.colors.cyan('note')}: ${note}`);
  if (outcome.files.action === 'write' && !outcome.run) {
    ctx.stdout(`next: ansible-playbook -i ${shellWord(outcome.inventory)} ${shellWord(`${outcome.files.dir}/site.yml`)}`);
  }
  const run = outcome.run;
  if (!run) return;
  for (const host of outcome.hosts) {
    const r = run.recap[host];
    const verdict = !r
      ? 'not reached (the rollout stopped before it): keeps its previous version'
      : r.unreachable > 0
        ? 'unreachable'
        : r.failed > 0 && r.rescued > 0
          ? 'FAILED: restored to its previous configuration and reloaded'
          : r.failed > 0
            ? 'FAILED'
            : `ok (${r.changed} changed)`;
    ctx.stdout(`${host}: ${verdict}`);
  }
  if (run.exitCode === 0) ctx.stdout(`rollout done: ${outcome.hosts.length} hosts serve ${outcome.plan.name}`);
  else ctx.stderr(`${ctx.colors.red('error')}: the rollout stopped (ansible-playbook exit ${run.exitCode})`);
}

function shellWord(word: string): string {
  return /^[\w./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
