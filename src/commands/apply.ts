import { machineChecks } from '../apply/checks.js';
import { readDeployedSite } from '../apply/deployedSite.js';
import { holdsAfter, listJournals, loadState, saveJournal } from '../apply/journal.js';
import { installChanges } from '../apply/installChanges.js';
import { runTransaction, type Change, type TransactionResult } from '../apply/transaction.js';
import { mountCheckOf } from '../apply/serverCheck.js';
import { resolveTarget, type ApacheTarget, type TargetOptions } from '../apply/target.js';
import { EXIT, usageError } from '../errors.js';
import { errorsIn, type Finding } from '../findings.js';
import type { ApplyOutcome } from './outcome.js';

export interface ApplyArgs extends TargetOptions {
  dir?: string | undefined;
  rollback: boolean;
  force: boolean;
  reload: boolean;
  skipChecks: boolean;
  /** Progress of the transaction (stderr). */
  log?: (line: string) => void;
}

/** What apply or rollback did; the CLI prints it. */
export interface ApplyResult {
  action: 'apply' | 'rollback';
  target: ApacheTarget;
  transaction: TransactionResult | null;
  checks: Finding[];
  /** Why nothing was changed, when the machine checks failed. */
  refused: string | null;
}

/**
 * `apply DIR`: install the Apache snippets generate wrote into DIR into the system's Apache
 * (Debian: conf-available + the conf-enabled link a2enconf would make; RHEL: conf.d) and
 * reload it gracefully, or undo the last apply (`--rollback`).
 */
export async function runApply(args: ApplyArgs): Promise<ApplyOutcome> {
  if (args.rollback) {
    if (args.dir) throw usageError('--rollback takes no directory: it undoes the last apply');
    return runRollback(args);
  }
  if (!args.dir) throw usageError('name the directory trac-deploy generate wrote (apply DIR), or use --rollback');
  const site = await readDeployedSite(args.dir);
  const target = await resolveTarget(args);

  let findings: Finding[] = [];
  if (!args.skipChecks) {
    findings = await machineChecks(target, site);
    const errors = errorsIn(findings).length;
    if (errors > 0) {
      const refused = `${errors} machine check${errors === 1 ? '' : 's'} failed; nothing was changed. Fix ${errors === 1 ? 'it' : 'them'}, or pass --skip-checks`;
      return { kind: 'apply', exitCode: EXIT.failed, result: { action: 'apply', target, transaction: null, checks: findings, refused } };
    }
  }

  const result = await runTransaction({
    target,
    kind: 'apply',
    source: site.dir,
    reload: args.reload,
    mounts: site.plans.map(mountCheckOf),
    log: args.log ?? (() => {}),
    changes: async () => {
      const install = await installChanges(target, site, args.force);
      findings = [...findings, ...install.findings];
      return install.changes;
    },
  });
  return { kind: 'apply', exitCode: EXIT.ok, result: { action: 'apply', target, transaction: result, checks: findings, refused: null } };
}

async function runRollback(args: ApplyArgs): Promise<ApplyOutcome> {
  const target = await resolveTarget(args);
  let undone: Awaited<ReturnType<typeof listJournals>>[number] | undefined;
  const result = await runTransaction({
    target,
    kind: 'rollback',
    source: '',
    reload: args.reload,
    // Undoing an apply made while Apache ran: Apache runs afterwards, whatever stopped it since.
    startIfStopped: () => Boolean(undone?.serverPid),
    log: args.log ?? (() => {}),
    changes: async (recovered) => {
      // Undoing the run that was killed midway is all a rollback does then: the last completed
      // apply before it stays in place (one rollback undoes one run, never two).
      if (recovered.length > 0) return [];
      undone = (await listJournals(target)).filter((j) => j.kind === 'apply' && j.status === 'applied').pop();
      if (!undone) throw usageError(`nothing to roll back: no completed apply is recorded in ${target.stateDir}`);
      const changes: Change[] = [];
      for (const entry of [...undone.entries].reverse()) {
        if (!args.force && !(await holdsAfter(entry))) {
          throw usageError(`${entry.path} changed since the apply ${undone.id}; nothing was rolled back. Use --force to restore it anyway`);
        }
        changes.push({ path: entry.path, after: await loadState(entry.before) });
      }
      return changes;
    },
    onCommit: async (journal) => {
      if (!undone) return;
      undone.status = 'rolled-back';
      journal.source = undone.id;
      await saveJournal(target.stateDir, journal);
      await saveJournal(target.stateDir, undone);
    },
  });
  return { kind: 'apply', exitCode: EXIT.ok, result: { action: 'rollback', target, transaction: result, checks: [], refused: null } };
}
